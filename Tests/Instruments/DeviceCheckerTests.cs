using Emu.Emulator.E1000;
using Emu.Emulator.Instruments;
using Emu.Emulator.Machine;
using Emu.Host;
using Emu.Emulator.Wire;
using Emu.Stack.Core;
using Emu.Stack.Ipv6;
using Emu.Stack.Sockets;
using Emu.Stack.Wire;
using Emu.Tests.Emulator;
using static Emu.Emulator.E1000.E1000Bits;
using static Emu.Emulator.E1000.E1000Reg;

namespace Emu.Tests.Instruments;

/// <summary>
/// <c>--check</c>: every rule fires on a deliberately wrong driver sequence, with its manual section in the line, and
/// stays silent on Emu's own driver model through probe, self-test, traffic and close.
/// </summary>
public sealed class DeviceCheckerTests
{
    private const long Second = 1_000_000_000;
    private const ulong Ring = 0x30_0000;

    public static TheoryData<string> Rules()
    {
        var data = new TheoryData<string>();
        foreach (CheckRule rule in CheckRules.All)
        {
            data.Add(rule.Id);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Rules))]
    public void EachRuleFiresOnItsWrongSequence(string id)
    {
        CheckRule rule = CheckRules.All.Single(r => r.Id == id);
        (NicHarness h, DeviceChecker checker, StringWriter output) = Checked();
        WrongSequences[id](h);
        checker.Finish(output);
        string text = output.ToString();
        Assert.True(checker.Counts.ContainsKey(rule), $"{id} did not fire:\n{text}");
        Assert.Contains($"CHECK {id} ({rule.Section}): ", text);
        Assert.Contains($"{id} {checker.Counts[rule]}", checker.Summary());
    }

    [Fact]
    public void EveryRuleHasAWrongSequence() => Assert.Equal(CheckRules.All.Select(r => r.Id).Order(), WrongSequences.Keys.Order());

    [Fact]
    public void ARightSequenceIsSilent()
    {
        (NicHarness h, DeviceChecker checker, StringWriter output) = Checked();
        TxRing(h, enable: true);
        h.Machine.Memory.TryWrite(Ring, DataPlaneHarness.Legacy(0x31_0000, 60, TxdCmdEop | TxdCmdIfcs | TxdCmdRs));
        h.Write(Tdt, 1);
        h.Read(Icr);
        h.Write(Mdic, MdicOpRead | (1u << MdicPhyShift) | (2u << MdicRegShift));
        h.Read(Mdic);
        h.Write(Mdic, MdicOpRead | (1u << MdicPhyShift) | (3u << MdicRegShift));
        h.Read(Mdic);
        h.Write(Status, 0xFFFF_F833);   // a register test: written, then read back at once
        h.Read(Status);
        checker.Finish(output);
        Assert.True(checker.Total == 0, output.ToString());
        Assert.Contains("emu: --check: no warnings", output.ToString());
    }

    [Fact]
    public void DescriptorsQueuedBeforeTheUnitIsEnabledAreAllowed()
    {
        // Linux queues a frame that races the link-up which sets TCTL.EN: the descriptor goes when EN is set.
        (NicHarness h, DeviceChecker checker, StringWriter output) = Checked();
        TxRing(h, enable: false);
        h.Machine.Memory.TryWrite(Ring, DataPlaneHarness.Legacy(0x31_0000, 60, TxdCmdEop | TxdCmdIfcs | TxdCmdRs));
        h.Write(Tdt, 1);
        h.Write(Tctl, TctlEn | TctlPsp);
        Assert.Equal(1u, h.Read(Tdh));
        checker.Finish(output);
        Assert.True(checker.Total == 0, output.ToString());
    }

    [Fact]
    public void DescriptorsQueuedAndThenResetAwayAreNamed()
    {
        (NicHarness h, DeviceChecker checker, StringWriter output) = Checked();
        TxRing(h, enable: false);
        h.Write(Tdt, 2);
        h.Write(Ctrl, CtrlRst);
        Assert.Equal(1, checker.Counts[CheckRules.TdtWhileDisabled]);
        Assert.Contains("TDT moved 0 -> 2", output.ToString());
        Assert.Contains("the MAC was reset (CTRL.RST) before TCTL.EN was set", output.ToString());
    }

    [Fact]
    public void ARuleFloodIsPrintedUpToTheLimitAndCountedInFull()
    {
        (NicHarness h, DeviceChecker checker, StringWriter output) = Checked();
        for (int i = 0; i < 100; i++)
        {
            h.Read(0x0000C);
        }

        Assert.Equal(100, checker.Counts[CheckRules.ReservedRegister]);
        Assert.Equal(DeviceChecker.PrintLimit, output.ToString().Split('\n').Count(l => l.Contains("CHECK reserved-register", StringComparison.Ordinal)));
    }

    [Fact]
    public void OurDriverModelTriggersNoRuleThroughProbeSelfTestTrafficAndClose()
    {
        var scheduler = new EventScheduler();
        var a = new Node(Node.WithMac("52:54:00:12:34:56"), scheduler: scheduler, ipv6Seed: 1);
        var b = new Node(Node.WithMac("52:54:00:12:34:57"), scheduler: scheduler, ipv6Seed: 2);
        var output = new StringWriter { NewLine = "\n" };
        var trace = new TraceWriter(output, scheduler, TraceCategory.None);
        var checkA = new DeviceChecker(a.Machine.Nic, trace);
        var checkB = new DeviceChecker(b.Machine.Nic, trace);
        a.Machine.Nic.Probe = checkA;
        b.Machine.Nic.Probe = checkB;
        var link = new WireLink(scheduler);
        WireLink.Attach(link.A, a.Machine.Nic);
        WireLink.Attach(link.B, b.Machine.Nic);
        Assert.Equal(1, a.Boot());
        Assert.Equal(1, b.Boot());
        NetDevice devA = a.Netdev!;
        NetDevice devB = b.Netdev!;
        Assert.Equal(0, a.Kernel.Net.DevOpen(devA));
        Assert.Equal(0, b.Kernel.Net.DevOpen(devB));
        Assert.True(scheduler.RunUntil(() => devA.Carrier && devB.Carrier, 10 * Second));

        // ethtool -t offline on one side: register, EEPROM, interrupt and loopback tests, then the interface back.
        IReadOnlyList<(string Name, ulong Result)> results = devA.EthtoolOps!.SelfTest(devA, offline: true);
        Assert.All(results, r => Assert.Equal(0ul, r.Result));
        Assert.True(scheduler.RunUntil(() => devA.Carrier && a.Ipv6.Inet6(devA) is { LinkLocal.Usable: true } && b.Ipv6.Inet6(devB) is { LinkLocal.Usable: true }, 20 * Second));

        // UDP both ways, large and small.
        b.Ipv6.Sockets.Create(SockType.Dgram, IpProto.Udp, out Socket? rx);
        rx!.Bind(new Ipv6EndPoint(Ipv6Address.Unspecified, 9));
        a.Ipv6.Sockets.Create(SockType.Dgram, IpProto.Udp, out Socket? tx);
        tx!.Connect(new Ipv6EndPoint(Ipv6Address.LinkLocalFromMac(devB.DevAddr), 9, devA.IfIndex));
        for (int i = 0; i < 500; i++)
        {
            tx.Send(new byte[i % 2 == 0 ? 32 : 1400]);
            scheduler.RunFor(100_000);
        }

        scheduler.RunFor(3 * Second);
        a.Kernel.Net.DevClose(devA);
        b.Kernel.Net.DevClose(devB);
        scheduler.RunFor(Second);
        checkA.Finish(output);
        checkB.Finish(output);
        Assert.True(checkA.Total + checkB.Total == 0, output.ToString());
        Assert.True(b.Machine.Nic.Statistics.RxDelivered >= 500);
    }

    [Fact]
    public void TheHeadOutsideTheRingStopsTheEngineAndKeepsTheHead()
    {
        // Deviation tx-head-outside-ring: QEMU fetches slot 20 and wraps TDH to 0; the device stops and keeps it.
        var h = new NicHarness();
        TxRing(h, enable: true);
        h.Machine.Memory.TryWrite(Ring + (20 * 16), DataPlaneHarness.Legacy(0x31_0000, 60, TxdCmdEop | TxdCmdIfcs | TxdCmdRs));
        h.Write(Tdh, 20);
        h.Write(Tdt, 2);
        Assert.Equal(20u, h.Read(Tdh));
        Assert.Equal(1, h.Nic.Statistics[E1000DropReason.RingInvalid]);
        Assert.Equal(0u, h.Read(Tpt));
        byte[] status = new byte[1];
        h.Machine.Memory.TryRead(Ring + (20 * 16) + 12, status);
        Assert.Equal(0, status[0]);
    }

    private static (NicHarness, DeviceChecker, StringWriter) Checked()
    {
        var h = new NicHarness();
        var output = new StringWriter { NewLine = "\n" };
        var checker = new DeviceChecker(h.Nic, new TraceWriter(output, h.Machine.Scheduler, TraceCategory.None));
        h.Nic.Probe = checker;
        return (h, checker, output);
    }

    private static void TxRing(NicHarness h, bool enable, uint tdbal = (uint)Ring, uint tdlen = 0x100)
    {
        h.Write(Tdbal, tdbal);
        h.Write(Tdbah, 0);
        h.Write(Tdlen, tdlen);
        h.Write(Tdh, 0);
        h.Write(Tdt, 0);
        if (enable)
        {
            h.Write(Tctl, TctlEn | TctlPsp | (0x0F << 4) | (0x40 << 12));
        }
    }

    private static void RxRing(NicHarness h, uint rctl = RctlEn | RctlBam)
    {
        h.Write(Rdbal, 0x38_0000);
        h.Write(Rdlen, 0x100);
        h.Write(Rdh, 0);
        h.Write(Rdt, 0);
        h.Write(Rctl, rctl);
    }

    private static void Tso(NicHarness h, byte hdrlen, byte tucso)
    {
        TxRing(h, enable: true);
        h.Machine.Memory.TryWrite(Ring, DataPlaneHarness.Context(14, 24, 0, 54, tucso, 0, 1000, TxdCmdTse | TxdTucmdTcp, hdrlen, 500));
        h.Machine.Memory.TryWrite(Ring + 16, DataPlaneHarness.Data(0x31_0000, 1074, TxdCmdTse | TxdCmdEop | TxdCmdRs, TxPoptsTxsm));
        h.Write(Tdt, 2);
    }

    private static readonly Dictionary<string, Action<NicHarness>> WrongSequences = new()
    {
        ["ring-base-align"] = h =>
        {
            TxRing(h, enable: true, tdbal: (uint)Ring + 8);
            h.Write(Tdt, 1);
        },
        ["ring-length"] = h =>
        {
            TxRing(h, enable: true, tdlen: 0x108);
            h.Write(Tdt, 1);
        },
        ["tail-outside-ring"] = h =>
        {
            TxRing(h, enable: true);
            h.Write(Tdt, 20);
        },
        ["head-outside-ring"] = h =>
        {
            TxRing(h, enable: true);
            h.Write(Tdh, 20);
        },
        ["tdt-while-disabled"] = h =>
        {
            TxRing(h, enable: false);
            h.Write(Tdt, 3);
        },
        ["head-while-enabled"] = h =>
        {
            RxRing(h);
            h.Write(Rdh, 0);
        },
        ["descriptor-reclaimed"] = h =>
        {
            RxRing(h);
            h.Write(Rdt, 10);
            h.Write(Rdt, 5);
        },
        ["dma-outside-ram"] = h =>
        {
            TxRing(h, enable: true);
            h.Machine.Memory.TryWrite(Ring, DataPlaneHarness.Legacy(0xFFFF_0000_0000, 60, TxdCmdEop | TxdCmdIfcs | TxdCmdRs));
            h.Write(Tdt, 1);
        },
        ["rctl-bsize-reserved"] = h => RxRing(h, RctlEn | RctlBsex),
        ["context-offsets"] = h => Tso(h, hdrlen: 54, tucso: 60),
        ["tso-context"] = h => Tso(h, hdrlen: 0, tucso: 70),
        ["ims-never-cleared"] = h =>
        {
            h.Write(Ims, IcrTxdw);
            h.Write(Ics, IcrTxdw);
            h.Machine.Scheduler.RunFor(2 * Second);
            h.Read(Status);
        },
        ["read-write-only"] = h => h.Read(Imc),
        ["write-read-only"] = h =>
        {
            h.Write(Status, 0x1234);
            h.Read(Ctrl);
        },
        ["reserved-register"] = h => h.Read(0x0000C),
        ["eerd-during-ee-req"] = h =>
        {
            h.Write(Eecd, EecdReq);
            h.Write(Eerd, EerdStart | (3u << EerdAddrShift));
        },
        ["mdic-not-ready"] = h =>
        {
            h.Write(Mdic, MdicOpRead | (1u << MdicPhyShift) | (2u << MdicRegShift));
            h.Write(Mdic, MdicOpRead | (1u << MdicPhyShift) | (3u << MdicRegShift));
        },
    };
}
