namespace Emu.Emulator.Replay;

/// <summary>
/// The session trace's container (docs/record-format.md): a magic and a format version, then LZ4 blocks, each
/// <c>u32 raw length, u32 stored length, u32 CRC-32 of the raw bytes</c> (little-endian) and the LZ4 block. A block's
/// raw bytes are whole records: <c>u8 kind, LEB128 time delta (ns since the previous record), LEB128 payload length,
/// payload</c>. The limits bound what a corrupt or hostile file can make a reader allocate.
/// </summary>
public static class TraceFormat
{
    public const int Version = 1;

    /// <summary>Raw bytes a writer gathers before it compresses a block.</summary>
    public const int BlockTarget = 64 * 1024;

    /// <summary>The largest raw block a reader accepts (a block holds at least one whole record).</summary>
    public const int MaxBlock = 4 * 1024 * 1024;

    /// <summary>The largest payload one record may carry.</summary>
    public const int MaxPayload = 2 * 1024 * 1024;

    public const int BlockHeaderLength = 12;

    /// <summary>"EMUTRACE" then the version as u32 little-endian.</summary>
    public static ReadOnlySpan<byte> Magic => "EMUTRACE"u8;
}
