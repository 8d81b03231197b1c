using System.Buffers.Binary;
using Emu.Stack.Core;
using Emu.Stack.Wire;

namespace Emu.Stack.Ipv6;

/// <summary>ICMPv6 (RFC 4443): echo, error messages with their suppression rules, and rate limiting.</summary>
public sealed partial class Ipv6Stack
{
    public const byte IcmpDestUnreachable = 1;
    public const byte IcmpPacketTooBig = 2;
    public const byte IcmpTimeExceeded = 3;
    public const byte IcmpParameterProblem = 4;
    public const byte IcmpEchoRequest = 128;
    public const byte IcmpEchoReply = 129;

    /// <summary>Linux icmp_msgs_per_sec and icmp_msgs_burst: the token bucket of RFC 4443 §2.4 (f).</summary>
    public const int IcmpRatePerSecond = 1000;
    public const int IcmpBurst = 50;

    /// <summary>RFC 4443 §2.4 (c): an error carries as much of the invoking packet as fits in the minimum MTU.</summary>
    private const int IcmpErrorMaxPayload = MinMtu - Ipv6Header.Length - 8;

    private double _icmpTokens;
    private long _icmpRefill;

    /// <summary>icmpv6_rcv: length and checksum, then by type.</summary>
    private void IcmpRcv(SkBuff skb, Inet6Dev idev, Ipv6Address source, Ipv6Address destination, bool multicast)
    {
        ReadOnlySpan<byte> m = skb.DataSpan;
        if (m.Length < 4)
        {
            Snmp.Inc(Snmp6Counter.Icmp6InErrors);
            skb.Free();
            return;
        }

        if (!Checksum.Verify(source, destination, IpProto.Icmpv6, m))
        {
            Snmp.Inc(Snmp6Counter.Icmp6InCsumErrors);
            Drop(skb, Snmp6Counter.Icmp6InErrors);
            return;
        }

        Snmp.Inc(Snmp6Counter.Icmp6InMsgs);
        byte type = m[0];
        byte code = m[1];
        byte hopLimit = skb.NetworkHeader >= 0 ? skb.Buffer[skb.NetworkHeader + 7] : (byte)0;
        IcmpReceived?.Invoke(source, destination, type, code, m.ToArray());
        for (int i = RawSockets.Count - 1; i >= 0; i--)
        {
            RawSockets[i].Deliver(skb.Clone(), source, destination, idev);
        }
        switch (type)
        {
            case IcmpEchoRequest:
                Snmp.Inc(Snmp6Counter.Icmp6InEchos);
                EchoReply(skb, idev, source, destination, multicast);
                return;
            case IcmpEchoReply:
                Snmp.Inc(Snmp6Counter.Icmp6InEchoReplies);
                break;
            case IcmpDestUnreachable:
                Snmp.Inc(Snmp6Counter.Icmp6InDestUnreachs);
                break;
            case IcmpPacketTooBig:
                Snmp.Inc(Snmp6Counter.Icmp6InPktTooBigs);
                PacketTooBigRcv(m, idev);
                break;
            case IcmpTimeExceeded:
                Snmp.Inc(Snmp6Counter.Icmp6InTimeExcds);
                break;
            case IcmpParameterProblem:
                Snmp.Inc(Snmp6Counter.Icmp6InParmProblems);
                break;
            case IcmpRouterSolicit:
            case IcmpRouterAdvert:
            case IcmpNeighborSolicit:
            case IcmpNeighborAdvert:
            case IcmpRedirect:
                NdiscRcv(skb, idev, source, destination, hopLimit);
                return;
            case IcmpMldQuery:
                MldQueryRcv(m, idev, source, hopLimit);
                break;
            case IcmpMldv2Report:
                Snmp.Inc(Snmp6Counter.Icmp6InMLDv2Reports);
                break;
        }

        skb.Free();
    }

    /// <summary>RFC 8201 §4: how long a learnt path MTU holds before the link MTU is tried again.</summary>
    public const long PathMtuAgeNs = 600_000_000_000;

    /// <summary>
    /// A Packet Too Big (RFC 4443 §3.2, RFC 8201 §4): about a packet of ours (its source one of our addresses, or it is
    /// ignored, §5.2), it lowers the path MTU to its destination — never below 1280 (RFC 8200 §5).
    /// </summary>
    private void PacketTooBigRcv(ReadOnlySpan<byte> m, Inet6Dev idev)
    {
        if (m.Length < 8 + Ipv6Header.Length)
        {
            Snmp.Inc(Snmp6Counter.Icmp6InErrors);
            return;
        }

        uint mtu = BinaryPrimitives.ReadUInt32BigEndian(m[4..]);
        Ipv6Address ourSource = Ipv6Address.Read(m[(8 + 8)..]);
        Ipv6Address destination = Ipv6Address.Read(m[(8 + 24)..]);
        if (idev.Find(ourSource) is null || destination.IsMulticast)
        {
            return;
        }

        int pmtu = (int)Math.Clamp(mtu, MinMtu, (uint)idev.Mtu);
        if (pmtu < PathMtu(idev, destination))
        {
            if (idev.PathMtu.Count >= MaxNeighbours && !idev.PathMtu.ContainsKey(destination))
            {
                idev.PathMtu.Clear();   // a flood: start again from the link MTU
            }

            idev.PathMtu[destination] = (pmtu, Clock.Now + PathMtuAgeNs);
        }
    }

    /// <summary>icmpv6_echo_reply: same identifier, sequence and data; to a multicast request from a unicast source (§4.2).</summary>
    private void EchoReply(SkBuff request, Inet6Dev idev, Ipv6Address source, Ipv6Address destination, bool multicast)
    {
        ReadOnlySpan<byte> m = request.DataSpan;
        SkBuff reply = AllocSkb(m.Length);
        Span<byte> r = reply.Put(m.Length);
        m.CopyTo(r);
        r[0] = IcmpEchoReply;
        r[1] = 0;
        request.Free();
        Ipv6Address from = multicast ? SelectSource(idev, source) : destination;
        Snmp.Inc(Snmp6Counter.Icmp6OutEchoReplies);
        IcmpSend(reply, idev, from, source, -1);
    }

    /// <summary>Sends an echo request (ping6) from this node; the reply comes back through <see cref="IcmpReceived"/>.</summary>
    public int SendEcho(Ipv6Address destination, ushort identifier, ushort sequence, ReadOnlySpan<byte> payload, NetDevice? oif = null)
    {
        if (!Route(destination, oif, out Inet6Dev? idev, out _))
        {
            Snmp.Inc(Snmp6Counter.Ip6OutNoRoutes);
            return -101;
        }

        SkBuff skb = AllocSkb(8 + payload.Length);
        Span<byte> m = skb.Put(8 + payload.Length);
        m.Clear();
        m[0] = IcmpEchoRequest;
        BinaryPrimitives.WriteUInt16BigEndian(m[4..], identifier);
        BinaryPrimitives.WriteUInt16BigEndian(m[6..], sequence);
        payload.CopyTo(m[8..]);
        Snmp.Inc(Snmp6Counter.Icmp6OutEchos);
        return IcmpSend(skb, idev!, SelectSource(idev!, destination), destination, -1);
    }

    /// <summary>Checksums an ICMPv6 message (skb data) and sends it with exactly the given source.</summary>
    internal int IcmpSend(SkBuff skb, Inet6Dev idev, Ipv6Address source, Ipv6Address destination, int hopLimit, bool routerAlert = false)
    {
        Span<byte> m = skb.DataSpan;
        m[2] = 0;
        m[3] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(m[2..], Checksum.Compute(source, destination, IpProto.Icmpv6, m));
        Snmp.Inc(Snmp6Counter.Icmp6OutMsgs);
        return Ip6Xmit(skb, source, destination, IpProto.Icmpv6, idev.Dev, hopLimit, routerAlert, fixedSource: true);
    }

    /// <summary>Parameter Problem (type 4) with a pointer into the invoking packet.</summary>
    internal void ParameterProblem(SkBuff skb, Inet6Dev idev, byte code, int pointer, Ipv6Address source, Ipv6Address destination, bool multicast, bool forceEvenIfMulticast)
        => IcmpError(skb, idev, IcmpParameterProblem, code, (uint)pointer, source, destination, multicast, forceEvenIfMulticast);

    /// <summary>
    /// icmp6_send: an error about the packet in <paramref name="skb"/> (its IPv6 header at skb.NetworkHeader), unless
    /// RFC 4443 §2.4 (e) forbids it — an error about an error, about a multicast destination (apart from Packet Too
    /// Big and Parameter Problem code 2), about a source that is not a unique unicast address — or the rate limit
    /// (§2.4 (f)) holds it back.
    /// </summary>
    internal void IcmpError(SkBuff skb, Inet6Dev idev, byte type, byte code, uint info, Ipv6Address source, Ipv6Address destination, bool multicast, bool forceEvenIfMulticast)
    {
        if (source.IsUnspecified || source.IsMulticast || (multicast && !forceEvenIfMulticast) || skb.NetworkHeader < 0 || IsIcmpError(skb))
        {
            return;
        }

        if (!TakeIcmpToken())
        {
            Snmp.Inc(Snmp6Counter.Icmp6OutRateLimited);
            return;
        }

        ReadOnlySpan<byte> original = skb.Buffer.AsSpan(skb.NetworkHeader, Math.Min(skb.Tail - skb.NetworkHeader, IcmpErrorMaxPayload));
        SkBuff error = AllocSkb(8 + original.Length);
        Span<byte> m = error.Put(8 + original.Length);
        m[0] = type;
        m[1] = code;
        BinaryPrimitives.WriteUInt32BigEndian(m[4..], info);
        original.CopyTo(m[8..]);
        Ipv6Address from = !multicast && idev.Find(destination) is { Usable: true } ? destination : SelectSource(idev, source);
        Snmp.Inc(type switch
        {
            IcmpDestUnreachable => Snmp6Counter.Icmp6OutDestUnreachs,
            IcmpPacketTooBig => Snmp6Counter.Icmp6OutPktTooBigs,
            IcmpTimeExceeded => Snmp6Counter.Icmp6OutTimeExcds,
            _ => Snmp6Counter.Icmp6OutParmProblems,
        });
        Snmp.Inc(Snmp6Counter.Icmp6OutErrors);
        IcmpSend(error, idev, from, source, -1);
    }

    /// <summary>True when the invoking packet is itself an ICMPv6 error (types below 128).</summary>
    private static bool IsIcmpError(SkBuff skb)
    {
        ReadOnlySpan<byte> p = skb.Buffer.AsSpan(skb.NetworkHeader, skb.Tail - skb.NetworkHeader);
        if (p.Length < Ipv6Header.Length)
        {
            return false;
        }

        byte next = p[6];
        int offset = Ipv6Header.Length;
        for (int i = 0; i < 8 && next is IpProto.HopByHop or IpProto.Routing or IpProto.DestOptions && offset + 2 <= p.Length; i++)
        {
            next = p[offset];
            offset += (p[offset + 1] + 1) * 8;
        }

        return next == IpProto.Icmpv6 && offset < p.Length && p[offset] < 128;
    }

    private bool TakeIcmpToken()
    {
        long now = Clock.Now;
        _icmpTokens = Math.Min(IcmpBurst, _icmpTokens + ((now - _icmpRefill) / 1e9 * IcmpRatePerSecond));
        _icmpRefill = now;
        if (_icmpTokens < 1)
        {
            return false;
        }

        _icmpTokens -= 1;
        return true;
    }
}
