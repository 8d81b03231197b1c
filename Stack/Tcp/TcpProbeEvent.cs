namespace Emu.Stack.Tcp;

/// <summary>
/// One TCP event for a <see cref="TcpProbe"/>: its kind, a short constant reason ("rto", "sack", "dupacks",
/// "keepalive", ...; empty when the kind says it all) and, for segments, the header's numbers. Passed by reference,
/// never allocated.
/// </summary>
public readonly struct TcpProbeEvent
{
    public TcpProbeEvent(TcpProbeKind kind, string reason, uint seq = 0, int length = 0, uint ack = 0, TcpFlags flags = 0, TcpState previousState = TcpState.Closed)
    {
        Kind = kind;
        Reason = reason;
        Seq = seq;
        Length = length;
        Ack = ack;
        Flags = flags;
        PreviousState = previousState;
    }

    public TcpProbeKind Kind { get; }

    public string Reason { get; }

    /// <summary>The segment's sequence number (<see cref="TcpProbeKind.Send"/>, <see cref="TcpProbeKind.Retransmit"/>, <see cref="TcpProbeKind.Receive"/>).</summary>
    public uint Seq { get; }

    /// <summary>The segment's data bytes (a TSO send: all its segments' bytes).</summary>
    public int Length { get; }

    /// <summary>The segment's acknowledgment number (meaningful with <see cref="TcpFlags.Ack"/>).</summary>
    public uint Ack { get; }

    public TcpFlags Flags { get; }

    /// <summary>The state before a <see cref="TcpProbeKind.StateChange"/>.</summary>
    public TcpState PreviousState { get; }

    /// <summary>Whether the event carries a segment.</summary>
    public bool IsSegment => Kind is TcpProbeKind.Send or TcpProbeKind.Retransmit or TcpProbeKind.Receive;
}
