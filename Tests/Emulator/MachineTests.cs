using Emu.Emulator.Machine;

namespace Emu.Tests.Emulator;

/// <summary>The event scheduler and guest memory.</summary>
public sealed class MachineTests
{
    [Fact]
    public void EventsRunInDeadlineOrderAndEqualDeadlinesInArmingOrder()
    {
        var scheduler = new EventScheduler();
        var log = new List<string>();
        VirtualTimer a = scheduler.CreateTimer("a", () => log.Add($"a@{scheduler.Now}"));
        VirtualTimer b = scheduler.CreateTimer("b", () => log.Add($"b@{scheduler.Now}"));
        VirtualTimer c = scheduler.CreateTimer("c", () => log.Add($"c@{scheduler.Now}"));
        c.Arm(20);
        b.Arm(10);
        a.Arm(10);
        scheduler.RunUntil(100);
        Assert.Equal(["b@10", "a@10", "c@20"], log);
        Assert.Equal(100, scheduler.Now);
    }

    [Fact]
    public void RearmingAndCancellingReplaceTheEarlierDeadline()
    {
        var scheduler = new EventScheduler();
        int fired = 0;
        VirtualTimer t = scheduler.CreateTimer("t", () => fired++);
        t.Arm(10);
        t.Arm(30);
        scheduler.RunUntil(20);
        Assert.Equal(0, fired);
        scheduler.RunUntil(30);
        Assert.Equal(1, fired);
        t.Arm(40);
        t.Cancel();
        Assert.Null(scheduler.NextDeadline);
        scheduler.RunUntil(50);
        Assert.Equal(1, fired);
    }

    [Fact]
    public void RunUntilConditionStopsAtTheTimeout()
    {
        var scheduler = new EventScheduler();
        Assert.False(scheduler.RunUntil(() => false, 1_000));
        Assert.Equal(1_000, scheduler.Now);
    }

    [Fact]
    public void MemoryIsSparseAndBoundsChecked()
    {
        var memory = new GuestMemory(1 << 20);
        Span<byte> buffer = stackalloc byte[8];
        Assert.True(memory.TryRead(0x1000, buffer));
        Assert.Equal(0, memory.AllocatedPages);
        Assert.True(memory.TryWriteUInt32(0xFFE, 0xAABBCCDD));
        Assert.Equal(2, memory.AllocatedPages);
        Assert.True(memory.TryReadUInt32(0xFFE, out uint value));
        Assert.Equal(0xAABBCCDDu, value);
        Assert.False(memory.TryWrite((1 << 20) - 2, buffer[..4]));
        Assert.False(memory.TryRead(ulong.MaxValue - 1, buffer));
        Assert.False(memory.TryFill(ulong.MaxValue, 2, 1));
    }
}
