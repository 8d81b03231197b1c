using Emu.Driver.Kernel;
using Emu.Emulator.E1000;
using Emu.Emulator.Machine;
using Emu.Host;
using Emu.Stack.Core;

namespace Emu.Tests.Driver;

/// <summary>ethtool on the driver model: information, dumps, statistics, and the offline self-test.</summary>
public sealed class EthtoolTests
{
    private const long Second = 1_000_000_000;

    private static Node Booted(MachineOptions? options = null)
    {
        var node = new Node(options);
        Assert.Equal(1, node.Boot());
        return node;
    }

    [Fact]
    public void SelfTestPassesAllFivePartsOnTheModel()
    {
        Node node = Booted();
        NetDevice dev = node.Netdev!;
        node.Kernel.Net.DevOpen(dev);
        Assert.True(node.Kernel.RunUntil(() => dev.Carrier, 10 * Second));
        IReadOnlyList<(string Name, ulong Result)> results = dev.EthtoolOps!.SelfTest(dev, offline: true);
        Assert.Equal(5, results.Count);
        Assert.All(results, r => Assert.True(r.Result == 0, $"{r.Name} failed with {r.Result}: {string.Join('\n', node.Kernel.Log.Lines.TakeLast(20))}"));
        Assert.True(node.Kernel.Log.Contains("testing unshared interrupt"));

        // The interface comes back.
        Assert.True(dev.IsUp);
        Assert.True(node.Kernel.RunUntil(() => dev.Carrier, 10 * Second));
    }

    [Fact]
    public void SelfTestNamesTheEepromFailureOnACorruptImage()
    {
        EepromImage bad = EepromImage.Load(Path.Combine(AppContext.BaseDirectory, "firmware-fixtures", "eeprom", "82540em-bad-checksum.eeprom"));
        Node node = Booted(new MachineOptions { Eeprom = bad });
        NetDevice dev = node.Netdev!;
        IReadOnlyList<(string Name, ulong Result)> results = dev.EthtoolOps!.SelfTest(dev, offline: true);
        Assert.Equal(("Eeprom test    (offline)", 2UL), results[1]);
        Assert.Equal(0UL, results[0].Result);
        Assert.Equal(0UL, results[2].Result);
        Assert.Equal(0UL, results[3].Result);
    }

    [Fact]
    public void OnlineSelfTestRunsOnlyTheLinkTest()
    {
        Node node = Booted();
        NetDevice dev = node.Netdev!;
        node.Kernel.Net.DevOpen(dev);
        node.Kernel.RunUntil(() => dev.Carrier, 10 * Second);
        IReadOnlyList<(string Name, ulong Result)> results = dev.EthtoolOps!.SelfTest(dev, offline: false);
        Assert.All(results, r => Assert.Equal(0UL, r.Result));
    }

    [Fact]
    public void InformationDumpsAndStatistics()
    {
        Node node = Booted();
        NetDevice dev = node.Netdev!;
        node.Kernel.Net.DevOpen(dev);
        node.Kernel.RunUntil(() => dev.Carrier, 10 * Second);
        IEthtoolOps ops = dev.EthtoolOps!;
        EthtoolDriverInfo info = ops.GetDrvInfo(dev);
        Assert.Equal(("e1000", "0000:00:03.0", 128), (info.Driver, info.BusInfo, info.EepromLength));
        EthtoolLinkSettings link = ops.GetLinkSettings(dev);
        Assert.Equal((1000, true, true), (link.SpeedMbps, link.FullDuplex, link.Autoneg));
        Assert.True(ops.GetLink(dev));
        Assert.Equal((256, 256, 4096, 4096), ops.GetRingParam(dev));
        byte[] eeprom = ops.GetEeprom(dev);
        Assert.Equal(new byte[] { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 }, eeprom[..6]);
        uint[] regs = ops.GetRegs(dev);
        Assert.Equal(0x8008_0783u, regs[1]);
        IReadOnlyList<(string Name, ulong Value)> stats = ops.GetStats(dev);
        Assert.Equal("rx_packets", stats[0].Name);
        Assert.Contains(stats, s => s.Name == "rx_missed_errors");
        Assert.Equal(info.StatsCount, stats.Count);
    }

    [Fact]
    public void RingSizesChangeAndTheInterfaceKeepsWorking()
    {
        Node node = Booted();
        NetDevice dev = node.Netdev!;
        node.Kernel.Net.DevOpen(dev);
        node.Kernel.RunUntil(() => dev.Carrier, 10 * Second);
        Assert.Equal(NetCore.EInval, dev.EthtoolOps!.SetRingParam(dev, 16, 256));
        Assert.Equal(0, dev.EthtoolOps.SetRingParam(dev, 100, 500));
        Assert.Equal((104, 504, 4096, 4096), dev.EthtoolOps.GetRingParam(dev));
        Assert.True(node.Kernel.RunUntil(() => dev.Carrier, 10 * Second));
        ulong bar0 = node.Adapter!.Pdev.Resource(0)!.Start;
        Assert.Equal(104u * 16, (uint)node.Machine.ReadMemory(bar0 + E1000Reg.Rdlen, 4));
    }
}
