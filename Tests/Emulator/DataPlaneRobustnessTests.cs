using Emu.Emulator.E1000;

namespace Emu.Tests.Emulator;

/// <summary>
/// Regression tests for the bug patterns known from QEMU's e1000 (the CVEs named), plus rings placed where DMA cannot
/// go: every guest-controlled loop ends within one ring, nothing throws, errors are counted.
/// </summary>
public sealed class DataPlaneRobustnessTests
{
    [Fact]
    public void ZeroLengthDescriptorsWithoutEopEndAfterOneRing()
    {
        // CVE-2015-6815 / CVE-2021-20257 pattern: a ring of zero-length descriptors, none with EOP, TDT chasing TDH.
        var h = new DataPlaneHarness(txCount: 256);
        for (int i = 0; i < 255; i++)
        {
            h.PutTx(DataPlaneHarness.Data(0, 0, E1000Bits.TxdCmdTse, 0));
        }

        h.Kick();
        Assert.Equal(255u, h.Nic.Read(E1000Reg.Tdh));
        Assert.Empty(h.Probe.Frames);
        h.Nic.Write(E1000Reg.Tdt, 255);
        Assert.Empty(h.Probe.Frames);
    }

    [Theory]
    [InlineData(0u, 8u, 3u)]     // RDLEN 0
    [InlineData(128u, 20u, 3u)]  // RDH beyond the ring
    [InlineData(128u, 0u, 40u)]  // RDT beyond the ring
    public void ReceiveRingsThatMakeNoSenseHoldFramesWithoutLooping(uint rdlen, uint rdh, uint rdt)
    {
        // CVE-2016-1981 pattern: RDH/RDT that never meet.
        var h = new DataPlaneHarness();
        h.Nic.Write(E1000Reg.Rctl, 0);
        h.Nic.Write(E1000Reg.Rdlen, rdlen);
        h.Nic.Write(E1000Reg.Rdh, rdh);
        h.Nic.Write(E1000Reg.Rdt, rdt);
        h.Nic.Write(E1000Reg.Rctl, E1000Bits.RctlEn | E1000Bits.RctlUpe);
        for (int i = 0; i < 100; i++)
        {
            h.Receive(Frames.Ethernet(Frames.NicMac, 0x88B5, 1000));
        }

        Assert.Equal(0, h.Stats.RxDelivered);
        Assert.Equal(100, h.Device.RxFifoFrames + h.Stats[E1000DropReason.RxFifoOverrun]);
        Assert.True(h.Nic.Read(E1000Reg.Mpc) > 0);
    }

    [Theory]
    [InlineData(0u, 3u, 5u)]
    [InlineData(256u, 40u, 2u)]
    [InlineData(256u, 2u, 40u)]
    public void TransmitRingsThatMakeNoSenseAreRefusedAndCounted(uint tdlen, uint tdh, uint tdt)
    {
        var h = new DataPlaneHarness();
        h.Nic.Write(E1000Reg.Tdlen, tdlen);
        h.Nic.Write(E1000Reg.Tdh, tdh);
        h.Nic.Write(E1000Reg.Tdt, tdt);
        Assert.True(h.Stats[E1000DropReason.RingInvalid] > 0);
        Assert.Equal(tdh, h.Nic.Read(E1000Reg.Tdh));
    }

    [Fact]
    public void OversizeFramesWithoutLpeOrSbpAreDropped()
    {
        // CVE-2012-6075 pattern: a frame larger than any buffer arrangement the driver made.
        var h = new DataPlaneHarness(rctl: E1000Bits.RctlEn | E1000Bits.RctlUpe);
        h.Receive(new byte[E1000Device.MaximumWireFrame]);
        h.Receive(new byte[9000]);
        Assert.Equal(2, h.Stats[E1000DropReason.RxOversize]);
        Assert.Equal(0u, h.Nic.Read(E1000Reg.Rdh));
    }

    [Fact]
    public void JumboFrameLargerThanTheRingCanHoldIsDroppedNotStuck()
    {
        // SBP admits a 9000-byte frame, but 256-byte buffers in an 8-descriptor ring can never take it.
        var h = new DataPlaneHarness(rctl: E1000Bits.RctlEn | E1000Bits.RctlUpe | E1000Bits.RctlSbp | (3u << E1000Bits.RctlBsizeShift));
        h.Receive(Frames.Ethernet(Frames.NicMac, 0x88B5, 9000));
        h.Receive(Frames.Ethernet(Frames.NicMac, 0x88B5, 100));
        Assert.Equal(1, h.Stats[E1000DropReason.RingInvalid]);
        Assert.Equal(1, h.Stats.RxDelivered);
    }

    [Fact]
    public void TransmitFrameGrowingPastTheFifoIsDroppedAtEop()
    {
        var h = new DataPlaneHarness(txCount: 16);
        byte[] chunk = new byte[4000];
        for (int i = 0; i < 6; i++)
        {
            h.PutTx(DataPlaneHarness.Legacy(h.TxBuffer(i, chunk), chunk.Length, i == 5 ? E1000Bits.TxdCmdEop | E1000Bits.TxdCmdRs : 0));
        }

        h.Kick();
        Assert.Empty(h.Probe.Frames);
        Assert.Equal(1, h.Stats[E1000DropReason.TxOversize]);
        Assert.Equal(E1000Bits.TxStatusDd, h.TxStatus(5));
    }

    [Fact]
    public void RingsOutsideRamOrOverTheRegisterWindowCountDmaErrors()
    {
        var h = new DataPlaneHarness();
        h.Nic.Write(E1000Reg.Tdbal, 0xFEBC_0000);
        h.Nic.Write(E1000Reg.Tdt, 1);
        Assert.Equal(1, h.Stats[E1000DropReason.TxDmaError]);
        Assert.Equal(0x8008_0783u, h.Nic.Read(E1000Reg.Status));

        h.Nic.Write(E1000Reg.Rdbah, 0x10);
        h.Receive(Frames.Ethernet(Frames.NicMac, 0x88B5, 100));
        Assert.Equal(1, h.Stats[E1000DropReason.RxDmaError]);
    }

    [Fact]
    public void BuffersOutsideRamCountDmaErrorsAndTheRingMovesOn()
    {
        var h = new DataPlaneHarness();
        h.WriteRxDescriptor(0, 0xFFFF_FFFF_0000);
        h.Receive(Frames.Ethernet(Frames.NicMac, 0x88B5, 100));
        Assert.Equal(1, h.Stats[E1000DropReason.RxDmaError]);
        Assert.Equal(1u, h.Nic.Read(E1000Reg.Rdh));
        h.PutTx(DataPlaneHarness.Legacy(0xFFFF_FFFF_0000, 100, E1000Bits.TxdCmdEop | E1000Bits.TxdCmdRs));
        h.Kick();
        Assert.Equal(1, h.Stats[E1000DropReason.TxDmaError]);
        Assert.Empty(h.Probe.Frames);
    }

    [Fact]
    public void TsoWithMssZeroFailsTheContext()
    {
        var h = new DataPlaneHarness();
        h.PutTx(DataPlaneHarness.Context(14, 24, 33, 34, 50, 0, 1000, E1000Bits.TxdCmdTse | E1000Bits.TxdTucmdTcp | E1000Bits.TxdTucmdIp, 54, 0));
        h.PutTx(DataPlaneHarness.Data(h.TxBuffer(1, new byte[1054]), 1054, E1000Bits.TxdCmdTse | E1000Bits.TxdCmdEop, 0));
        h.Kick();
        Assert.Empty(h.Probe.Frames);
        Assert.Equal(1u, h.Nic.Read(E1000Reg.Tsctfc));
    }

    [Fact]
    public void RandomDescriptorsNeverThrow()
    {
        var random = new Random(11);
        var h = new DataPlaneHarness(txCount: 64, rctl: E1000Bits.RctlEn | E1000Bits.RctlUpe | E1000Bits.RctlSbp);
        byte[] descriptor = new byte[16];
        for (int round = 0; round < 2000; round++)
        {
            random.NextBytes(descriptor);
            if (random.Next(2) == 0)
            {
                // Mostly point buffers into RAM so that frames do go out.
                BitConverter.TryWriteBytes(descriptor, (ulong)random.Next(0x100000, 0x800000));
            }

            h.PutTx(descriptor);
            if (random.Next(4) == 0)
            {
                h.Kick();
            }

            if (random.Next(8) == 0)
            {
                byte[] frame = new byte[random.Next(0, 20000)];
                random.NextBytes(frame);
                h.Receive(frame);
                h.Nic.Write(E1000Reg.Rdt, (h.Nic.Read(E1000Reg.Rdh) + 7) % 8);
            }
        }

        h.Nic.Read(E1000Reg.Status);
        Assert.False(h.Device.Halted, h.Device.InternalError);   // the guard never had to catch anything
    }
}
