namespace Emu.Emulator.Machine;

/// <summary>
/// The virtual clock and its event queue: one per event loop. Events run in deadline order, and in arming order for
/// equal deadlines, so a run replays identically. Nothing here reads the wall clock.
/// </summary>
public sealed class EventScheduler
{
    private readonly PriorityQueue<(VirtualTimer Timer, long Generation), (long Deadline, long Sequence)> _queue = new();
    private readonly List<((VirtualTimer Timer, long Generation) Entry, (long Deadline, long Sequence) Key)> _compact = [];
    private long _sequence;
    private int _stale;

    /// <summary>Virtual time in nanoseconds since the machine was created.</summary>
    public long Now { get; private set; }

    /// <summary>Called after every event callback, e.g. to deliver interrupt line changes the callback caused.</summary>
    public event Action? AfterEvent;

    public VirtualTimer CreateTimer(string name, Action callback) => new(this, name, callback);

    internal void Enqueue(VirtualTimer timer)
    {
        _queue.Enqueue((timer, timer.Generation), (timer.Deadline, _sequence++));
        if (_stale > 1024 && _stale > _queue.Count / 2)
        {
            Compact();
        }
    }

    /// <summary>A pending timer was re-armed or cancelled: its old queue entry is now stale.</summary>
    internal void NoteStale() => _stale++;

    /// <summary>
    /// Drops stale entries in one pass when they outnumber the live ones: timers re-armed per packet (interrupt
    /// moderation, TCP) would otherwise grow the queue without bound between deadlines.
    /// </summary>
    private void Compact()
    {
        _compact.Clear();
        foreach (var (entry, key) in _queue.UnorderedItems)
        {
            if (entry.Generation == entry.Timer.Generation)
            {
                _compact.Add((entry, key));
            }
        }

        _queue.Clear();
        foreach (var (entry, key) in _compact)
        {
            _queue.Enqueue(entry, key);
        }

        _compact.Clear();
        _stale = 0;
    }

    /// <summary>The earliest pending deadline, or null when nothing is armed.</summary>
    public long? NextDeadline
    {
        get
        {
            DropStale();
            return _queue.TryPeek(out _, out var key) ? key.Deadline : null;
        }
    }

    /// <summary>Runs every event due at or before <paramref name="targetNs"/>, then leaves the clock there.</summary>
    public void RunUntil(long targetNs)
    {
        if (targetNs < Now)
        {
            return;
        }

        while (true)
        {
            DropStale();
            if (!_queue.TryPeek(out var entry, out var key) || key.Deadline > targetNs)
            {
                break;
            }

            _queue.Dequeue();
            Now = Math.Max(Now, key.Deadline);
            entry.Timer.Fire();
            AfterEvent?.Invoke();
        }

        // A callback may itself have run the clock on (a guest kernel sleeping in process context): never go back.
        if (targetNs > Now)
        {
            Now = targetNs;
        }
    }

    /// <summary>Advances by <paramref name="durationNs"/>, running what falls due.</summary>
    public void RunFor(long durationNs) => RunUntil(checked(Now + Math.Max(0, durationNs)));

    /// <summary>Advances to the next deadline and runs what is due there; false when nothing is pending.</summary>
    public bool Step()
    {
        long? next = NextDeadline;
        if (next is null)
        {
            return false;
        }

        RunUntil(next.Value);
        return true;
    }

    /// <summary>
    /// Runs events until <paramref name="condition"/> holds or <paramref name="timeoutNs"/> of virtual time pass;
    /// returns whether the condition held.
    /// </summary>
    public bool RunUntil(Func<bool> condition, long timeoutNs)
    {
        long limit = checked(Now + timeoutNs);
        while (!condition())
        {
            long? next = NextDeadline;
            if (next is null || next.Value > limit)
            {
                RunUntil(limit);
                return condition();
            }

            RunUntil(next.Value);
        }

        return true;
    }

    private void DropStale()
    {
        while (_queue.TryPeek(out var entry, out _) && entry.Generation != entry.Timer.Generation)
        {
            _queue.Dequeue();
            if (_stale > 0)
            {
                _stale--;
            }
        }
    }
}
