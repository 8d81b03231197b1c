using System.Buffers.Binary;
using Emu.Emulator.E1000;

namespace Emu.Tests.Emulator;

/// <summary>The transmit path (8254x manual §3.3–3.5), checked on the wire probe and in guest memory.</summary>
public sealed class TransmitTests
{
    private const uint Eop = E1000Bits.TxdCmdEop;
    private const uint Rs = E1000Bits.TxdCmdRs;
    private const uint Ifcs = E1000Bits.TxdCmdIfcs;

    [Fact]
    public void LegacyFrameGoesOutWithDdAndInterrupts()
    {
        var h = new DataPlaneHarness();
        byte[] frame = Frames.Ethernet(Frames.PeerMac, 0x88B5, 100);
        h.PutTx(DataPlaneHarness.Legacy(h.TxBuffer(0, frame), frame.Length, Eop | Ifcs | Rs));
        h.Kick();
        Assert.Equal(frame, Assert.Single(h.Probe.Frames));
        Assert.Equal(E1000Bits.TxStatusDd, h.TxStatus(0));
        Assert.Equal(1u, h.Nic.Read(E1000Reg.Tdh));
        uint icr = h.Nic.Read(E1000Reg.Icr);
        Assert.Equal(E1000Bits.IcrTxdw | E1000Bits.IcrTxqe, icr & (E1000Bits.IcrTxdw | E1000Bits.IcrTxqe));
        Assert.Equal(1u, h.Nic.Read(E1000Reg.Gptc));
        Assert.Equal(118u, h.Nic.Read(E1000Reg.Gotcl));
        Assert.Equal(1u, h.Nic.Read(0x40DC));   // PTC127
    }

    [Fact]
    public void FrameGatheredAcrossDescriptors()
    {
        var h = new DataPlaneHarness();
        byte[] frame = Frames.Ethernet(Frames.PeerMac, 0x88B5, 300);
        h.PutTx(DataPlaneHarness.Legacy(h.TxBuffer(0, frame.AsSpan(0, 100)), 100, 0));
        h.PutTx(DataPlaneHarness.Legacy(0, 0, 0));   // a zero-length, null descriptor adds nothing
        h.PutTx(DataPlaneHarness.Legacy(h.TxBuffer(2, frame.AsSpan(100)), frame.Length - 100, Eop | Rs));
        h.Kick();
        Assert.Equal(frame, Assert.Single(h.Probe.Frames));
    }

    [Fact]
    public void ShortFramesArePaddedWithPsp()
    {
        var h = new DataPlaneHarness();
        byte[] frame = Frames.Ethernet(Frames.Broadcast, 0x0806, 28);
        h.PutTx(DataPlaneHarness.Legacy(h.TxBuffer(0, frame), frame.Length, Eop | Rs));
        h.Kick();
        byte[] sent = Assert.Single(h.Probe.Frames);
        Assert.Equal(60, sent.Length);
        Assert.Equal(frame, sent[..42]);
        Assert.All(sent[42..], b => Assert.Equal(0, b));
        Assert.Equal(1u, h.Nic.Read(E1000Reg.Ptc64));
        Assert.Equal(1u, h.Nic.Read(E1000Reg.Bptc));
    }

    [Fact]
    public void LegacyChecksumInsertion()
    {
        var h = new DataPlaneHarness();
        byte[] frame = Frames.Udp4(Frames.PeerMac, 40);
        frame[14 + 26] = 0;
        frame[14 + 27] = 0;
        // UDP checksum over the UDP header + payload only (no pseudo-header seed): CSS 34, CSO 40.
        h.PutTx(DataPlaneHarness.Legacy(h.TxBuffer(0, frame), frame.Length, Eop | Rs | E1000Bits.TxdCmdIc, cso: 40, css: 34));
        h.Kick();
        byte[] sent = Assert.Single(h.Probe.Frames);
        Assert.Equal(0xFFFF, (int)InternetChecksum.Add(0, sent.AsSpan(34)));
    }

    [Fact]
    public void ContextChecksumOffloadForIpv4Udp()
    {
        var h = new DataPlaneHarness();
        byte[] frame = Frames.Udp4(Frames.PeerMac, 200);
        Span<byte> ip = frame.AsSpan(14);
        ip[10] = 0;
        ip[11] = 0;
        // Linux seeds the L4 checksum with the pseudo-header sum (including the length for non-TSO).
        uint seed = InternetChecksum.Add(0, ip.Slice(12, 8)) + 17 + 208;
        BinaryPrimitives.WriteUInt16BigEndian(ip[26..], (ushort)InternetChecksum.Fold(seed));
        h.PutTx(DataPlaneHarness.Context(14, 24, 33, 34, 40, 0, 0, E1000Bits.TxdTucmdIp, 0, 0));
        h.PutTx(DataPlaneHarness.Data(h.TxBuffer(1, frame), frame.Length, Eop | Rs, E1000Bits.TxPoptsIxsm | E1000Bits.TxPoptsTxsm));
        h.Kick();
        byte[] sent = Assert.Single(h.Probe.Frames);
        Assert.True(Frames.Ipv4HeaderValid(sent.AsSpan(14)));
        Assert.True(Frames.Ipv4TransportValid(sent.AsSpan(14)));
    }

    [Theory]
    [InlineData(3000, 1000)]   // an exact multiple of MSS: three segments, no empty fourth (QEMU sends one)
    [InlineData(2500, 1000)]
    [InlineData(999, 1000)]
    public void TsoIpv4TcpSegmentsCorrectly(int payload, int mss)
    {
        var h = new DataPlaneHarness();
        (byte[] header, byte[] data) = TcpPacket(ipv6: false, payload);
        h.PutTx(DataPlaneHarness.Context(14, 24, 33, 34, 50, 0, payload, E1000Bits.TxdCmdTse | E1000Bits.TxdTucmdIp | E1000Bits.TxdTucmdTcp, (byte)header.Length, (ushort)mss));
        h.PutTx(DataPlaneHarness.Data(h.TxBuffer(1, header), header.Length, E1000Bits.TxdCmdTse, E1000Bits.TxPoptsIxsm | E1000Bits.TxPoptsTxsm));
        h.PutTx(DataPlaneHarness.Data(h.TxBuffer(2, data), data.Length, E1000Bits.TxdCmdTse | Eop | Rs, 0));
        h.Kick();

        int segments = (payload + mss - 1) / mss;
        Assert.Equal(segments, h.Probe.Frames.Count);
        int offset = 0;
        for (int k = 0; k < segments; k++)
        {
            byte[] seg = h.Probe.Frames[k];
            Span<byte> ip = seg.AsSpan(14);
            int size = Math.Min(mss, payload - offset);
            Assert.Equal(header.Length + size, seg.Length);
            Assert.Equal(20 + 20 + size, BinaryPrimitives.ReadUInt16BigEndian(ip[2..]));
            Assert.Equal(0x1234 + k, BinaryPrimitives.ReadUInt16BigEndian(ip[4..]));
            Assert.Equal(1000u + (uint)offset, BinaryPrimitives.ReadUInt32BigEndian(ip[24..]));
            byte flags = ip[33];
            Assert.Equal(k == segments - 1 ? 0x19 : 0x10, flags);   // ACK always; PSH and FIN only on the last
            Assert.True(Frames.Ipv4HeaderValid(ip));
            Assert.True(Frames.Ipv4TransportValid(ip));
            Assert.Equal(data.AsSpan(offset, size).ToArray(), seg[header.Length..]);
            offset += size;
        }

        Assert.Equal(1u, h.Nic.Read(E1000Reg.Tsctc));
        Assert.Equal(E1000Bits.TxStatusDd, h.TxStatus(2));
    }

    [Theory]
    [InlineData(2100)]   // the last segment (2000..2500) starts in one data descriptor and ends in the next
    [InlineData(1500)]   // a middle segment spans the two
    [InlineData(2450)]
    public void TsoSegmentsGatheredAcrossDescriptorsAtAnyBoundary(int split)
    {
        var h = new DataPlaneHarness();
        (byte[] header, byte[] data) = TcpPacket(ipv6: false, 2500);
        h.PutTx(DataPlaneHarness.Context(14, 24, 33, 34, 50, 0, 2500, E1000Bits.TxdCmdTse | E1000Bits.TxdTucmdIp | E1000Bits.TxdTucmdTcp, (byte)header.Length, 1000));
        h.PutTx(DataPlaneHarness.Data(h.TxBuffer(1, header), header.Length, E1000Bits.TxdCmdTse, E1000Bits.TxPoptsIxsm | E1000Bits.TxPoptsTxsm));
        h.PutTx(DataPlaneHarness.Data(h.TxBuffer(2, data[..split]), split, E1000Bits.TxdCmdTse, 0));
        h.PutTx(DataPlaneHarness.Data(h.TxBuffer(3, data[split..]), data.Length - split, E1000Bits.TxdCmdTse | Eop | Rs, 0));
        h.Kick();
        Assert.Equal(3, h.Probe.Frames.Count);
        Assert.Equal(data, h.Probe.Frames.SelectMany(f => f[header.Length..]).ToArray());
        Assert.All(h.Probe.Frames, f => Assert.True(Frames.Ipv4TransportValid(f.AsSpan(14))));
        Assert.Equal(1u, h.Nic.Read(E1000Reg.Tsctc));
    }

    [Fact]
    public void TsoIpv6TcpSetsThePayloadLengthWithoutTheFixedHeader()
    {
        var h = new DataPlaneHarness();
        (byte[] header, byte[] data) = TcpPacket(ipv6: true, 2000);
        h.PutTx(DataPlaneHarness.Context(14, 0, 0, 54, 70, 0, 2000, E1000Bits.TxdCmdTse | E1000Bits.TxdTucmdTcp, (byte)header.Length, 1440));
        h.PutTx(DataPlaneHarness.Data(h.TxBuffer(1, header), header.Length, E1000Bits.TxdCmdTse, E1000Bits.TxPoptsTxsm));
        h.PutTx(DataPlaneHarness.Data(h.TxBuffer(2, data), data.Length, E1000Bits.TxdCmdTse | Eop | Rs, 0));
        h.Kick();
        Assert.Equal(2, h.Probe.Frames.Count);
        Assert.Equal(20 + 1440, BinaryPrimitives.ReadUInt16BigEndian(h.Probe.Frames[0].AsSpan(14 + 4)));
        Assert.Equal(20 + 560, BinaryPrimitives.ReadUInt16BigEndian(h.Probe.Frames[1].AsSpan(14 + 4)));
        Assert.All(h.Probe.Frames, f => Assert.True(Frames.Ipv6TransportValid(f.AsSpan(14))));
        Assert.Equal(1000u + 1440, BinaryPrimitives.ReadUInt32BigEndian(h.Probe.Frames[1].AsSpan(54 + 4)));
    }

    [Fact]
    public void TsoContextThatEndsShortFailsAndCounts()
    {
        var h = new DataPlaneHarness();
        (byte[] header, byte[] data) = TcpPacket(ipv6: false, 1000);
        h.PutTx(DataPlaneHarness.Context(14, 24, 33, 34, 50, 0, 3000, E1000Bits.TxdCmdTse | E1000Bits.TxdTucmdIp | E1000Bits.TxdTucmdTcp, (byte)header.Length, 500));
        h.PutTx(DataPlaneHarness.Data(h.TxBuffer(1, header), header.Length, E1000Bits.TxdCmdTse, 0));
        h.PutTx(DataPlaneHarness.Data(h.TxBuffer(2, data), data.Length, E1000Bits.TxdCmdTse | Eop | Rs, 0));
        h.Kick();
        Assert.Equal(1u, h.Nic.Read(E1000Reg.Tsctfc));
        Assert.Equal(1, h.Stats[E1000DropReason.TxTsoContextFailed]);
    }

    [Fact]
    public void VlanTagInsertedWithVleAndVme()
    {
        var h = new DataPlaneHarness();
        h.Nic.Write(E1000Reg.Ctrl, h.Nic.Read(E1000Reg.Ctrl) | E1000Bits.CtrlVme);
        byte[] frame = Frames.Ethernet(Frames.PeerMac, 0x0800, 100);
        h.PutTx(DataPlaneHarness.Legacy(h.TxBuffer(0, frame), frame.Length, Eop | Rs | E1000Bits.TxdCmdVle, special: 0x0064));
        h.Kick();
        byte[] sent = Assert.Single(h.Probe.Frames);
        Assert.Equal(frame.Length + 4, sent.Length);
        Assert.Equal(0x8100, BinaryPrimitives.ReadUInt16BigEndian(sent.AsSpan(12)));
        Assert.Equal(0x0064, BinaryPrimitives.ReadUInt16BigEndian(sent.AsSpan(14)));
        Assert.Equal(0x0800, BinaryPrimitives.ReadUInt16BigEndian(sent.AsSpan(16)));

        // §13.7 TOT counts the frame on the wire: the inserted tag and the FCS (QEMU leaves the tag out).
        Assert.Equal((uint)(sent.Length + 4), h.Nic.Read(E1000Reg.Totl));
    }

    [Fact]
    public void ChecksumThatComputesToZeroLeavesAsFfff()
    {
        var h = new DataPlaneHarness();
        byte[] frame = Frames.Udp4(Frames.PeerMac, 20);
        Span<byte> udp = frame.AsSpan(34);
        udp[6] = 0;
        udp[7] = 0;
        udp[8] = 0;
        udp[9] = 0;

        // Choose the first payload word so that the region sums to 0xFFFF: the complement is 0.
        ushort partial = (ushort)InternetChecksum.Fold(InternetChecksum.Add(0, udp[..28]));
        BinaryPrimitives.WriteUInt16BigEndian(udp[8..], (ushort)~partial);
        h.PutTx(DataPlaneHarness.Context(0, 0, 0, 34, 40, 0, 0, E1000Bits.TxdTucmdIp, 0, 0));
        h.PutTx(DataPlaneHarness.Data(h.TxBuffer(1, frame), frame.Length, Eop | Rs, E1000Bits.TxPoptsTxsm));
        h.Kick();
        byte[] sent = Assert.Single(h.Probe.Frames);
        Assert.Equal(0xFFFF, BinaryPrimitives.ReadUInt16BigEndian(sent.AsSpan(40)));
    }

    [Fact]
    public void DataDescriptorUsesTheLastContextLoaded()
    {
        // §3.3.6: one context. After a TSO context (TCP checksum at 50) a plain packet with TXSM uses it too;
        // QEMU would still use the earlier UDP context (checksum at 40).
        var h = new DataPlaneHarness();
        (byte[] header, byte[] data) = TcpPacket(ipv6: false, 2000);
        h.PutTx(DataPlaneHarness.Context(14, 24, 33, 34, 40, 0, 0, E1000Bits.TxdTucmdIp, 0, 0));
        h.PutTx(DataPlaneHarness.Context(14, 24, 33, 34, 50, 0, 2000, E1000Bits.TxdCmdTse | E1000Bits.TxdTucmdIp | E1000Bits.TxdTucmdTcp, (byte)header.Length, 1000));
        h.PutTx(DataPlaneHarness.Data(h.TxBuffer(2, header), header.Length, E1000Bits.TxdCmdTse, E1000Bits.TxPoptsIxsm | E1000Bits.TxPoptsTxsm));
        h.PutTx(DataPlaneHarness.Data(h.TxBuffer(3, data), data.Length, E1000Bits.TxdCmdTse | Eop | Rs, 0));
        byte[] udp = Frames.Udp4(Frames.PeerMac, 100);
        byte[] original = (byte[])udp.Clone();
        h.PutTx(DataPlaneHarness.Data(h.TxBuffer(4, udp), udp.Length, Eop | Rs, E1000Bits.TxPoptsTxsm));
        h.Kick();
        Assert.Equal(3, h.Probe.Frames.Count);
        byte[] sent = h.Probe.Frames[2];
        Assert.Equal(original.AsSpan(40, 2).ToArray(), sent.AsSpan(40, 2).ToArray());
        Assert.NotEqual(original.AsSpan(50, 2).ToArray(), sent.AsSpan(50, 2).ToArray());
    }

    [Fact]
    public void PhyLoopbackBringsTheFrameBackToReceive()
    {
        var h = new DataPlaneHarness(rctl: E1000Bits.RctlEn | E1000Bits.RctlBam | E1000Bits.RctlUpe);
        h.Nic.PhyWrite(M88Phy.Control, 0x4140);
        byte[] frame = Frames.Ethernet(Frames.PeerMac, 0x88B5, 100);
        h.PutTx(DataPlaneHarness.Legacy(h.TxBuffer(0, frame), frame.Length, Eop | Rs));
        h.Kick();
        Assert.Empty(h.Probe.Frames);
        Assert.Equal(1, h.Stats.RxDelivered);
        Assert.Equal(frame, h.RxBuffer(0, frame.Length));
    }

    [Fact]
    public void MacLoopbackBringsTheFrameBackToReceive()
    {
        var h = new DataPlaneHarness(rctl: E1000Bits.RctlEn | E1000Bits.RctlUpe | E1000Bits.RctlLbmMac);
        byte[] frame = Frames.Ethernet(Frames.PeerMac, 0x88B5, 100);
        h.PutTx(DataPlaneHarness.Legacy(h.TxBuffer(0, frame), frame.Length, Eop | Rs));
        h.Kick();
        Assert.Empty(h.Probe.Frames);
        Assert.Equal(1, h.Stats.RxDelivered);
    }

    [Fact]
    public void TidvDelaysTxdwForIdeDescriptors()
    {
        var h = new DataPlaneHarness();
        h.Nic.Write(E1000Reg.Tidv, 64);
        h.Nic.Read(E1000Reg.Icr);
        byte[] frame = Frames.Ethernet(Frames.PeerMac, 0x88B5, 100);
        h.PutTx(DataPlaneHarness.Legacy(h.TxBuffer(0, frame), frame.Length, Eop | Rs | E1000Bits.TxdCmdIde));
        h.Kick();
        Assert.Equal(0u, h.Nic.Read(E1000Reg.Icr) & E1000Bits.IcrTxdw);
        h.Nic.Machine.Scheduler.RunFor(64 * 1024);
        Assert.NotEqual(0u, h.Nic.Read(E1000Reg.Icr) & E1000Bits.IcrTxdw);
    }

    [Fact]
    public void NoTransmitWithoutEnableOrWire()
    {
        var h = new DataPlaneHarness();
        h.Nic.Write(E1000Reg.Tctl, 0);
        byte[] frame = Frames.Ethernet(Frames.PeerMac, 0x88B5, 100);
        h.PutTx(DataPlaneHarness.Legacy(h.TxBuffer(0, frame), frame.Length, Eop | Rs));
        h.Kick();
        Assert.Empty(h.Probe.Frames);
        Assert.Equal(0u, h.Nic.Read(E1000Reg.Tdh));
        h.Device.Wire = null;
        h.Nic.Write(E1000Reg.Tctl, E1000Bits.TctlEn);
        Assert.Equal(1, h.Stats[E1000DropReason.TxNoWire]);
    }

    /// <summary>Ethernet + IPv4 or IPv6 + TCP (ACK|PSH|FIN, seq 1000) headers as a TSO prototype, and the payload.</summary>
    private static (byte[] Header, byte[] Payload) TcpPacket(bool ipv6, int payload)
    {
        int ipLength = ipv6 ? 40 : 20;
        byte[] header = new byte[14 + ipLength + 20];
        Frames.PeerMac.CopyTo(header, 0);
        Frames.NicMac.CopyTo(header, 6);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(12), ipv6 ? (ushort)0x86DD : (ushort)0x0800);
        Span<byte> ip = header.AsSpan(14);
        if (ipv6)
        {
            ip[0] = 0x60;
            ip[6] = 6;
            ip[7] = 64;
            ip[8] = 0xFE;
            ip[9] = 0x80;
            ip[23] = 1;
            ip[24] = 0xFE;
            ip[25] = 0x80;
            ip[39] = 2;
        }
        else
        {
            ip[0] = 0x45;
            BinaryPrimitives.WriteUInt16BigEndian(ip[4..], 0x1234);
            ip[8] = 64;
            ip[9] = 6;
            new byte[] { 10, 0, 0, 1, 10, 0, 0, 2 }.CopyTo(ip[12..]);
        }

        Span<byte> tcp = ip[ipLength..];
        BinaryPrimitives.WriteUInt16BigEndian(tcp, 5000);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[2..], 80);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[4..], 1000);
        tcp[12] = 0x50;
        tcp[13] = 0x19;
        BinaryPrimitives.WriteUInt16BigEndian(tcp[14..], 65535);

        // Linux's TSO seed: the pseudo-header sum without the length (§3.5.4).
        uint seed = ipv6 ? InternetChecksum.Add(0, ip.Slice(8, 32)) + 6 : InternetChecksum.Add(0, ip.Slice(12, 8)) + 6;
        BinaryPrimitives.WriteUInt16BigEndian(tcp[16..], (ushort)InternetChecksum.Fold(seed));

        byte[] data = new byte[payload];
        new Random(payload).NextBytes(data);
        return (header, data);
    }
}
