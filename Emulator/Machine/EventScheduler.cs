namespace Emu.Emulator.Machine;

/// <summary>
/// The virtual clock and its event queue: one per event loop. Events run in deadline order, and in arming order for
/// equal deadlines, so a run replays identically. Nothing here reads the wall clock.
/// </summary>
public sealed class EventScheduler
{
    private readonly PriorityQueue<(VirtualTimer Timer, long Generation), (long Deadline, long Sequence)> _queue = new();
    private long _sequence;

    /// <summary>Virtual time in nanoseconds since the machine was created.</summary>
    public long Now { get; private set; }

    /// <summary>Called after every event callback, e.g. to deliver interrupt line changes the callback caused.</summary>
    public event Action? AfterEvent;

    public VirtualTimer CreateTimer(string name, Action callback) => new(this, name, callback);

    internal void Enqueue(VirtualTimer timer) => _queue.Enqueue((timer, timer.Generation), (timer.Deadline, _sequence++));

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
        }
    }
}
