using Emu.Stack.Wire;

namespace Emu.Stack.Sockets;

/// <summary>struct sockaddr_in6: address, port and the scope id that picks the interface for link-local peers.</summary>
public readonly record struct Ipv6EndPoint(Ipv6Address Address, ushort Port, int ScopeId = 0)
{
    public override string ToString() => $"[{Address}{(ScopeId != 0 ? $"%{ScopeId}" : string.Empty)}]:{Port}";
}
