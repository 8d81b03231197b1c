using Emu.Stack.Ipv6;
using Emu.Stack.Sockets;
using Emu.Stack.Wire;

namespace Emu.Stack.Udp;

/// <summary>
/// socket(AF_INET6, SOCK_DGRAM, IPPROTO_UDP) — udpv6_prot behind inet6_dgram_ops: bind (an ephemeral port when
/// 0), connect (fixes the peer and filters what is received), sendto, recvfrom.
/// </summary>
public sealed class UdpSocket : DatagramSocket
{
    private readonly Udp6 _udp;

    internal UdpSocket(Udp6 udp, Ipv6Stack stack)
        : base(stack, SockType.Dgram, IpProto.Udp)
    {
        _udp = udp;
    }

    public bool IsBound => Local.Port != 0;

    /// <summary>bind: 0, -EINVAL when already bound, -EADDRINUSE, -EADDRNOTAVAIL for an address not ours.</summary>
    public override int Bind(Ipv6EndPoint local)
    {
        if (Closed)
        {
            return -Errno.EBadF;
        }

        if (IsBound)
        {
            return -Errno.EInval;
        }

        if (!local.Address.IsUnspecified && !local.Address.IsMulticast && !Stack.IsLocalAddress(local.Address))
        {
            return -Errno.EAddrNotAvail;
        }

        return _udp.Bind(this, local.Address, local.Port, local.ScopeId) ? 0 : -Errno.EAddrInUse;
    }

    /// <summary>connect: fixes the peer (binding an ephemeral port first if needed); only its datagrams are received.</summary>
    public override int Connect(Ipv6EndPoint remote)
    {
        if (Closed)
        {
            return -Errno.EBadF;
        }

        if (remote.Port == 0 || remote.Address.IsUnspecified)
        {
            return -Errno.EInval;
        }

        if (!IsBound && !_udp.Bind(this, Ipv6Address.Unspecified, 0, 0))
        {
            return -Errno.EAddrInUse;
        }

        Remote = remote;
        Connected = true;
        return 0;
    }

    public override int SendTo(ReadOnlySpan<byte> payload, Ipv6EndPoint to)
    {
        if (Closed)
        {
            return -Errno.EBadF;
        }

        if (to.Port == 0)
        {
            return -Errno.EInval;
        }

        if (!IsBound && !_udp.Bind(this, Ipv6Address.Unspecified, 0, 0))
        {
            return -Errno.EAddrInUse;
        }

        return _udp.Send(this, payload, to);
    }

    internal void SetLocal(Ipv6EndPoint local) => Local = local;

    protected override void Unhash() => _udp.Unbind(this);
}
