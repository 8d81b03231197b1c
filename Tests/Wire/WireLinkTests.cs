using System.Buffers.Binary;
using Emu.Emulator.E1000;
using Emu.Emulator.Machine;
using Emu.Emulator.Wire;
using Emu.Tests.Emulator;

namespace Emu.Tests.Wire;

/// <summary>Two nodes on one in-process wire, sharing one event loop.</summary>
public sealed class WireLinkTests
{
    [Fact]
    public void FramesCrossTheLinkAfterItsLatencyInOrder()
    {
        var scheduler = new EventScheduler();
        var link = new WireLink(scheduler, latencyNs: 1_000);
        var probe = new WireProbe();
        link.B.Receiver = probe;
        link.A.ReceiveFrame(new byte[] { 1, 2, 3 });
        link.A.ReceiveFrame(new byte[] { 4 });
        Assert.Empty(probe.Frames);
        scheduler.RunFor(999);
        Assert.Empty(probe.Frames);
        scheduler.RunFor(1);
        Assert.Equal([[1, 2, 3], [4]], probe.Frames);
    }

    [Fact]
    public void AFullQueueDropsAndCounts()
    {
        var scheduler = new EventScheduler();
        var link = new WireLink(scheduler, queueFrames: 2);
        link.A.ReceiveFrame(new byte[60]);
        link.A.ReceiveFrame(new byte[60]);
        link.A.ReceiveFrame(new byte[60]);
        Assert.Equal(1, link.B.Dropped);
    }

    [Fact]
    public void TwoNicsExchangeFramesThroughTheirRings()
    {
        var scheduler = new EventScheduler();
        var a = new PcMachine(new MachineOptions { Mac = System.Net.NetworkInformation.PhysicalAddress.Parse("52-54-00-12-34-56") }, scheduler: scheduler);
        var b = new PcMachine(new MachineOptions { Mac = System.Net.NetworkInformation.PhysicalAddress.Parse("52-54-00-12-34-57") }, scheduler: scheduler);
        var link = new WireLink(scheduler);
        WireLink.Attach(link.A, a.Nic);
        WireLink.Attach(link.B, b.Nic);
        var ha = RingDriver.Start(a);
        var hb = RingDriver.Start(b);

        byte[] frame = new byte[100];
        new byte[] { 0x52, 0x54, 0x00, 0x12, 0x34, 0x57 }.CopyTo(frame, 0);
        new byte[] { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 }.CopyTo(frame, 6);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), 0x88B5);
        ha.Send(frame);
        Assert.Equal(0, b.Nic.Statistics.RxDelivered);   // not inside the sender's MMIO write
        scheduler.RunFor(0);
        Assert.Equal(1, b.Nic.Statistics.RxDelivered);
        Assert.Equal(frame, hb.Poll()![..100]);
    }

    [Fact]
    public void CarrierLossIsSeenByTheDriver()
    {
        var scheduler = new EventScheduler();
        var a = new PcMachine(scheduler: scheduler);
        RingDriver.Start(a);
        a.Nic.SetCarrier(false);
        a.SyncInterrupts();
        Assert.Equal(0u, (uint)a.ReadMemory(RingDriver.Bar0 + E1000Reg.Status, 4) & E1000Bits.StatusLu);
    }
}
