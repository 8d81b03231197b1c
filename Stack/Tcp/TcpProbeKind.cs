namespace Emu.Stack.Tcp;

/// <summary>What a <see cref="TcpProbe"/> is told about.</summary>
public enum TcpProbeKind
{
    /// <summary>A segment sent for the first time (data, SYN, FIN, an ACK, a RST, a window or keepalive probe).</summary>
    Send,

    /// <summary>A segment sent again: after an RTO, by fast retransmit or SACK loss recovery, or a SYN-ACK for a repeated SYN.</summary>
    Retransmit,

    /// <summary>A segment for the connection, after SEGMENT ARRIVES has processed it (RFC 9293 §3.10.7).</summary>
    Receive,

    /// <summary>The connection's state changed (<see cref="TcpProbeEvent.PreviousState"/> to the socket's).</summary>
    StateChange,

    /// <summary>The retransmission timer expired (RFC 6298 §5.4–5.7): backed off, cwnd collapsed, everything unSACKed lost.</summary>
    RetransmitTimeout,

    /// <summary>Fast retransmit: loss recovery starts (RFC 6675 with SACK, RFC 6582 NewReno without).</summary>
    RecoveryEnter,

    /// <summary>Loss recovery ends: a full acknowledgment (RFC 6582 §3.2 (3)), or an RTO that takes over.</summary>
    RecoveryExit,
}
