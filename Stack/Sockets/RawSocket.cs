using System.Buffers.Binary;
using Emu.Stack.Core;
using Emu.Stack.Ipv6;
using Emu.Stack.Wire;

namespace Emu.Stack.Sockets;

/// <summary>
/// socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6) — rawv6_prot behind inet6_sockraw_ops: sends ICMPv6 messages whose
/// checksum the kernel computes (RFC 3542 §3.1) and receives a copy of every ICMPv6 message the node accepts, from
/// its type byte on (ping6 is built on it).
/// </summary>
public sealed class RawSocket : DatagramSocket
{
    internal RawSocket(Ipv6Stack stack, byte protocol)
        : base(stack, SockType.Raw, protocol)
    {
        stack.RawSockets.Add(this);
    }

    /// <summary>bind: the local address only (raw sockets have no ports).</summary>
    public override int Bind(Ipv6EndPoint local)
    {
        if (Closed)
        {
            return -Errno.EBadF;
        }

        if (!local.Address.IsUnspecified && !Stack.IsLocalAddress(local.Address))
        {
            return -Errno.EAddrNotAvail;
        }

        Local = new Ipv6EndPoint(local.Address, 0, local.ScopeId);
        return 0;
    }

    public override int Connect(Ipv6EndPoint remote)
    {
        if (Closed)
        {
            return -Errno.EBadF;
        }

        Remote = new Ipv6EndPoint(remote.Address, 0, remote.ScopeId);
        Connected = true;
        return 0;
    }

    /// <summary>sendto: <paramref name="message"/> is the whole ICMPv6 message; its checksum field is filled in.</summary>
    public override int SendTo(ReadOnlySpan<byte> message, Ipv6EndPoint to)
    {
        if (Closed)
        {
            return -Errno.EBadF;
        }

        if (message.Length < 4 || message.Length > 65535)
        {
            return -Errno.EInval;
        }

        NetDevice? oif = to.ScopeId != 0 ? Stack.DevByIndex(to.ScopeId) : Local.ScopeId != 0 ? Stack.DevByIndex(Local.ScopeId) : null;
        if (!Stack.Route(to.Address, oif, out Inet6Dev? idev, out _))
        {
            Stack.Snmp.Inc(Snmp6Counter.Ip6OutNoRoutes);
            return -Errno.ENetUnreach;
        }

        Ipv6Address source = Local.Address.IsUnspecified ? Stack.SelectSource(idev!, to.Address) : Local.Address;
        if (source.IsUnspecified)
        {
            return -Errno.EAddrNotAvail;
        }

        SkBuff skb = Ipv6Stack.AllocSkb(message.Length);
        Span<byte> m = skb.Put(message.Length);
        message.CopyTo(m);
        if (m[0] == Ipv6Stack.IcmpEchoRequest)
        {
            Stack.Snmp.Inc(Snmp6Counter.Icmp6OutEchos);
        }

        int result = Stack.IcmpSend(skb, idev!, source, to.Address, HopLimit);
        return result == 0 ? message.Length : result;
    }

    /// <summary>raw6_local_deliver: a copy of an accepted ICMPv6 message (skb data at its type byte).</summary>
    internal void Deliver(SkBuff skb, Ipv6Address source, Ipv6Address destination, Inet6Dev idev)
    {
        if ((!Local.Address.IsUnspecified && Local.Address != destination)
            || (Local.ScopeId != 0 && Local.ScopeId != idev.Dev.IfIndex)
            || (Connected && Remote.Address != source))
        {
            skb.Free();
            return;
        }

        QueueRcvSkb(skb, new Ipv6EndPoint(source, 0, source.IsLinkLocal ? idev.Dev.IfIndex : 0));
    }

    /// <summary>The identifier and sequence of an echo message, for ping.</summary>
    public static (ushort Identifier, ushort Sequence) EchoIds(ReadOnlySpan<byte> message)
        => message.Length < 8 ? default : (BinaryPrimitives.ReadUInt16BigEndian(message[4..]), BinaryPrimitives.ReadUInt16BigEndian(message[6..]));

    protected override void Unhash() => Stack.RawSockets.Remove(this);
}
