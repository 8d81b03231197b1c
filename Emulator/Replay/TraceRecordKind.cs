namespace Emu.Emulator.Replay;

/// <summary>What one record of a session trace holds (docs/record-format.md). Values are the format's; never renumber.</summary>
public enum TraceRecordKind : byte
{
    /// <summary>The session's header: UTF-8 JSON (<see cref="TraceHeader"/>). Always the first record.</summary>
    Header = 1,

    /// <summary>A frame from the netdev, as it entered the node.</summary>
    FrameIn = 2,

    /// <summary>The netdev's carrier: one byte, 1 up, 0 down.</summary>
    Carrier = 3,

    /// <summary>A control-socket command that changed the node (UTF-8 JSON line: arm, disarm).</summary>
    Control = 4,

    /// <summary>The outputs so far: u64 count, u64 digest (<see cref="OutputDigest"/>).</summary>
    Digest = 5,

    /// <summary>A qtest command line (UTF-8, no newline).</summary>
    QtestLine = 6,

    /// <summary>The session's end: u64 count, u64 digest, then the final counters as UTF-8 text.</summary>
    End = 7,
}
