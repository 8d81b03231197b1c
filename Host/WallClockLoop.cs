using System.Diagnostics;
using Emu.Emulator.Machine;
using Emu.Emulator.Platform;
using Emu.Emulator.Wire;

namespace Emu.Host;

/// <summary>
/// Drives a node's virtual clock from the wall clock (DESIGN.md execution model, for `emu run` and `emu device`): runs
/// the scheduler up to "now", then sleeps until the next deadline or the next posted item, whichever comes first;
/// items run at the virtual time of their arrival.
/// </summary>
public static class WallClockLoop
{
    /// <summary>
    /// How long the loop polls (yielding the core between polls) rather than sleeps: while its next timer is that close,
    /// and for that long after it served anything. A wakeup from sleep costs 20–40 µs on a virtual machine, and a QEMU
    /// guest's next register access follows a reply within about 100 µs (`emu bench vfio-user`: 32 MB took 2.5–3.1 s
    /// polling 100 µs after activity, 3.5–4.7 s sleeping at once).
    /// </summary>
    private const long SpinNs = 100_000;
    private static readonly long SpinTicks = SpinNs * Stopwatch.Frequency / 1_000_000_000;
    private static readonly TimeSpan MaxWait = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Runs until an EndOfInput item, <paramref name="duration"/> or <paramref name="stop"/>; returns the wall time it ran.
    /// <paramref name="socket"/>, when given, is a descriptor the loop also sleeps on (-1 while there is none), served on
    /// this thread when readable: `emu device` reads its vfio-user client here, with no reader thread to hand over from.
    /// </summary>
    public static TimeSpan Run(EventScheduler scheduler, NodeLoop loop, Action<LoopItem> handle, Action afterStep, TimeSpan? duration, CancellationToken stop, LoopSocket? socket = null)
    {
        Native.SetTimerSlack(1);   // the sleeps below end when the next timer is due, not 50 µs later
        var wall = Stopwatch.StartNew();
        long lastActivity = 0;
        long origin = scheduler.Now;
        long Now() => (long)(wall.Elapsed.TotalMilliseconds * 1_000_000);
        long deadline = duration is { } d ? (long)d.TotalMilliseconds * 1_000_000 : long.MaxValue;
        using CancellationTokenRegistration registration = stop.Register(() => loop.Post(new LoopItem(LoopItemKind.EndOfInput, null, null, 0, null)));
        while (true)
        {
            long elapsed = Now();
            if (elapsed >= deadline)
            {
                return wall.Elapsed;
            }

            scheduler.RunUntil(Math.Max(scheduler.Now, origin + elapsed));
            afterStep();
            long waitNs = Math.Min(MaxWait.Ticks * 100, deadline - elapsed);
            if (scheduler.NextDeadline is long next)
            {
                waitNs = Math.Min(waitNs, Math.Max(0, next - (origin + elapsed)));
            }

            bool spin = waitNs < SpinNs || Stopwatch.GetTimestamp() - lastActivity < SpinTicks;
            bool served = loop.Wait(spin ? TimeSpan.Zero : TimeSpan.FromTicks(waitNs / 100), socket?.Fd() ?? -1);
            if (served)
            {
                scheduler.RunUntil(Math.Max(scheduler.Now, origin + Now()));
                socket!.Readable();
                afterStep();
                lastActivity = Stopwatch.GetTimestamp();
            }

            while (loop.TryTake(TimeSpan.Zero, out LoopItem item))
            {
                served = true;
                if (item.Kind == LoopItemKind.EndOfInput)
                {
                    return wall.Elapsed;
                }

                scheduler.RunUntil(Math.Max(scheduler.Now, origin + Now()));
                if (item.Kind == LoopItemKind.Work)
                {
                    item.Work!();
                }
                else
                {
                    handle(item);
                }

                afterStep();
                lastActivity = Stopwatch.GetTimestamp();
            }

            if (spin && !served && waitNs > 0)
            {
                Thread.Yield();
            }
        }
    }
}

/// <summary>A descriptor a <see cref="WallClockLoop"/> sleeps on besides its inbox: which one now (-1: none), and what to do when it is readable.</summary>
public sealed record LoopSocket(Func<int> Fd, Action Readable);
