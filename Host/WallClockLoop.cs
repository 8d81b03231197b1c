using System.Diagnostics;
using Emu.Emulator.Machine;
using Emu.Emulator.Wire;

namespace Emu.Host;

/// <summary>
/// Drives a node's virtual clock from the wall clock (DESIGN.md execution model, for `emu run` and `emu device`): runs
/// the scheduler up to "now", then sleeps until the next deadline or the next posted item, whichever comes first;
/// items run at the virtual time of their arrival.
/// </summary>
public static class WallClockLoop
{
    private static readonly TimeSpan MaxWait = TimeSpan.FromMilliseconds(50);

    /// <summary>Runs until an EndOfInput item, <paramref name="duration"/> or <paramref name="stop"/>; returns the wall time it ran.</summary>
    public static TimeSpan Run(EventScheduler scheduler, NodeLoop loop, Action<LoopItem> handle, Action afterStep, TimeSpan? duration, CancellationToken stop)
    {
        var wall = Stopwatch.StartNew();
        long origin = scheduler.Now;
        long deadline = duration is { } d ? (long)d.TotalMilliseconds * 1_000_000 : long.MaxValue;
        using CancellationTokenRegistration registration = stop.Register(() => loop.Post(new LoopItem(LoopItemKind.EndOfInput, null, null, 0, null)));
        while (true)
        {
            long elapsed = (long)(wall.Elapsed.TotalMilliseconds * 1_000_000);
            if (elapsed >= deadline)
            {
                return wall.Elapsed;
            }

            scheduler.RunUntil(Math.Max(scheduler.Now, origin + elapsed));
            afterStep();
            TimeSpan wait = MaxWait;
            if (scheduler.NextDeadline is long next)
            {
                long ns = Math.Max(0, next - (origin + elapsed));
                wait = TimeSpan.FromTicks(Math.Min(MaxWait.Ticks, ns / 100));
            }

            if (!loop.TryTake(wait, out LoopItem item))
            {
                continue;
            }

            do
            {
                if (item.Kind == LoopItemKind.EndOfInput)
                {
                    return wall.Elapsed;
                }

                long now = (long)(wall.Elapsed.TotalMilliseconds * 1_000_000);
                scheduler.RunUntil(Math.Max(scheduler.Now, origin + now));
                if (item.Kind == LoopItemKind.Work)
                {
                    item.Work!();
                }
                else
                {
                    handle(item);
                }

                afterStep();
            }
            while (loop.TryTake(TimeSpan.Zero, out item));
        }
    }
}
