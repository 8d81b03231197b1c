namespace Emu.Stack.Sockets;

/// <summary>What recvfrom returns: the bytes copied, the sender, and MSG_TRUNC when the datagram was longer than the buffer.</summary>
public readonly record struct ReceiveResult(int Length, Ipv6EndPoint From, bool Truncated);
