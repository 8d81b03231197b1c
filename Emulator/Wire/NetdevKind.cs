namespace Emu.Emulator.Wire;

/// <summary>The QEMU netdev backends Emu speaks (QEMU net/socket.c, net/stream.c, net/dgram.c).</summary>
public enum NetdevKind
{
    /// <summary>A byte stream carrying each frame as a 4-byte big-endian length and the frame (socket listen/connect, stream).</summary>
    Stream,

    /// <summary>One frame per datagram, no prefix (socket udp, dgram).</summary>
    Datagram,
}
