namespace Emu.Emulator.Faults;

/// <summary>Where a fault acts: on frames crossing the wire, or inside the 82540EM.</summary>
public enum FaultSite
{
    Wire,
    Device,
}

/// <summary>
/// One kind of fault (issue 21): its name in a SPEC, where it acts, and the keys it takes besides the common triggers
/// (and, for frame kinds, the frame filters).
/// </summary>
public sealed record FaultKind(string Name, FaultSite Site, bool FrameKind, IReadOnlyList<string> Keys, string Description)
{
    public static readonly FaultKind Loss = new("loss", FaultSite.Wire, true, ["corr"], "drop the frame (tc-netem loss, with correlation)");
    public static readonly FaultKind LossGe = new("loss-ge", FaultSite.Wire, true, ["p", "r", "bad", "good"], "Gilbert-Elliott loss (netem's p, r, 1-h, 1-k)");
    public static readonly FaultKind Loss4State = new("loss-4state", FaultSite.Wire, true, ["p13", "p31", "p32", "p23", "p14"], "4-state Markov loss (netem)");
    public static readonly FaultKind Corrupt = new("corrupt", FaultSite.Wire, true, ["bits"], "flip random bits");
    public static readonly FaultKind Duplicate = new("duplicate", FaultSite.Wire, true, [], "deliver the frame twice");
    public static readonly FaultKind Reorder = new("reorder", FaultSite.Wire, true, ["gap", "time"], "send some frames at once while the rest are delayed (netem reorder with gap)");
    public static readonly FaultKind Delay = new("delay", FaultSite.Wire, true, ["time", "jitter", "corr", "dist"], "delay with jitter, correlation and a distribution");
    public static readonly FaultKind Rate = new("rate", FaultSite.Wire, true, ["bps", "overhead"], "limit the rate, with per-frame overhead");
    public static readonly FaultKind Slot = new("slot", FaultSite.Wire, true, ["min", "max", "packets", "bytes"], "release frames in slots (netem slot)");
    public static readonly FaultKind Truncate = new("truncate", FaultSite.Wire, true, ["len"], "cut the frame to len bytes");
    public static readonly FaultKind LinkFlap = new("link-flap", FaultSite.Wire, false, ["down", "every"], "carrier off then on, as a pulled cable");

    public static readonly FaultKind RxCrcError = new("rx-crc-error", FaultSite.Device, true, [], "the frame arrives with a bad FCS (CRCERRS; RDESC.ERRORS.CE with RCTL.SBP)");
    public static readonly FaultKind RxError = new("rx-error", FaultSite.Device, true, [], "a receive error on the copper link (RXERRC, RDESC.ERRORS.RXE)");
    public static readonly FaultKind RxOverrun = new("rx-overrun", FaultSite.Device, true, ["frames"], "the receive FIFO takes nothing (MPC, ICR.RXO)");
    public static readonly FaultKind RxNoBuffer = new("rx-no-buffer", FaultSite.Device, true, ["frames"], "descriptors look used (RNBC, RXDMT0)");
    public static readonly FaultKind TxHang = new("tx-hang", FaultSite.Device, false, ["for"], "the transmit unit stops until CTRL.RST (TDH stops, no write-back, no TXDW)");
    public static readonly FaultKind DdWithheld = new("dd-withheld", FaultSite.Device, false, ["descriptors"], "descriptors done without DD written");
    public static readonly FaultKind RxBadWriteback = new("rx-bad-writeback", FaultSite.Device, true, ["length", "status"], "the receive write-back carries a wrong length or status");
    public static readonly FaultKind DmaError = new("dma-error", FaultSite.Device, false, ["target"], "a DMA access fails as a PCI master abort would");
    public static readonly FaultKind IrqLost = new("irq-lost", FaultSite.Device, false, [], "a cause is set in ICR but INTx does not rise");
    public static readonly FaultKind IrqSpurious = new("irq-spurious", FaultSite.Device, false, ["every"], "INTx rises with nothing in ICR");
    public static readonly FaultKind EepromCorrupt = new("eeprom-corrupt", FaultSite.Device, false, ["word", "value", "checksum"], "an EEPROM word or the checksum is wrong");
    public static readonly FaultKind EepromTimeout = new("eeprom-timeout", FaultSite.Device, false, [], "EERD never sets DONE and EECD.EE_GNT is never granted");
    public static readonly FaultKind MdicError = new("mdic-error", FaultSite.Device, false, [], "MDIC answers with E set");
    public static readonly FaultKind MdicTimeout = new("mdic-timeout", FaultSite.Device, false, [], "MDIC.READY never sets");
    public static readonly FaultKind AutonegFail = new("autoneg-fail", FaultSite.Device, false, [], "the link never comes up until the fault ends");

    public static IReadOnlyList<FaultKind> All { get; } =
    [
        Loss, LossGe, Loss4State, Corrupt, Duplicate, Reorder, Delay, Rate, Slot, Truncate, LinkFlap,
        RxCrcError, RxError, RxOverrun, RxNoBuffer, TxHang, DdWithheld, RxBadWriteback, DmaError, IrqLost, IrqSpurious,
        EepromCorrupt, EepromTimeout, MdicError, MdicTimeout, AutonegFail,
    ];

    public static FaultKind? Find(string name) => All.FirstOrDefault(k => k.Name == name);
}
