using Emu.Emulator.Machine;
using Emu.Stack.Core;

namespace Emu.Driver.Kernel;

/// <summary>The node's <see cref="EventScheduler"/> as the stack's <see cref="IKernelClock"/>.</summary>
public sealed class SchedulerClock(EventScheduler scheduler) : IKernelClock
{
    public EventScheduler Scheduler { get; } = scheduler;

    public long Now => Scheduler.Now;

    public IKernelTimer CreateTimer(string name, Action callback) => new Timer(Scheduler.CreateTimer(name, callback));

    private sealed class Timer(VirtualTimer timer) : IKernelTimer
    {
        public bool IsPending => timer.IsPending;

        public long Deadline => timer.Deadline;

        public void Arm(long deadlineNs) => timer.Arm(deadlineNs);

        public void ArmIn(long delayNs) => timer.ArmIn(delayNs);

        public void Cancel() => timer.Cancel();
    }
}
