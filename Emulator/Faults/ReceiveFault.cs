namespace Emu.Emulator.Faults;

/// <summary>What a device fault does to a frame reaching the receive packet buffer.</summary>
public enum ReceiveFault
{
    None,

    /// <summary>Bad FCS: CRCERRS (§13.7.1); stored with RDESC.ERRORS.CE only with RCTL.SBP (§3.2.3.2).</summary>
    CrcError,

    /// <summary>The PHY asserted RX_ER: RXERRC (§13.7.4); stored with RDESC.ERRORS.RXE only with RCTL.SBP.</summary>
    RxError,

    /// <summary>The receive FIFO takes nothing: MPC (§13.7.5) and ICR.RXO (§3.2.7.4).</summary>
    Overrun,

    /// <summary>The descriptors look used (head = tail): RNBC (§13.7.33) and ICR.RXDMT0; the frame waits in the FIFO.</summary>
    NoBuffer,
}
