using Emu.Stack.Ipv6;
using Emu.Stack.Wire;

namespace Emu.Stack.Sockets;

/// <summary>
/// inet6_create for one node: socket(AF_INET6, type, protocol) looked up in the inetsw6 table — SOCK_STREAM with TCP,
/// SOCK_DGRAM with UDP (protocol 0 means the type's protocol), SOCK_RAW with ICMPv6. A pair nobody serves is refused as Linux refuses it.
/// </summary>
public sealed class Inet6Sockets
{
    private readonly Ipv6Stack _stack;
    private readonly List<InetProtosw> _protosw = [];

    public Inet6Sockets(Ipv6Stack stack)
    {
        _stack = stack;
        Register(new InetProtosw(SockType.Dgram, IpProto.Udp, "UDPv6", s => s.Udp.Socket()));
        Register(new InetProtosw(SockType.Raw, IpProto.Icmpv6, "RAWv6", s => new RawSocket(s, IpProto.Icmpv6)));
        Register(new InetProtosw(SockType.Stream, IpProto.Tcp, "TCPv6", s => s.Tcp.Socket()));
    }

    public IReadOnlyList<InetProtosw> Protocols => _protosw;

    /// <summary>inet6_register_protosw.</summary>
    public void Register(InetProtosw entry) => _protosw.Add(entry);

    /// <summary>socket(2): 0 and the socket, or -ESOCKTNOSUPPORT / -EPROTONOSUPPORT.</summary>
    public int Create(SockType type, int protocol, out Socket? socket)
    {
        socket = null;
        bool typeKnown = false;
        foreach (InetProtosw p in _protosw)
        {
            if (p.Type != type)
            {
                continue;
            }

            typeKnown = true;
            if (protocol == p.Protocol || (protocol == 0 && type != SockType.Raw))
            {
                socket = p.Create(_stack);
                return 0;
            }
        }

        return typeKnown ? -Errno.EProtoNoSupport : -Errno.ESockTNoSupport;
    }
}
