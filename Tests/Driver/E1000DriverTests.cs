using System.Buffers.Binary;
using Emu.Driver.E1000;
using Emu.Emulator.E1000;
using Emu.Emulator.Machine;
using Emu.Emulator.Wire;
using Emu.Host;
using Emu.Stack.Core;

namespace Emu.Tests.Driver;

/// <summary>The e1000 driver model against the device model, in virtual time: probe to remove, as Linux 6.1 runs it.</summary>
public sealed class E1000DriverTests
{
    private const long Second = 1_000_000_000;

    private static Node BootedNode(MachineOptions? options = null, E1000Options? driver = null, EventScheduler? scheduler = null)
    {
        var node = new Node(options, driver, scheduler);
        Assert.Equal(1, node.Boot());
        return node;
    }

    private static bool LinkUp(Node node) => node.Kernel.RunUntil(() => node.Netdev!.Carrier, 10 * Second);

    [Fact]
    public void ProbeRegistersEth0WithTheEepromAddress()
    {
        Node node = BootedNode();
        NetDevice dev = node.Netdev!;
        Assert.Equal("eth0", dev.Name);
        Assert.Equal("52:54:00:12:34:56", E1000Driver.FormatMac(dev.DevAddr));
        Assert.False(dev.Carrier);
        Assert.False(dev.IsUp);
        Assert.True(node.Kernel.Log.Contains("e1000 0000:00:03.0 eth0: Intel(R) PRO/1000 Network Connection"));
        Assert.True(node.Kernel.Log.Contains("(PCI:33MHz:32-bit) 52:54:00:12:34:56"));
        Assert.Equal(11, node.Adapter!.Pdev.Irq);
    }

    [Fact]
    public void OpenBringsTheLinkUpThroughTheWatchdog()
    {
        Node node = BootedNode();
        Assert.Equal(0, node.Kernel.Net.DevOpen(node.Netdev!));
        Assert.True(LinkUp(node));
        Assert.True(node.Kernel.Log.Contains("e1000 0000:00:03.0 eth0: NIC Link is Up 1000 Mbps Full Duplex, Flow Control: RX/TX"));
        Assert.NotEqual(0u, (uint)node.Machine.ReadMemory(node.Adapter!.Pdev.Resource(0)!.Start + E1000Reg.Tctl, 4) & E1000Bits.TctlEn);
    }

    [Fact]
    public void CarrierLossAndReturnAreLogged()
    {
        Node node = BootedNode();
        node.Kernel.Net.DevOpen(node.Netdev!);
        Assert.True(LinkUp(node));
        node.Machine.Nic.SetCarrier(false);
        node.Machine.SyncInterrupts();
        Assert.True(node.Kernel.RunUntil(() => !node.Netdev!.Carrier, Second));
        Assert.True(node.Kernel.Log.Contains("eth0: NIC Link is Down"));
        node.Machine.Nic.SetCarrier(true);
        Assert.True(LinkUp(node));
    }

    [Fact]
    public void TwoNodesExchangeFramesThroughDevQueueXmitAndNapi()
    {
        var scheduler = new EventScheduler();
        Node a = BootedNode(Node.WithMac("52:54:00:12:34:56"), scheduler: scheduler);
        Node b = BootedNode(Node.WithMac("52:54:00:12:34:57"), scheduler: scheduler);
        var link = new WireLink(scheduler);
        WireLink.Attach(link.A, a.Machine.Nic);
        WireLink.Attach(link.B, b.Machine.Nic);
        var received = new List<byte[]>();
        b.Kernel.Net.DevAddPack(0x88B5, (skb, dev) =>
        {
            received.Add(skb.DataSpan.ToArray());
            skb.Free();
        });
        a.Kernel.Net.DevOpen(a.Netdev!);
        b.Kernel.Net.DevOpen(b.Netdev!);
        Assert.True(LinkUp(a) && LinkUp(b));

        for (int i = 0; i < 10; i++)
        {
            SkBuff skb = Frame(a.Netdev!, b.Netdev!.DevAddr, 100 + i, (byte)i);
            Assert.Equal(NetCore.NetXmitSuccess, a.Kernel.Net.DevQueueXmit(skb));
        }

        Assert.True(a.Kernel.RunUntil(() => received.Count == 10, Second));
        Assert.Equal(100 + 9 - 14, received[9].Length);   // eth_type_trans pulled the Ethernet header
        Assert.Equal(9, received[9][0]);
        Assert.True(a.Kernel.RunUntil(() => a.Netdev!.Stats.TxPackets == 10, Second));
        Assert.Equal(10UL, b.Netdev!.Stats.RxPackets);
        Assert.True(b.Adapter!.Napi.Polls > 0);
    }

    [Fact]
    public void NapiOffHandsFramesToNetifRx()
    {
        var scheduler = new EventScheduler();
        Node a = BootedNode(Node.WithMac("52:54:00:12:34:56"), scheduler: scheduler);
        Node b = BootedNode(Node.WithMac("52:54:00:12:34:57"), new E1000Options { Napi = false }, scheduler);
        var link = new WireLink(scheduler);
        WireLink.Attach(link.A, a.Machine.Nic);
        WireLink.Attach(link.B, b.Machine.Nic);
        int received = 0;
        b.Kernel.Net.DevAddPack(0x88B5, (skb, dev) =>
        {
            received++;
            skb.Free();
        });
        a.Kernel.Net.DevOpen(a.Netdev!);
        b.Kernel.Net.DevOpen(b.Netdev!);
        Assert.True(LinkUp(a) && LinkUp(b));
        a.Kernel.Net.DevQueueXmit(Frame(a.Netdev!, b.Netdev!.DevAddr, 200, 1));
        Assert.True(a.Kernel.RunUntil(() => received == 1, Second));
        Assert.Equal(0, b.Adapter!.Napi.Polls);
    }

    [Fact]
    public void BadEepromChecksumZeroesTheMacAndTheInterfaceWillNotComeUp()
    {
        EepromImage bad = EepromImage.Load(Path.Combine(AppContext.BaseDirectory, "firmware-fixtures", "eeprom", "82540em-bad-checksum.eeprom"));
        Node node = BootedNode(new MachineOptions { Eeprom = bad });
        Assert.True(node.Kernel.Log.Contains("The EEPROM Checksum Is Not Valid"));
        Assert.True(node.Kernel.Log.Contains("Current EEPROM Checksum : 0x79ac"));
        Assert.True(node.Kernel.Log.Contains("Invalid MAC Address"));
        Assert.Equal("00:00:00:00:00:00", E1000Driver.FormatMac(node.Netdev!.DevAddr));
        Assert.Equal(-99, node.Kernel.Net.DevOpen(node.Netdev!));
        Assert.Equal(0, node.Kernel.Net.DevSetMacAddress(node.Netdev!, [0x02, 0, 0, 0, 0, 1]));
        Assert.Equal(0, node.Kernel.Net.DevOpen(node.Netdev!));
    }

    [Fact]
    public void InvalidMacIsReported()
    {
        EepromImage image = EepromImage.Default82540Em().WithMacAddress(System.Net.NetworkInformation.PhysicalAddress.Parse("01-00-5E-00-00-01"));
        Node node = BootedNode(new MachineOptions { Eeprom = image });
        Assert.True(node.Kernel.Log.Contains("Invalid MAC Address"));
        Assert.Equal(-99, node.Kernel.Net.DevOpen(node.Netdev!));
    }

    [Fact]
    public void RemoveUnregistersAndReleasesTheDevice()
    {
        Node node = BootedNode();
        node.Kernel.Net.DevOpen(node.Netdev!);
        LinkUp(node);
        NetDevice dev = node.Netdev!;
        var events = new List<NetdevEvent>();
        node.Kernel.Net.Notifier += (e, d) => events.Add(e);
        node.Kernel.PciUnregisterDriver(node.Driver);
        Assert.Contains(NetdevEvent.Down, events);
        Assert.Contains(NetdevEvent.Unregister, events);
        Assert.Empty(node.Kernel.Net.Devices);
        Assert.False(dev.IsRegistered);
        Assert.Equal(0u, (uint)node.Machine.ReadIo(0xCF8, 4) & 0);   // the bus still answers
        node.Machine.WriteIo(0xCF8, 4, 0x8000_1804);
        Assert.Equal(0u, node.Machine.ReadIo(0xCFC, 2) & 0x7);
    }

    [Fact]
    public void ReceiveBurstLargerThanTheRingIsCountedAndRecovers()
    {
        var scheduler = new EventScheduler();
        Node node = BootedNode(scheduler: scheduler, driver: new E1000Options { RxDescriptors = 64 });
        var probe = new Emu.Tests.Emulator.WireProbe();
        node.Machine.Nic.Wire = probe;
        int received = 0;
        node.Kernel.Net.DevAddPack(0x88B5, (skb, dev) =>
        {
            received++;
            skb.Free();
        });
        node.Kernel.Net.DevOpen(node.Netdev!);
        Assert.True(LinkUp(node));
        byte[] frame = new byte[1514];
        node.Netdev!.DevAddr.CopyTo(frame, 0);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), 0x88B5);
        for (int i = 0; i < 200; i++)
        {
            node.Machine.Nic.ReceiveFrame(frame);   // all at once: no time for the driver
        }

        node.Machine.SyncInterrupts();
        Assert.True(node.Kernel.RunUntil(() => node.Machine.Nic.RxFifoFrames == 0, Second));
        node.Kernel.RunUntil(() => false, 3 * Second);   // a watchdog pass collects the counters
        long missed = node.Machine.Nic.Statistics[E1000DropReason.RxFifoOverrun];
        Assert.True(missed > 0);
        ulong b0 = node.Adapter!.Pdev.Resource(0)!.Start;
        Assert.True(received + missed == 200, $"polls {node.Adapter!.Napi.Polls} rdh {node.Machine.ReadMemory(b0 + 0x2810, 4)} rdt {node.Machine.ReadMemory(b0 + 0x2818, 4)} ims {node.Machine.Nic.Registers[0xD0 / 4]:x} icr {node.Machine.Nic.Registers[0xC0 / 4]:x} irqs {node.Kernel.IrqCount(11)} received {received}, missed {missed}, device drops {node.Machine.Nic.Statistics.TotalDrops}, delivered {node.Machine.Nic.Statistics.RxDelivered}, rx errors {node.Netdev!.Stats.RxErrors}, nohandler {node.Netdev!.Stats.RxNoHandler}, backlog drops {node.Kernel.Net.BacklogDropped}");
        Assert.Equal(200, received + missed);
        Assert.Equal((ulong)missed, node.Netdev!.Stats.RxMissedErrors);

        node.Machine.Nic.ReceiveFrame(frame);
        node.Machine.SyncInterrupts();
        Assert.True(node.Kernel.RunUntil(() => received + missed == 201, Second));
    }

    [Fact]
    public void TransmitQueueStopsWhenTheRingFillsAndWakesWhenItDrains()
    {
        Node node = BootedNode(driver: new E1000Options { TxDescriptors = 64 });
        node.Machine.Nic.Wire = new Emu.Tests.Emulator.WireProbe();
        node.Kernel.Net.DevOpen(node.Netdev!);
        Assert.True(LinkUp(node));

        // Hold the device's transmitter off so descriptors pile up.
        ulong bar0 = node.Adapter!.Pdev.Resource(0)!.Start;
        uint tctl = (uint)node.Machine.ReadMemory(bar0 + E1000Reg.Tctl, 4);
        node.Machine.WriteMemory(bar0 + E1000Reg.Tctl, 4, tctl & ~E1000Bits.TctlEn);
        for (int i = 0; i < 100; i++)
        {
            node.Kernel.Net.DevQueueXmit(Frame(node.Netdev!, node.Netdev!.BroadcastAddr, 100, 0));
        }

        Assert.True(node.Netdev!.QueueStopped);
        Assert.True(node.Kernel.Net.QdiscLength(node.Netdev!) > 0);
        node.Machine.WriteMemory(bar0 + E1000Reg.Tctl, 4, tctl);
        Assert.True(node.Kernel.RunUntil(() => node.Netdev!.Stats.TxPackets == 100, 10 * Second));
        Assert.False(node.Netdev!.QueueStopped);
    }

    [Fact]
    public void AStuckTransmitterIsReportedAsAHangButTheStackNeverTimesItOut()
    {
        Node node = BootedNode(driver: new E1000Options { TxDescriptors = 64 });
        node.Machine.Nic.Wire = new Emu.Tests.Emulator.WireProbe();
        node.Kernel.Net.DevOpen(node.Netdev!);
        Assert.True(LinkUp(node));
        ulong bar0 = node.Adapter!.Pdev.Resource(0)!.Start;
        uint tctl = (uint)node.Machine.ReadMemory(bar0 + E1000Reg.Tctl, 4);
        node.Machine.WriteMemory(bar0 + E1000Reg.Tctl, 4, tctl & ~E1000Bits.TctlEn);
        for (int i = 0; i < 100; i++)
        {
            node.Kernel.Net.DevQueueXmit(Frame(node.Netdev!, node.Netdev!.BroadcastAddr, 100, 0));
        }

        // e1000_clean_tx_irq's check (every e1000_watchdog run, 2 s) logs the hang and stops the queue again, which
        // stamps trans_start: dev_watchdog's 5 s never pass, as on Linux 6.1.192.
        node.Machine.Scheduler.RunFor(20 * Second);
        Assert.True(node.Kernel.Log.Lines.Count(l => l.EndsWith("eth0: Detected Tx Unit Hang", StringComparison.Ordinal)) >= 9);
        Assert.False(node.Kernel.Log.Contains("NETDEV WATCHDOG"));
        Assert.Equal(0, node.Adapter.TxTimeoutCount);
        Assert.True(node.Netdev!.QueueStopped);

        node.Machine.WriteMemory(bar0 + E1000Reg.Tctl, 4, tctl);
        // Our 100 and what the stack queued meanwhile (MLD, NDISC) all go once the transmitter runs again.
        Assert.True(node.Kernel.RunUntil(() => node.Netdev!.Stats.TxPackets >= 100 && node.Kernel.Net.QdiscLength(node.Netdev!) == 0, 10 * Second));
        Assert.False(node.Netdev!.QueueStopped);
    }

    [Fact]
    public void SetRxModeProgramsPromiscuityAndMulticastFilters()
    {
        Node node = BootedNode();
        node.Kernel.Net.DevOpen(node.Netdev!);
        ulong bar0 = node.Adapter!.Pdev.Resource(0)!.Start;
        uint Rctl() => (uint)node.Machine.ReadMemory(bar0 + E1000Reg.Rctl, 4);
        node.Kernel.Net.DevSetPromiscuity(node.Netdev!, true);
        Assert.Equal(E1000Bits.RctlUpe | E1000Bits.RctlMpe, Rctl() & (E1000Bits.RctlUpe | E1000Bits.RctlMpe));
        node.Kernel.Net.DevSetPromiscuity(node.Netdev!, false);
        Assert.Equal(0u, Rctl() & (E1000Bits.RctlUpe | E1000Bits.RctlMpe));
        for (int i = 0; i < 20; i++)
        {
            node.Kernel.Net.DevMcAdd(node.Netdev!, [0x33, 0x33, 0, 0, 0, (byte)i]);
        }

        // The first 14 go into RAR[1..14], the rest into the MTA hash. First in the list is 33:33:00:00:00:01, the
        // all-nodes group the IPv6 stack joined when the interface came up.
        Assert.Equal(0x0000_3333u, (uint)node.Machine.ReadMemory(bar0 + E1000Reg.Ral0 + 8, 4));
        Assert.Equal(0x8000_0100u, (uint)node.Machine.ReadMemory(bar0 + E1000Reg.Rah0 + 8, 4));
        Assert.Equal(0x8000_0000u, (uint)node.Machine.ReadMemory(bar0 + E1000Reg.Rah0 + 16, 4));
        int mtaBits = 0;
        for (uint i = 0; i < 128; i++)
        {
            mtaBits += System.Numerics.BitOperations.PopCount((uint)node.Machine.ReadMemory(bar0 + E1000Reg.Mta + (4 * i), 4));
        }

        Assert.True(mtaBits is > 0 and <= 7);
    }

    [Fact]
    public void JumboMtuEnablesLongPacketsAndBiggerBuffers()
    {
        Node node = BootedNode();
        node.Kernel.Net.DevOpen(node.Netdev!);
        Assert.True(LinkUp(node));
        Assert.Equal(0, node.Kernel.Net.DevSetMtu(node.Netdev!, 9000));
        ulong bar0 = node.Adapter!.Pdev.Resource(0)!.Start;
        uint rctl = (uint)node.Machine.ReadMemory(bar0 + E1000Reg.Rctl, 4);
        Assert.NotEqual(0u, rctl & E1000Bits.RctlLpe);
        Assert.NotEqual(0u, rctl & E1000Bits.RctlBsex);
        Assert.Equal(NetCore.EInval, node.Kernel.Net.DevSetMtu(node.Netdev!, 16200));
        Assert.True(node.Kernel.Log.Contains("changing MTU from 1500 to 9000"));
    }

    private static SkBuff Frame(NetDevice dev, byte[] destination, int length, byte fill)
    {
        SkBuff skb = SkBuff.NetdevAlloc(dev, length);
        Span<byte> data = skb.Put(length);
        destination.CopyTo(data);
        dev.DevAddr.CopyTo(data[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(data[12..], 0x88B5);
        data[14..].Fill(fill);

        skb.Dev = dev;
        return skb;
    }
}
