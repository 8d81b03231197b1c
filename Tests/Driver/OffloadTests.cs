using System.Buffers.Binary;
using Emu.Emulator.E1000;
using Emu.Emulator.Machine;
using Emu.Emulator.Wire;
using Emu.Host;
using Emu.Stack.Core;

namespace Emu.Tests.Driver;

/// <summary>Checksum offload and TSO as the driver asks for them and the device performs them, across two nodes.</summary>
public sealed class OffloadTests
{
    private const long Second = 1_000_000_000;

    private static (Node A, Node B, List<byte[]> Received) Pair()
    {
        var scheduler = new EventScheduler();
        var a = new Node(Node.WithMac("52:54:00:12:34:56"), scheduler: scheduler);
        var b = new Node(Node.WithMac("52:54:00:12:34:57"), scheduler: scheduler);
        var link = new WireLink(scheduler);
        WireLink.Attach(link.A, a.Machine.Nic);
        WireLink.Attach(link.B, b.Machine.Nic);
        a.Boot();
        b.Boot();
        var received = new List<byte[]>();
        foreach (ushort type in new ushort[] { 0x0800, 0x86DD })
        {
            b.Kernel.Net.DevAddPack(type, (skb, dev) =>
            {
                received.Add(skb.DataSpan.ToArray());
                skb.Free();
            });
        }

        a.Kernel.Net.DevOpen(a.Netdev!);
        b.Kernel.Net.DevOpen(b.Netdev!);
        Assert.True(a.Kernel.RunUntil(() => a.Netdev!.Carrier && b.Netdev!.Carrier, 10 * Second));
        return (a, b, received);
    }

    /// <summary>An Ethernet + IPv4/IPv6 + TCP skb as the stack hands it to a driver for TSO or checksum offload.</summary>
    private static SkBuff TcpSkb(NetDevice dev, byte[] destination, bool ipv6, int payload, int gsoSize)
    {
        int ipLength = ipv6 ? 40 : 20;
        int total = 14 + ipLength + 20 + payload;
        SkBuff skb = SkBuff.NetdevAlloc(dev, total);
        Span<byte> f = skb.Put(total);
        f.Clear();
        destination.CopyTo(f);
        dev.DevAddr.CopyTo(f[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(f[12..], ipv6 ? (ushort)0x86DD : (ushort)0x0800);
        Span<byte> ip = f[14..];
        if (ipv6)
        {
            ip[0] = 0x60;
            BinaryPrimitives.WriteUInt16BigEndian(ip[4..], (ushort)(gsoSize > 0 ? 0 : 20 + payload));
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
            BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(gsoSize > 0 ? 0 : 40 + payload));
            BinaryPrimitives.WriteUInt16BigEndian(ip[4..], 0x4242);
            ip[8] = 64;
            ip[9] = 6;
            new byte[] { 10, 0, 0, 1, 10, 0, 0, 2 }.CopyTo(ip[12..]);
            if (gsoSize == 0)
            {
                BinaryPrimitives.WriteUInt16BigEndian(ip[10..], InternetChecksum.Finish(InternetChecksum.Add(0, ip[..20])));
            }
        }

        Span<byte> tcp = ip[ipLength..];
        BinaryPrimitives.WriteUInt16BigEndian(tcp, 40000);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[2..], 80);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[4..], 7777);
        tcp[12] = 0x50;
        tcp[13] = 0x18;
        for (int i = 0; i < payload; i++)
        {
            tcp[20 + i] = (byte)(i * 7);
        }

        // Linux's CHECKSUM_PARTIAL seed: the pseudo-header sum (with the length unless GSO).
        uint seed = (ipv6 ? InternetChecksum.Add(0, ip.Slice(8, 32)) : InternetChecksum.Add(0, ip.Slice(12, 8))) + 6 + (uint)(gsoSize > 0 ? 0 : 20 + payload);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[16..], (ushort)InternetChecksum.Fold(seed));
        skb.Dev = dev;
        skb.NetworkHeader = skb.Data + 14;
        skb.TransportHeader = skb.Data + 14 + ipLength;
        skb.IpSummed = ChecksumState.Partial;
        skb.CsumStart = 14 + ipLength;
        skb.CsumOffset = 16;
        skb.GsoSize = gsoSize;
        skb.GsoType = gsoSize == 0 ? GsoType.None : ipv6 ? GsoType.TcpV6 : GsoType.TcpV4;
        return skb;
    }

    private static bool TransportValid(byte[] packet, bool ipv6)
    {
        if (ipv6)
        {
            int len = BinaryPrimitives.ReadUInt16BigEndian(packet.AsSpan(4));
            uint s6 = InternetChecksum.Add(0, packet.AsSpan(8, 32)) + packet[6] + (uint)len;
            return InternetChecksum.Add(s6, packet.AsSpan(40, len)) == 0xFFFF;
        }

        int total = BinaryPrimitives.ReadUInt16BigEndian(packet.AsSpan(2));
        uint s = InternetChecksum.Add(0, packet.AsSpan(12, 8)) + 6 + (uint)(total - 20);
        return InternetChecksum.Add(s, packet.AsSpan(20, total - 20)) == 0xFFFF && InternetChecksum.Add(0, packet.AsSpan(0, 20)) == 0xFFFF;
    }

    [Theory]
    [InlineData(false, 4000, 1448)]
    [InlineData(false, 2896, 1448)]
    [InlineData(true, 3000, 1428)]
    public void TsoSegmentsArriveWithValidHeadersAndChecksums(bool ipv6, int payload, int mss)
    {
        (Node a, Node b, List<byte[]> received) = Pair();
        a.Kernel.Net.DevQueueXmit(TcpSkb(a.Netdev!, b.Netdev!.DevAddr, ipv6, payload, mss));
        int segments = (payload + mss - 1) / mss;
        Assert.True(a.Kernel.RunUntil(() => received.Count == segments, Second));
        uint seq = 7777;
        foreach (byte[] packet in received)
        {
            Assert.True(TransportValid(packet, ipv6));
            Assert.Equal(seq, BinaryPrimitives.ReadUInt32BigEndian(packet.AsSpan((ipv6 ? 40 : 20) + 4)));
            int len = ipv6 ? BinaryPrimitives.ReadUInt16BigEndian(packet.AsSpan(4)) - 20 : BinaryPrimitives.ReadUInt16BigEndian(packet.AsSpan(2)) - 40;
            seq += (uint)len;
        }

        Assert.Equal(7777u + (uint)payload, seq);
        Assert.Equal((ulong)segments, a.Netdev!.Stats.TxPackets);
    }

    [Fact]
    public void ChecksumOffloadFillsTheTcpChecksumAndTheReceiverTrustsIt()
    {
        (Node a, Node b, List<byte[]> received) = Pair();
        a.Kernel.Net.DevQueueXmit(TcpSkb(a.Netdev!, b.Netdev!.DevAddr, ipv6: false, payload: 300, gsoSize: 0));
        Assert.True(a.Kernel.RunUntil(() => received.Count == 1, Second));
        Assert.True(TransportValid(received[0], ipv6: false));
        Assert.Equal(1, b.Adapter!.HwCsumGood);
    }
}
