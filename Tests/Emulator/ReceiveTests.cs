using System.Buffers.Binary;
using Emu.Emulator.E1000;

namespace Emu.Tests.Emulator;

/// <summary>The receive path (8254x manual §3.2), driven through the wire and checked in guest memory.</summary>
public sealed class ReceiveTests
{
    [Fact]
    public void UnicastFrameIsWrittenWithItsFcsAndCounted()
    {
        var h = new DataPlaneHarness();
        byte[] frame = Frames.Ethernet(Frames.NicMac, 0x88B5, 86);
        h.Receive(frame);

        var d = h.RxDescriptor(0);
        Assert.Equal(frame.Length + 4, d.Length);
        Assert.Equal(E1000Bits.RxStatusDd | E1000Bits.RxStatusEop | E1000Bits.RxStatusIxsm, d.Status);
        byte[] stored = h.RxBuffer(0, frame.Length + 4);
        Assert.Equal(frame, stored[..frame.Length]);
        Assert.Equal(EthernetCrc.Compute(frame), BinaryPrimitives.ReadUInt32LittleEndian(stored.AsSpan(frame.Length)));
        Assert.Equal(1u, h.Nic.Read(E1000Reg.Rdh));
        Assert.Equal(E1000Bits.IcrRxt0, h.Nic.Read(E1000Reg.Icr) & E1000Bits.IcrRxt0);
        Assert.Equal(1u, h.Nic.Read(E1000Reg.Gprc));
        Assert.Equal(1u, h.Nic.Read(E1000Reg.Tpr));
        Assert.Equal(104u, h.Nic.Read(E1000Reg.Gorcl));
        Assert.Equal(1u, h.Nic.Read(0x4060));   // PRC127
        Assert.Equal(1, h.Stats.RxDelivered);
    }

    [Fact]
    public void ShortFramesArePaddedToTheEthernetMinimum()
    {
        // A netdev frame under 60 bytes is stored as the 64-byte frame a wire would carry (QEMU 11 leaves it short).
        var h = new DataPlaneHarness();
        h.Receive(Frames.Ethernet(Frames.Broadcast, 0x0806, 28));
        Assert.Equal(64, h.RxDescriptor(0).Length);
        Assert.Equal(1u, h.Nic.Read(E1000Reg.Prc64));
        Assert.Equal(1u, h.Nic.Read(E1000Reg.Bprc));
    }

    [Fact]
    public void SecrcLeavesTheFcsOut()
    {
        var h = new DataPlaneHarness(rctl: E1000Bits.RctlEn | E1000Bits.RctlBam | E1000Bits.RctlSecrc);
        h.Receive(Frames.Ethernet(Frames.NicMac, 0x88B5, 100));
        Assert.Equal(114, h.RxDescriptor(0).Length);
    }

    [Fact]
    public void LargeFramesSpanDescriptorsWithEopOnTheLast()
    {
        // BSIZE 11 = 256-byte buffers: a 600-byte frame + FCS takes three descriptors.
        var h = new DataPlaneHarness(rctl: E1000Bits.RctlEn | (3u << E1000Bits.RctlBsizeShift));
        byte[] frame = Frames.Ethernet(Frames.NicMac, 0x88B5, 586);
        h.Receive(frame);
        Assert.Equal((256, E1000Bits.RxStatusDd), (h.RxDescriptor(0).Length, h.RxDescriptor(0).Status));
        Assert.Equal((256, E1000Bits.RxStatusDd), (h.RxDescriptor(1).Length, h.RxDescriptor(1).Status));
        Assert.Equal(92, h.RxDescriptor(2).Length);
        Assert.Equal(E1000Bits.RxStatusDd | E1000Bits.RxStatusEop | E1000Bits.RxStatusIxsm, h.RxDescriptor(2).Status);
        Assert.Equal(frame[256..512], h.RxBuffer(1, 256));
        Assert.Equal(3u, h.Nic.Read(E1000Reg.Rdh));
    }

    [Theory]
    [InlineData(0x52, 0x54, 0x00, 0x12, 0x34, 0x57, 0u, false)]                              // foreign unicast
    [InlineData(0x52, 0x54, 0x00, 0x12, 0x34, 0x57, E1000Bits.RctlUpe, true)]                // promiscuous
    [InlineData(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0u, false)]                              // broadcast without BAM
    [InlineData(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, E1000Bits.RctlMpe, false)]               // MPE does not admit broadcast
    [InlineData(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, E1000Bits.RctlBam, true)]
    [InlineData(0x33, 0x33, 0x00, 0x00, 0x00, 0x01, 0u, false)]                              // multicast not in the MTA
    [InlineData(0x33, 0x33, 0x00, 0x00, 0x00, 0x01, E1000Bits.RctlMpe, true)]
    [InlineData(0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0u, true)]                               // our own address (RA0)
    public void AddressFiltersDecide(byte a, byte b, byte c, byte d, byte e, byte f, uint rctlBits, bool accepted)
    {
        var h = new DataPlaneHarness(rctl: E1000Bits.RctlEn | rctlBits);
        h.Receive(Frames.Ethernet([a, b, c, d, e, f], 0x88B5, 50));
        Assert.Equal(accepted ? 1 : 0, h.Stats.RxDelivered);
        Assert.Equal(accepted ? 0 : 1, h.Stats[E1000DropReason.RxFiltered]);
    }

    [Fact]
    public void MulticastTableHashAdmitsItsGroup()
    {
        // MO = 00: hash = (DA[5] << 8 | DA[4]) >> 4 = 0x010 for 33:33:00:00:00:01 (Linux e1000_hash_mc_addr).
        var h = new DataPlaneHarness(rctl: E1000Bits.RctlEn);
        h.Nic.Write(E1000Reg.Mta + (0x010 >> 5) * 4, 1u << (0x010 & 31));
        h.Receive(Frames.Ethernet([0x33, 0x33, 0x00, 0x00, 0x00, 0x01], 0x86DD, 50));
        Assert.Equal(1, h.Stats.RxDelivered);
        Assert.Equal(1u, h.Nic.Read(E1000Reg.Mprc));
    }

    [Fact]
    public void SecondaryReceiveAddressesNeedAddressValid()
    {
        var h = new DataPlaneHarness(rctl: E1000Bits.RctlEn);
        byte[] other = [0x02, 0x00, 0x00, 0x00, 0x00, 0x07];
        h.Nic.Write(E1000Reg.Ral0 + 8, 0x0000_0002);
        h.Nic.Write(E1000Reg.Rah0 + 8, 0x0000_0700);
        h.Receive(Frames.Ethernet(other, 0x88B5, 50));
        Assert.Equal(0, h.Stats.RxDelivered);
        h.Nic.Write(E1000Reg.Rah0 + 8, 0x8000_0700);
        h.Receive(Frames.Ethernet(other, 0x88B5, 50));
        Assert.Equal(1, h.Stats.RxDelivered);
    }

    [Fact]
    public void VlanTagIsStrippedIntoTheDescriptorWithVme()
    {
        var h = new DataPlaneHarness();
        h.Nic.Write(E1000Reg.Ctrl, h.Nic.Read(E1000Reg.Ctrl) | E1000Bits.CtrlVme);
        byte[] frame = Frames.Ethernet(Frames.NicMac, 0x8100, 100);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(14), 0x2064);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(16), 0x0800);
        h.Receive(frame);
        var d = h.RxDescriptor(0);
        Assert.Equal(frame.Length - 4 + 4, d.Length);
        Assert.Equal(0x2064, d.Special);
        Assert.NotEqual(0, d.Status & E1000Bits.RxStatusVp);
        byte[] stored = h.RxBuffer(0, 14);
        Assert.Equal(0x0800, BinaryPrimitives.ReadUInt16BigEndian(stored.AsSpan(12)));

        // §13.7 TOR counts the frame as the wire carried it, tag and FCS included (QEMU leaves the tag out).
        Assert.Equal((uint)(frame.Length + 4), h.Nic.Read(E1000Reg.Torl));
    }

    [Fact]
    public void VlanFilterRejectsVlansOutsideVfta()
    {
        var h = new DataPlaneHarness(rctl: E1000Bits.RctlEn | E1000Bits.RctlVfe | E1000Bits.RctlUpe);
        byte[] frame = Frames.Ethernet(Frames.NicMac, 0x8100, 100);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(14), 100);
        h.Receive(frame);
        Assert.Equal(1, h.Stats[E1000DropReason.RxFiltered]);
        h.Nic.Write(E1000Reg.Vfta + (100 >> 5) * 4, 1u << (100 & 31));
        h.Receive(frame);
        Assert.Equal(1, h.Stats.RxDelivered);
    }

    [Theory]
    [InlineData(1518, 0u, true)]
    [InlineData(1519, 0u, false)]
    [InlineData(1519, E1000Bits.RctlLpe, true)]
    [InlineData(3000, E1000Bits.RctlSbp, true)]
    public void LongPacketLimitsCountTheFcs(int length, uint rctlBits, bool accepted)
    {
        // §13.7.36: over 1522 bytes (16384 with LPE) counting DA..CRC is oversize; SBP stores it anyway.
        var h = new DataPlaneHarness(rctl: E1000Bits.RctlEn | E1000Bits.RctlBsex | (1u << E1000Bits.RctlBsizeShift) | rctlBits);
        h.Receive(Frames.Ethernet(Frames.NicMac, 0x88B5, length - 14));
        Assert.Equal(accepted ? 1 : 0, h.Stats.RxDelivered);
        Assert.Equal(accepted ? 0u : 1u, h.Nic.Read(E1000Reg.Roc));
    }

    [Fact]
    public void FramesWaitInTheFifoUntilDescriptorsComeThenOverflowCountsMpc()
    {
        var h = new DataPlaneHarness(fillRx: false);
        h.Nic.Write(E1000Reg.Pba, 0x02);   // a 2 KB receive FIFO: one 1514-byte frame fits, a second does not
        byte[] frame = Frames.Ethernet(Frames.NicMac, 0x88B5, 1500);
        h.Receive(frame);
        Assert.Equal(1, h.Device.RxFifoFrames);
        Assert.Equal(1u, h.Nic.Read(E1000Reg.Rnbc));
        h.Receive(frame);
        Assert.Equal(1u, h.Nic.Read(E1000Reg.Mpc));
        Assert.NotEqual(0u, h.Nic.Read(E1000Reg.Icr) & E1000Bits.IcrRxo);
        Assert.Equal(1, h.Stats[E1000DropReason.RxFifoOverrun]);
        Assert.Equal(2u, h.Nic.Read(E1000Reg.Tpr));   // §13.7.5: missed packets count in TPR too

        h.Nic.Write(E1000Reg.Rdt, 4);
        Assert.Equal(0, h.Device.RxFifoFrames);
        Assert.Equal(1, h.Stats.RxDelivered);
        Assert.Equal(frame.Length + 4, h.RxDescriptor(0).Length);
    }

    [Fact]
    public void BurstLargerThanTheRingIsHeldThenDrainedBySoftware()
    {
        var h = new DataPlaneHarness(rxCount: 8);
        byte[] frame = Frames.Ethernet(Frames.NicMac, 0x88B5, 200);
        for (int i = 0; i < 20; i++)
        {
            h.Receive(frame);
        }

        Assert.Equal(7, h.Stats.RxDelivered);
        Assert.Equal(13, h.Device.RxFifoFrames);
        Assert.Equal(0, h.Stats.TotalDrops);
        for (int round = 0; round < 3; round++)
        {
            uint head = h.Nic.Read(E1000Reg.Rdh);
            h.Nic.Write(E1000Reg.Rdt, (head + 7) % 8);
        }

        Assert.Equal(20, h.Stats.RxDelivered);
    }

    [Fact]
    public void RxdmtFiresWhenFreeDescriptorsReachTheThreshold()
    {
        var h = new DataPlaneHarness(rxCount: 8);
        byte[] frame = Frames.Ethernet(Frames.NicMac, 0x88B5, 100);
        h.Receive(frame);
        h.Receive(frame);
        Assert.Equal(0u, h.Nic.Read(E1000Reg.Icr) & E1000Bits.IcrRxdmt0);
        h.Receive(frame);   // free 7 → 4 = 8 / 2
        Assert.NotEqual(0u, h.Nic.Read(E1000Reg.Icr) & E1000Bits.IcrRxdmt0);
    }

    [Fact]
    public void RdtrDelaysRxt0AndRadvBoundsIt()
    {
        var h = new DataPlaneHarness();
        h.Nic.Write(E1000Reg.Rdtr, 100);   // 102.4 µs packet timer
        h.Nic.Write(E1000Reg.Radv, 150);   // 153.6 µs absolute timer
        h.Nic.Read(E1000Reg.Icr);
        byte[] frame = Frames.Ethernet(Frames.NicMac, 0x88B5, 100);
        h.Receive(frame);
        Assert.Equal(0u, h.Nic.Read(E1000Reg.Icr) & E1000Bits.IcrRxt0);
        h.Nic.Machine.Scheduler.RunFor(80_000);
        h.Receive(frame);   // restarts the packet timer; the absolute timer keeps running
        h.Nic.Machine.Scheduler.RunFor(70_000);
        Assert.Equal(0u, h.Nic.Read(E1000Reg.Icr) & E1000Bits.IcrRxt0);
        h.Nic.Machine.Scheduler.RunFor(4_000);
        Assert.NotEqual(0u, h.Nic.Read(E1000Reg.Icr) & E1000Bits.IcrRxt0);
    }

    [Fact]
    public void ChecksumOffloadReportsGoodAndBadIpv4Udp()
    {
        var h = new DataPlaneHarness();
        h.Nic.Write(E1000Reg.Rxcsum, E1000Bits.RxcsumIpofld | E1000Bits.RxcsumTuofld);
        byte[] good = Frames.Udp4(Frames.NicMac, 64);
        h.Receive(good);
        var d = h.RxDescriptor(0);
        Assert.Equal(E1000Bits.RxStatusIpcs | E1000Bits.RxStatusTcpcs, d.Status & (E1000Bits.RxStatusIpcs | E1000Bits.RxStatusTcpcs | E1000Bits.RxStatusIxsm));
        Assert.Equal(0, d.Errors);

        byte[] bad = (byte[])good.Clone();
        bad[^1] ^= 0xFF;
        h.Receive(bad);
        Assert.Equal(E1000Bits.RxErrorTcpe, h.RxDescriptor(1).Errors);
        bad = (byte[])good.Clone();
        bad[14 + 8] ^= 1;   // TTL changes the IP header sum
        h.Receive(bad);
        Assert.Equal(E1000Bits.RxErrorIpe, h.RxDescriptor(2).Errors & E1000Bits.RxErrorIpe);
    }

    [Fact]
    public void PacketChecksumIsTheSumFromPcss()
    {
        var h = new DataPlaneHarness();
        h.Nic.Write(E1000Reg.Rxcsum, 14);
        byte[] frame = Frames.Ethernet(Frames.NicMac, 0x88B5, 100);
        h.Receive(frame);
        byte[] stored = h.RxBuffer(0, frame.Length + 4);
        Assert.Equal((ushort)InternetChecksum.Add(0, stored.AsSpan(14)), h.RxDescriptor(0).Checksum);
    }

    [Fact]
    public void DisabledReceiverAndLinkDownDropByReason()
    {
        var h = new DataPlaneHarness(rctl: 0);
        h.Receive(Frames.Ethernet(Frames.NicMac, 0x88B5, 100));
        Assert.Equal(1, h.Stats[E1000DropReason.RxDisabled]);
        h.Device.SetCarrier(false);
        h.Receive(Frames.Ethernet(Frames.NicMac, 0x88B5, 100));
        Assert.Equal(1, h.Stats[E1000DropReason.RxLinkDown]);
    }

    [Fact]
    public void NoDmaWithoutBusMastering()
    {
        var h = new DataPlaneHarness();
        h.Nic.ConfigWrite(0x04, 2, 0x3);
        h.Receive(Frames.Ethernet(Frames.NicMac, 0x88B5, 100));
        Assert.Equal(0, h.Stats.RxDelivered);
        Assert.Equal(1, h.Device.RxFifoFrames);
        h.Nic.ConfigWrite(0x04, 2, 0x7);
        Assert.Equal(1, h.Stats.RxDelivered);
    }
}
