namespace Emu.Emulator.Instruments;

/// <summary>One <c>--check</c> rule: what the 8254x manual forbids or warns against, and where it says so.</summary>
public sealed record CheckRule(string Id, string Section, string Rule);

/// <summary>Every rule <see cref="DeviceChecker"/> applies, in the order README's table lists them.</summary>
public static class CheckRules
{
    public static readonly CheckRule RingBaseAlign = new("ring-base-align", "§3.2.6, §13.4.36", "a descriptor ring's base (RDBAL/TDBAL) must be 16-byte aligned; the device ignores bits 3:0");
    public static readonly CheckRule RingLength = new("ring-length", "§13.4.27, §13.4.38", "RDLEN/TDLEN must be a non-zero multiple of 128 bytes (eight descriptors); the device ignores bits 6:0");
    public static readonly CheckRule TailOutsideRing = new("tail-outside-ring", "§3.2.6, §13.4.29, §13.4.40", "RDT/TDT must point inside the ring (below RDLEN/16, TDLEN/16)");
    public static readonly CheckRule HeadOutsideRing = new("head-outside-ring", "§13.4.28, §13.4.39", "RDH/TDH written outside the ring (at or past RDLEN/16, TDLEN/16); Emu stops that engine, QEMU wraps the head (deviation tx-head-outside-ring)");
    public static readonly CheckRule TdtWhileDisabled = new("tdt-while-disabled", "§3.3.1, §13.4.33", "TDT moved while TCTL.EN was clear, and the unit was reset or the run ended before TCTL.EN was set: those descriptors were never sent (queuing ahead of EN is allowed)");
    public static readonly CheckRule HeadWhileEnabled = new("head-while-enabled", "§13.4.28, §13.4.39", "RDH/TDH are the hardware's: software writes them only after a reset and before the unit is enabled");
    public static readonly CheckRule DescriptorReclaimed = new("descriptor-reclaimed", "§3.2.6, §3.3.1", "the tail moved back over descriptors the device owned and had not yet written back (DD)");
    public static readonly CheckRule DmaOutsideMemory = new("dma-outside-ram", "§3.2.3, §3.3.3", "a descriptor or buffer address outside guest RAM (a master abort on a real bus)");
    public static readonly CheckRule BufferSizeReserved = new("rctl-bsize-reserved", "§13.4.22, §3.2.2", "RCTL.BSEX = 1 with BSIZE = 00 is reserved");
    public static readonly CheckRule ContextOffsets = new("context-offsets", "§3.3.6", "a TSO context descriptor's checksum offsets (IPCSS/IPCSO/TUCSS/TUCSO) lie past HDRLEN, or an end lies before its start");
    public static readonly CheckRule TsoContext = new("tso-context", "§3.3.6, §3.5.5", "TSO with MSS or HDRLEN out of range (HDRLEN ≤ 240, MSS + HDRLEN within the transmit FIFO less 80 bytes, neither 0)");
    public static readonly CheckRule CauseNeverCleared = new("ims-never-cleared", "§13.4.17, §13.4.20", "a cause enabled in IMS has held INTx asserted for a second without the driver reading or writing ICR");
    public static readonly CheckRule ReadOfWriteOnly = new("read-write-only", "§13.4 (register summary)", "a read of a write-only register (IMC, ICS, ...): it returns nothing meaningful");
    public static readonly CheckRule WriteOfReadOnly = new("write-read-only", "§13.4 (register summary), §13.7", "a write that would change a read-only register (STATUS, the statistics, ...), unless read back at once (a register test)");
    public static readonly CheckRule ReservedRegister = new("reserved-register", "§13.4 (register summary)", "a read or write of a reserved offset");
    public static readonly CheckRule EerdDuringEeReq = new("eerd-during-ee-req", "§5.3.1", "EERD started while EECD.EE_REQ is held: software owns the EEPROM interface through EECD");
    public static readonly CheckRule MdicBeforeReady = new("mdic-not-ready", "§13.4.7", "MDIC written before the previous operation's READY was read");

    public static IReadOnlyList<CheckRule> All { get; } =
    [
        RingBaseAlign, RingLength, TailOutsideRing, HeadOutsideRing, TdtWhileDisabled, HeadWhileEnabled, DescriptorReclaimed,
        DmaOutsideMemory, BufferSizeReserved, ContextOffsets, TsoContext, CauseNeverCleared, ReadOfWriteOnly, WriteOfReadOnly,
        ReservedRegister, EerdDuringEeReq, MdicBeforeReady,
    ];
}
