using Emu.Host.Bench;

namespace Emu.Tests.Host;

/// <summary>
/// The benchmark's workload is checked here for what does not depend on the machine's speed: every frame arrives, and
/// the steady-state packet path allocates nothing (DESIGN.md performance rules). Speed is `emu bench`'s business.
/// </summary>
public sealed class BenchTests
{
    [Theory]
    [InlineData(60)]
    [InlineData(1514)]
    public void SteadyStateMovesEveryFrameWithoutAllocating(int size)
    {
        var bench = new DeviceBench(size);
        bench.Run(20_000);
        BenchResult result = bench.Run(50_000);
        Assert.Equal(50_016, result.Frames);   // whole batches of 32
        Assert.Equal(0, result.Drops);
        Assert.Equal(0.0, result.BytesAllocatedPerFrame);
    }

    [Theory]
    [InlineData(60)]
    [InlineData(1514)]
    public void ArmedPlanWhoseFiltersMatchNothingAllocatesNothing(int size)
    {
        // Every wire kind armed in both directions, filtered to UDP port 9 (the bench's frames are EtherType 0x88B5).
        string[] specs =
        [
            "loss,prob=0.5,proto=udp,port=9", "loss-ge,p=0.1,ethertype=ipv6", "loss-4state,p13=0.1,ethertype=ipv6", "corrupt,tcpflags=S",
            "duplicate,proto=tcp", "reorder,gap=2,time=1ms,proto=icmpv6", "delay,time=1ms,jitter=1ms,ethertype=0x0800", "rate,bps=1m,len=2000-3000",
            "slot,min=1ms,ethertype=ipv6", "truncate,len=20,ethertype=ipv6",
        ];
        Assert.True(Emu.Emulator.Faults.FaultPlan.TryCreate(1, specs, null, out Emu.Emulator.Faults.FaultPlan? plan, out string? error), error);
        var bench = new DeviceBench(size, faults: plan);
        bench.Run(20_000);
        BenchResult result = bench.Run(50_000);
        Assert.Equal(50_016, result.Frames);
        Assert.Equal(0, result.Drops);
        Assert.Equal(0.0, result.BytesAllocatedPerFrame);
        Assert.All(plan.Faults, f => Assert.Equal(0, f.Fired));
    }

    [Fact]
    public void TableNamesTheFigures()
    {
        var writer = new StringWriter();
        BenchCommand.Print([new BenchResult(60, 1000, 0, TimeSpan.FromMilliseconds(1), 0)], writer);
        string table = writer.ToString();
        Assert.Contains("Mpps", table);
        Assert.Contains("bytes allocated/frame", table);
        Assert.Contains("1.000", table);
    }
}

/// <summary>The driver benchmark's path (net core, driver, device, wire, NAPI) allocates nothing per frame.</summary>
public sealed class DriverBenchTests
{
    [Theory]
    [InlineData(60)]
    [InlineData(1514)]
    public void SteadyStateDeliversEveryFrameWithoutAllocating(int size)
    {
        var bench = new DriverBench(size);
        bench.Run(20_000);
        BenchResult result = bench.Run(20_000);
        Assert.Equal(20_000, result.Frames);
        Assert.Equal(0, result.Drops);
        Assert.Equal(0.0, result.BytesAllocatedPerFrame);
    }
}

/// <summary>The UDP benchmark's path (sockets, UDP, IPv6, neighbour, driver, device and back) allocates nothing per datagram.</summary>
public sealed class UdpBenchTests
{
    [Theory]
    [InlineData(64)]
    [InlineData(1400)]
    public void SteadyStateDeliversEveryDatagramWithoutAllocating(int size)
    {
        var bench = new UdpBench(size);
        bench.Run(20_000);
        BenchResult result = bench.Run(20_000);
        Assert.Equal(20_000, result.Frames);
        Assert.Equal(0, result.Drops);
        Assert.Equal(0.0, result.BytesAllocatedPerFrame);
    }

    [Fact]
    public void CommandPrintsItsTable()
    {
        var output = new StringWriter();
        Assert.Equal(0, Emu.Host.EmuCommandLine.Run(["bench", "udp", "--datagrams", "1000", "--sizes", "64"], TextReader.Null, output, TextWriter.Null));
        Assert.Contains("k datagrams/s", output.ToString());
        Assert.Contains("bytes allocated/datagram", output.ToString());
    }
}

/// <summary>The TCP benchmark's path moves every byte and, in steady state, allocates nothing per segment.</summary>
public sealed class TcpBenchTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void SteadyStateMovesEveryByteWithoutAllocatingPerSegment(bool tso)
    {
        var bench = new TcpBench(tso);
        bench.Run(16 << 20);
        TcpBenchResult result = bench.Run(16 << 20);
        Assert.True(result.Bytes >= 16 << 20);
        Assert.Equal(0.0, result.BytesAllocatedPerSegment);
    }
}
