namespace Emu.Emulator.Replay;

/// <summary>One record read back: its kind, the virtual time it entered the node, its index in the trace, and its payload (valid until the next read).</summary>
public readonly ref struct TraceRecord(TraceRecordKind kind, long time, long index, ReadOnlySpan<byte> payload)
{
    public TraceRecordKind Kind { get; } = kind;

    /// <summary>Virtual time in nanoseconds.</summary>
    public long Time { get; } = time;

    /// <summary>0 for the header, then 1, 2, ... in file order.</summary>
    public long Index { get; } = index;

    public ReadOnlySpan<byte> Payload { get; } = payload;
}
