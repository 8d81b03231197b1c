using System.Buffers.Binary;
using Emu.Stack.Wire;

namespace Emu.Tests.Stack;

/// <summary>Builds IPv6 packets for stack tests, checksums correct unless asked otherwise.</summary>
public static class Packets
{
    public static readonly byte[] PeerMac = [0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc];

    public static readonly Ipv6Address PeerLinkLocal = Ipv6Address.LinkLocalFromMac(PeerMac);

    public static byte[] Ipv6(Ipv6Address source, Ipv6Address destination, byte nextHeader, ReadOnlySpan<byte> payload, byte hopLimit = 64)
    {
        byte[] p = new byte[40 + payload.Length];
        Ipv6Header.Write(p, payload.Length, nextHeader, hopLimit, source, destination);
        payload.CopyTo(p.AsSpan(40));
        return p;
    }

    /// <summary>An ICMPv6 message (type, code, then <paramref name="body"/> from byte 4) with its checksum.</summary>
    public static byte[] IcmpMessage(Ipv6Address source, Ipv6Address destination, byte type, byte code, ReadOnlySpan<byte> body)
    {
        byte[] m = new byte[4 + body.Length];
        m[0] = type;
        m[1] = code;
        body.CopyTo(m.AsSpan(4));
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(2), Checksum.Compute(source, destination, IpProto.Icmpv6, m));
        return m;
    }

    public static byte[] Icmp(Ipv6Address source, Ipv6Address destination, byte type, byte code, ReadOnlySpan<byte> body, byte hopLimit = 64)
        => Ipv6(source, destination, IpProto.Icmpv6, IcmpMessage(source, destination, type, code, body), hopLimit);

    public static byte[] EchoBody(ushort identifier, ushort sequence, int dataLength)
    {
        byte[] body = new byte[4 + dataLength];
        BinaryPrimitives.WriteUInt16BigEndian(body, identifier);
        BinaryPrimitives.WriteUInt16BigEndian(body.AsSpan(2), sequence);
        for (int i = 0; i < dataLength; i++)
        {
            body[4 + i] = (byte)(i * 7);
        }

        return body;
    }

    public static byte[] EchoRequest(Ipv6Address source, Ipv6Address destination, ushort identifier, ushort sequence, int dataLength = 56)
        => Icmp(source, destination, 128, 0, EchoBody(identifier, sequence, dataLength));

    public static byte[] UdpMessage(Ipv6Address source, Ipv6Address destination, ushort sourcePort, ushort destinationPort, ReadOnlySpan<byte> payload, bool zeroChecksum = false)
    {
        byte[] u = new byte[8 + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(u, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(u.AsSpan(2), destinationPort);
        BinaryPrimitives.WriteUInt16BigEndian(u.AsSpan(4), (ushort)u.Length);
        payload.CopyTo(u.AsSpan(8));
        if (!zeroChecksum)
        {
            ushort sum = Checksum.Compute(source, destination, IpProto.Udp, u);
            BinaryPrimitives.WriteUInt16BigEndian(u.AsSpan(6), sum == 0 ? (ushort)0xFFFF : sum);
        }

        return u;
    }

    public static byte[] Udp(Ipv6Address source, Ipv6Address destination, ushort sourcePort, ushort destinationPort, ReadOnlySpan<byte> payload, bool zeroChecksum = false)
        => Ipv6(source, destination, IpProto.Udp, UdpMessage(source, destination, sourcePort, destinationPort, payload, zeroChecksum));

    /// <summary>One fragment: a Fragment header (offset in bytes, a multiple of 8) and that part of the fragmentable data.</summary>
    public static byte[] Fragment(Ipv6Address source, Ipv6Address destination, byte nextHeader, uint identification, int offset, bool more, ReadOnlySpan<byte> data)
    {
        byte[] f = new byte[8 + data.Length];
        f[0] = nextHeader;
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(2), (ushort)(offset | (more ? 1 : 0)));
        BinaryPrimitives.WriteUInt32BigEndian(f.AsSpan(4), identification);
        data.CopyTo(f.AsSpan(8));
        return Ipv6(source, destination, IpProto.Fragment, f);
    }

    /// <summary>Splits an upper-layer message into fragments of <paramref name="size"/> bytes (the last may be shorter).</summary>
    public static List<byte[]> Fragments(Ipv6Address source, Ipv6Address destination, byte nextHeader, uint identification, ReadOnlySpan<byte> message, int size)
    {
        var list = new List<byte[]>();
        for (int offset = 0; offset < message.Length; offset += size)
        {
            int n = Math.Min(size, message.Length - offset);
            list.Add(Fragment(source, destination, nextHeader, identification, offset, offset + n < message.Length, message.Slice(offset, n)));
        }

        return list;
    }

    /// <summary>A hop-by-hop or destination options header of 8 bytes holding one option (type, data) and padding.</summary>
    public static byte[] OptionsHeader(byte nextHeader, byte optionType, int optionDataLength = 2)
    {
        byte[] h = new byte[8];
        h[0] = nextHeader;
        h[1] = 0;
        h[2] = optionType;
        h[3] = (byte)optionDataLength;
        int pad = 8 - 4 - optionDataLength;
        if (pad == 1)
        {
            h[4 + optionDataLength] = 0;
        }
        else if (pad >= 2)
        {
            h[4 + optionDataLength] = 1;
            h[5 + optionDataLength] = (byte)(pad - 2);
        }

        return h;
    }

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    public static byte[] NeighborSolicit(Ipv6Address source, Ipv6Address destination, Ipv6Address target, byte[]? sourceMac, byte hopLimit = 255, ulong nonce = 0)
    {
        var body = new List<byte>(new byte[4]);
        byte[] t = new byte[16];
        target.Write(t);
        body.AddRange(t);
        if (sourceMac is not null)
        {
            body.AddRange([1, 1]);
            body.AddRange(sourceMac);
        }

        if (nonce != 0)
        {
            body.AddRange([14, 1, (byte)(nonce >> 40), (byte)(nonce >> 32), (byte)(nonce >> 24), (byte)(nonce >> 16), (byte)(nonce >> 8), (byte)nonce]);
        }

        return Icmp(source, destination, 135, 0, body.ToArray(), hopLimit);
    }

    public static byte[] NeighborAdvert(Ipv6Address source, Ipv6Address destination, Ipv6Address target, byte[]? targetMac, bool solicited, bool overrideFlag, byte hopLimit = 255)
    {
        var body = new List<byte> { (byte)((solicited ? 0x40 : 0) | (overrideFlag ? 0x20 : 0)), 0, 0, 0 };
        byte[] t = new byte[16];
        target.Write(t);
        body.AddRange(t);
        if (targetMac is not null)
        {
            body.AddRange([2, 1]);
            body.AddRange(targetMac);
        }

        return Icmp(source, destination, 136, 0, body.ToArray(), hopLimit);
    }

    /// <summary>A Router Advertisement from <paramref name="router"/> with a source link-layer option and one prefix.</summary>
    public static byte[] RouterAdvert(Ipv6Address router, ushort routerLifetime, Ipv6Address prefix, uint valid, uint preferred, bool autonomous = true, uint mtu = 0)
    {
        var body = new List<byte> { 64, 0 };
        body.AddRange([(byte)(routerLifetime >> 8), (byte)routerLifetime]);
        body.AddRange(new byte[8]);   // reachable time, retrans timer: unspecified
        body.AddRange([1, 1]);
        body.AddRange(PeerMac);
        byte[] pi = new byte[32];
        pi[0] = 3;
        pi[1] = 4;
        pi[2] = 64;
        pi[3] = (byte)(0x80 | (autonomous ? 0x40 : 0));
        BinaryPrimitives.WriteUInt32BigEndian(pi.AsSpan(4), valid);
        BinaryPrimitives.WriteUInt32BigEndian(pi.AsSpan(8), preferred);
        prefix.Write(pi.AsSpan(16));
        body.AddRange(pi);
        if (mtu != 0)
        {
            byte[] o = new byte[8];
            o[0] = 5;
            o[1] = 1;
            BinaryPrimitives.WriteUInt32BigEndian(o.AsSpan(4), mtu);
            body.AddRange(o);
        }

        return Icmp(router, Ipv6Address.AllNodes, 134, 0, body.ToArray(), 255);
    }
}
