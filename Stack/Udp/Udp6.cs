using System.Buffers.Binary;
using Emu.Stack.Core;
using Emu.Stack.Ipv6;
using Emu.Stack.Sockets;
using Emu.Stack.Wire;

namespace Emu.Stack.Udp;

/// <summary>
/// UDP over IPv6 (RFC 768, RFC 8200 §8.1): receive with length and checksum checks (a zero checksum is invalid over
/// IPv6), demultiplexing to the most specific socket, port unreachable when none listens; send with the mandatory
/// checksum and ephemeral ports from Linux's range.
/// </summary>
public sealed class Udp6
{
    /// <summary>Linux ip_local_port_range.</summary>
    public const int EphemeralLow = 32768;
    public const int EphemeralHigh = 60999;

    private readonly Ipv6Stack _stack;
    private readonly List<UdpSocket> _sockets = [];
    private int _nextEphemeral = EphemeralLow;

    internal Udp6(Ipv6Stack stack)
    {
        _stack = stack;
    }

    public Snmp6 Snmp => _stack.Snmp;

    public UdpSocket Socket() => new(this, _stack);

    internal bool Bind(UdpSocket socket, Ipv6Address address, ushort port, int scopeId)
    {
        if (port == 0)
        {
            for (int i = 0; i <= EphemeralHigh - EphemeralLow; i++)
            {
                ushort candidate = (ushort)_nextEphemeral;
                _nextEphemeral = _nextEphemeral == EphemeralHigh ? EphemeralLow : _nextEphemeral + 1;
                if (!InUse(candidate, address))
                {
                    port = candidate;
                    break;
                }
            }

            if (port == 0)
            {
                return false;
            }
        }
        else if (InUse(port, address))
        {
            return false;
        }

        socket.SetLocal(new Ipv6EndPoint(address, port, scopeId));
        _sockets.Add(socket);
        return true;
    }

    internal void Unbind(UdpSocket socket) => _sockets.Remove(socket);

    private bool InUse(ushort port, Ipv6Address address)
    {
        foreach (UdpSocket s in _sockets)
        {
            if (s.Local.Port == port && (s.Local.Address.IsUnspecified || address.IsUnspecified || s.Local.Address == address))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>udpv6_rcv: skb data at the UDP header.</summary>
    internal void Rcv(SkBuff skb, Inet6Dev idev, Ipv6Address source, Ipv6Address destination, bool multicast)
    {
        ReadOnlySpan<byte> u = skb.DataSpan;
        if (u.Length < 8)
        {
            _stack.Drop(skb, Snmp6Counter.Udp6InErrors);
            return;
        }

        int length = BinaryPrimitives.ReadUInt16BigEndian(u[4..]);
        if (length < 8 || length > u.Length)
        {
            _stack.Drop(skb, Snmp6Counter.Udp6InErrors);
            return;
        }

        skb.Trim(length);
        u = skb.DataSpan;

        // RFC 8200 §8.1: the checksum is mandatory; a zero one means the packet is discarded.
        if (BinaryPrimitives.ReadUInt16BigEndian(u[6..]) == 0)
        {
            _stack.Drop(skb, Snmp6Counter.Udp6InErrors);
            return;
        }

        if (skb.IpSummed != ChecksumState.Unnecessary && !Checksum.Verify(source, destination, IpProto.Udp, u))
        {
            Snmp.Inc(Snmp6Counter.Udp6InCsumErrors);
            _stack.Drop(skb, Snmp6Counter.Udp6InErrors);
            return;
        }

        ushort sourcePort = BinaryPrimitives.ReadUInt16BigEndian(u);
        ushort destinationPort = BinaryPrimitives.ReadUInt16BigEndian(u[2..]);
        var from = new Ipv6EndPoint(source, sourcePort, source.IsLinkLocal ? idev.Dev.IfIndex : 0);
        skb.Pull(8);

        if (multicast)
        {
            // Every socket bound to the port (unbound or bound to the group) gets its copy (udp6_mcast_deliver).
            UdpSocket? last = null;
            bool delivered = false;
            foreach (UdpSocket s in _sockets)
            {
                if (Accepts(s, destination, from, destinationPort, idev))
                {
                    if (last is not null)
                    {
                        delivered |= Deliver(last, skb.Clone(), from);
                    }

                    last = s;
                }
            }

            if (last is null)
            {
                Snmp.Inc(Snmp6Counter.Udp6NoPorts);
                skb.Free();
                return;
            }

            delivered |= Deliver(last, skb, from);
            if (delivered)
            {
                Snmp.Inc(Snmp6Counter.Udp6InDatagrams);
            }

            return;
        }

        UdpSocket? best = null;
        int bestScore = -1;
        foreach (UdpSocket s in _sockets)
        {
            if (!Accepts(s, destination, from, destinationPort, idev))
            {
                continue;
            }

            int score = (s.Local.Address.IsUnspecified ? 0 : 2) + (s.Connected ? 4 : 0);
            if (score > bestScore)
            {
                best = s;
                bestScore = score;
            }
        }

        if (best is null)
        {
            // RFC 4443 §3.1: Destination Unreachable, port unreachable (code 4).
            Snmp.Inc(Snmp6Counter.Udp6NoPorts);
            _stack.IcmpError(skb, idev, Ipv6Stack.IcmpDestUnreachable, 4, 0, source, destination, multicast, forceEvenIfMulticast: false);
            skb.Free();
            return;
        }

        if (Deliver(best, skb, from))
        {
            Snmp.Inc(Snmp6Counter.Udp6InDatagrams);
        }
    }

    /// <summary>The lookup (udp6_lib_lookup): port, bound address, bound interface, connected peer.</summary>
    private static bool Accepts(UdpSocket s, Ipv6Address destination, Ipv6EndPoint from, ushort port, Inet6Dev idev)
    {
        if (s.Local.Port != port || (!s.Local.Address.IsUnspecified && s.Local.Address != destination))
        {
            return false;
        }

        if (s.Local.ScopeId != 0 && s.Local.ScopeId != idev.Dev.IfIndex)
        {
            return false;
        }

        return !s.Connected || (s.Remote.Address == from.Address && s.Remote.Port == from.Port);
    }

    private bool Deliver(UdpSocket socket, SkBuff skb, Ipv6EndPoint from)
    {
        if (socket.QueueRcvSkb(skb, from))
        {
            return true;
        }

        // __udp_queue_rcv_skb: the receive buffer is full.
        Snmp.Inc(Snmp6Counter.Udp6RcvbufErrors);
        Snmp.Inc(Snmp6Counter.Udp6InErrors);
        return false;
    }

    /// <summary>udpv6_sendmsg: header, mandatory checksum (0 sent as 0xFFFF, RFC 768), then ip6_xmit.</summary>
    internal int Send(UdpSocket socket, ReadOnlySpan<byte> payload, Ipv6EndPoint to)
    {
        if (payload.Length > 65535 - 8)
        {
            return -Errno.EMsgSize;
        }

        NetDevice? oif = null;
        if (to.ScopeId != 0)
        {
            oif = _stack.DevByIndex(to.ScopeId);
            if (oif is null)
            {
                return -Errno.EInval;   // no interface with that scope id
            }
        }
        else if (socket.Local.ScopeId != 0)
        {
            oif = _stack.DevByIndex(socket.Local.ScopeId);
        }
        else if ((to.Address.IsLinkLocal || to.Address.IsMulticast) && _stack.InterfaceCount > 1)
        {
            return -Errno.EInval;       // a link-local peer needs its link named (sin6_scope_id)
        }

        if (!_stack.Route(to.Address, oif, out Inet6Dev? idev, out _))
        {
            Snmp.Inc(Snmp6Counter.Ip6OutNoRoutes);
            return -Errno.ENetUnreach;
        }

        Ipv6Address source = socket.Local.Address.IsUnspecified || socket.Local.Address.IsMulticast ? _stack.SelectSource(idev!, to.Address) : socket.Local.Address;
        if (source.IsUnspecified)
        {
            return -Errno.EAddrNotAvail;
        }

        SkBuff skb = Ipv6Stack.AllocSkb(8 + payload.Length);
        Span<byte> u = skb.Put(8 + payload.Length);
        BinaryPrimitives.WriteUInt16BigEndian(u, socket.Local.Port);
        BinaryPrimitives.WriteUInt16BigEndian(u[2..], to.Port);
        BinaryPrimitives.WriteUInt16BigEndian(u[4..], (ushort)(8 + payload.Length));
        u[6] = 0;
        u[7] = 0;
        payload.CopyTo(u[8..]);
        ushort sum = Checksum.Compute(source, to.Address, IpProto.Udp, u);
        BinaryPrimitives.WriteUInt16BigEndian(u[6..], sum == 0 ? (ushort)0xFFFF : sum);
        Snmp.Inc(Snmp6Counter.Udp6OutDatagrams);
        int result = _stack.Ip6Xmit(skb, source, to.Address, IpProto.Udp, idev!.Dev, socket.HopLimit, fixedSource: true);
        return result == 0 ? payload.Length : result;
    }
}
