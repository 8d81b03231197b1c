namespace Emu.Emulator.E1000;

/// <summary>
/// Why the device dropped a frame or refused a DMA. Every frame that reaches the device is either delivered (to the
/// host, or onto the wire) or counted under one of these, beside whatever hardware statistic the manual names.
/// </summary>
public enum E1000DropReason
{
    /// <summary>RX: RCTL.EN clear (§13.4.22): the receiver ignores frames.</summary>
    RxDisabled,

    /// <summary>RX: no link (STATUS.LU clear): the PHY receives nothing.</summary>
    RxLinkDown,

    /// <summary>RX: rejected by the address or VLAN filters (§3.2.1, §3.2.3).</summary>
    RxFiltered,

    /// <summary>RX: longer than 1522 (16384 with LPE) bytes with the FCS and SBP clear: ROC and RLEC (§13.7.15, §13.7.36).</summary>
    RxOversize,

    /// <summary>RX: the receive FIFO (PBA.RXA) had no room: MPC and ICR.RXO (§3.2.7.4, §13.7.5).</summary>
    RxFifoOverrun,

    /// <summary>RX: a descriptor or buffer address outside guest memory.</summary>
    RxDmaError,

    /// <summary>RX: frames waiting in the FIFO thrown away by a reset.</summary>
    RxFlushedByReset,

    /// <summary>TX: a descriptor or buffer address outside guest memory.</summary>
    TxDmaError,

    /// <summary>TX: a packet larger than the transmit FIFO allows (§3.3.7: 16288 bytes per legacy descriptor; 16 KB FIFO).</summary>
    TxOversize,

    /// <summary>TX: a TSO context that ended before its PAYLEN was sent, or with bad parameters: TSCTFC (§13.7.54).</summary>
    TxTsoContextFailed,

    /// <summary>TX: RDH/RDT/TDH/TDT outside the ring, or a zero-length ring: the engine stops (bounded, §3.2.6).</summary>
    RingInvalid,

    /// <summary>TX: no wire attached to the port.</summary>
    TxNoWire,

    /// <summary>RX: the device stopped after an internal error (<see cref="E1000Device.InternalError"/>).</summary>
    RxDeviceHalted,

    /// <summary>RX: a device fault gave the frame a bad FCS and RCTL.SBP is clear: CRCERRS (§13.7.1).</summary>
    RxCrcError,

    /// <summary>RX: a device fault had the PHY signal a receive error and RCTL.SBP is clear: RXERRC (§13.7.4).</summary>
    RxPhyError,
}
