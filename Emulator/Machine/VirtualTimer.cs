namespace Emu.Emulator.Machine;

/// <summary>
/// A one-shot timer on a node's virtual clock (QEMU's QEMUTimer, Linux's hrtimer): armed for an absolute deadline in
/// virtual nanoseconds, re-armable and cancellable. The callback runs on the event loop, never re-entrantly.
/// </summary>
public sealed class VirtualTimer
{
    private readonly EventScheduler _scheduler;
    private readonly Action _callback;

    internal VirtualTimer(EventScheduler scheduler, string name, Action callback)
    {
        _scheduler = scheduler;
        Name = name;
        _callback = callback;
        Deadline = -1;
    }

    /// <summary>What the timer is for, for diagnostics.</summary>
    public string Name { get; }

    /// <summary>The absolute deadline in virtual nanoseconds, or -1 when not armed.</summary>
    public long Deadline { get; private set; }

    /// <summary>Generation of the current arming; stale queue entries carry an older one.</summary>
    internal long Generation { get; private set; }

    public bool IsPending => Deadline >= 0;

    /// <summary>Arms (or re-arms) the timer for an absolute virtual time; a deadline in the past fires at the next run.</summary>
    public void Arm(long deadlineNs)
    {
        if (IsPending)
        {
            _scheduler.NoteStale();
        }

        Deadline = Math.Max(deadlineNs, _scheduler.Now);
        Generation++;
        _scheduler.Enqueue(this);
    }

    /// <summary>Arms the timer <paramref name="delayNs"/> nanoseconds from now.</summary>
    public void ArmIn(long delayNs) => Arm(_scheduler.Now + Math.Max(0, delayNs));

    public void Cancel()
    {
        if (IsPending)
        {
            _scheduler.NoteStale();
        }

        Deadline = -1;
        Generation++;
    }

    internal void Fire()
    {
        Deadline = -1;
        Generation++;
        _callback();
    }
}
