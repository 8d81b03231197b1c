using Emu.Stack.Ipv6;

namespace Emu.Stack.Sockets;

/// <summary>struct inet_protosw: which protocol serves a (type, protocol) pair, and how its socket is made.</summary>
public sealed record InetProtosw(SockType Type, byte Protocol, string Name, Func<Ipv6Stack, Socket> Create);
