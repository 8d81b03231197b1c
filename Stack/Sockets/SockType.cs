namespace Emu.Stack.Sockets;

/// <summary>The socket types of socket(2), with Linux's values.</summary>
public enum SockType
{
    Stream = 1,
    Dgram = 2,
    Raw = 3,
}
