namespace Emu.Stack.Sockets;

/// <summary>One received datagram: its bytes and where it came from.</summary>
public readonly record struct Datagram(byte[] Data, int Length, Ipv6EndPoint From)
{
    public ReadOnlySpan<byte> Span => Data.AsSpan(0, Length);
}
