namespace Emu.Stack.Core;

/// <summary>
/// The node's clock as the stack sees it (the stack references no emulator type): virtual nanoseconds and one-shot
/// timers whose callbacks run on the node's event loop (Linux's hrtimer/timer_list, DESIGN.md execution model).
/// </summary>
public interface IKernelClock
{
    long Now { get; }

    IKernelTimer CreateTimer(string name, Action callback);
}

/// <summary>A re-armable one-shot timer on an <see cref="IKernelClock"/>.</summary>
public interface IKernelTimer
{
    bool IsPending { get; }

    /// <summary>The absolute deadline when pending (virtual nanoseconds); -1 otherwise.</summary>
    long Deadline { get; }

    void Arm(long deadlineNs);

    void ArmIn(long delayNs);

    void Cancel();
}
