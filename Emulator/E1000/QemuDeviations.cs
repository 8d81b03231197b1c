namespace Emu.Emulator.E1000;

/// <summary>
/// Every deliberate difference between Emu's 82540EM and QEMU 11.1's e1000 in the control plane. The differential
/// tests accept a differing answer only where a qtest script names one of these; README.md lists them all.
/// </summary>
public static class QemuDeviations
{
    public static readonly QemuDeviation CtrlRstResets = new(
        "ctrl-rst-resets",
        "§13.4.1 CTRL.RST",
        "CTRL.RST resets the MAC: registers to reset values, RAL0/RAH0 reloaded from the EEPROM, interrupts deasserted",
        "clears the RST bit and nothing else");

    public static readonly QemuDeviation IoBarWorks = new(
        "io-bar-ioaddr-iodata",
        "§13.2.2 IOADDR/IODATA",
        "the I/O BAR's IOADDR (offset 0) and IODATA (offset 4) reach every register, as Linux's 82540 reset uses them",
        "the I/O BAR reads 0 and ignores writes");

    public static readonly QemuDeviation UnmodelledRegistersHold = new(
        "registers-hold-values",
        "§13.4 (CTRL_EXT, FLA, FCAL, FCAH, FCT, FCTTV, TXCW, TIPG, FCRTL, FCRTH, RXDCTL, RSRPD, TIDV, TSPMT, RXCSUM)",
        "these registers hold what is written, through the manual's field masks, so Linux's e1000_reg_test passes",
        "reads 0 and ignores writes (its register test fails at FCAL 0x28)");

    public static readonly QemuDeviation ExtraRegistersLive = new(
        "extra-mac-registers-live",
        "§13.4.35, §13.6, §13.8 (AIT, RDF*/TDF*, WUC, WUS, IPAV, IP4AT[0], IP6AT[0], WUPM[0], FFLT[0], FFMT[0], FFVT[0], PBM[0])",
        "read and write as the manual's registers",
        "QEMU 10.1+ reads 0 and ignores writes (a dead compat-flag gate)");

    public static readonly QemuDeviation NotAn82540EmRegister = new(
        "not-an-82540em-register",
        "§13.3 register summary (SWSM 0x5B50 belongs to the 82571 and later)",
        "SWSM is not decoded: reads 0, writes ignored",
        "stores all 32 bits");

    public static readonly QemuDeviation StatisticsClearOnRead = new(
        "statistics-clear-on-read",
        "§13.7 (all statistics registers)",
        "every counter is read-only and clears when read; a 64-bit pair clears when its high half is read; FCRUC is a counter",
        "MPC, RNBC, RFC, RJC, TSCTFC and the collision/flow-control/management counters never clear; QEMU 10.1+ reads 44 counters as 0");

    public static readonly QemuDeviation DescriptorBaseAlignment = new(
        "ring-base-low-bits",
        "§13.4.25, §13.4.36 (RDBAL/TDBAL bits 3:0)",
        "RDBAL and TDBAL bits 3:0 read 0",
        "stores all 32 bits");

    public static readonly QemuDeviation RahReservedBits = new(
        "rah-reserved-bits",
        "§13.5.3 RAH (AV 31, AS 17:16, address 15:0; Linux's reg test mask 0x8003FFFF)",
        "RAH bits 30:18 read 0",
        "stores all 32 bits");

    public static readonly QemuDeviation VetReservedBits = new(
        "vet-reserved-bits",
        "§13.4.12 VET (EtherType 15:0; Linux's reg test mask 0x0000FFFF)",
        "VET bits 31:16 read 0",
        "stores all 32 bits (so Linux's register test would fail at VET too)");

    public static readonly QemuDeviation PbaTxaReadOnly = new(
        "pba-txa-computed",
        "§13.4.16, Table 13-62",
        "PBA.RXA (6:0) is writable; TXA (31:16) is read-only and reads 64 − RXA",
        "stores all 32 bits");

    public static readonly QemuDeviation ItrNoFloor = new(
        "itr-no-floor",
        "§13.4.18 ITR",
        "ITR = 0 disables throttling; otherwise interrupts are at least ITR × 256 ns apart",
        "always holds a second interrupt for at least 500 × 256 ns (128 µs), even with ITR = 0");

    public static readonly QemuDeviation DelayTimersAreNotThrottles = new(
        "radv-tadv-not-throttles",
        "§3.2.7.1, §13.4.31, §13.4.44 (RADV, TADV)",
        "RADV and TADV delay the receive and transmit write-back interrupts; they do not space out interrupts raised by other causes",
        "uses RADV × 4 or TADV × 4 (when smaller than ITR) as the minimum gap after an RXT0 or TXDW/TXQE edge, whatever raised it");

    public static readonly QemuDeviation PhyRegisters = new(
        "phy-register-set",
        "§13.4.8, IEEE 802.3 clause 22 (PHY registers 7, 8, 15, 18, 19)",
        "next page (7, 8), extended status (15) and interrupt enable/status (18, 19) exist",
        "MDIC answers ERROR for them");

    public static readonly QemuDeviation PhyLinkPartnerPage = new(
        "phy-link-partner-page",
        "IEEE 802.3 §28.2.4.1 (register 5 holds the partner's base page after autonegotiation)",
        "after autonegotiation the link partner ability reads 0x4DE1: a partner like this NIC (10/100, PAUSE and ASM_DIR, selector 1) and ACK, so flow control resolves to RX/TX",
        "reads 0x41E0 (no selector, no PAUSE), so Linux resolves no flow control");

    public static readonly QemuDeviation PhyResetRestartsAutoneg = new(
        "phy-reset-restarts-autoneg",
        "§11.1.3 (PHY_CTRL bit 15), §13.4.1 CTRL.PHY_RST",
        "a PHY software reset with autonegotiation enabled restarts it; releasing CTRL.PHY_RST resets the PHY registers and restarts it",
        "ignores both resets");

    public static readonly QemuDeviation PhySpecificStatusFollowsLink = new(
        "phy-specific-status-link",
        "M88E1011 register 17 (PHY specific status)",
        "the link and resolved bits (10, 11) follow the link",
        "0xAC00 always, even with the link down");

    public static readonly QemuDeviation LscOnLinkDrop = new(
        "lsc-on-autoneg-link-drop",
        "§13.4.17 ICR.LSC (set on every link change, up→down too)",
        "restarting autonegotiation drops the link and raises LSC",
        "drops the link without LSC");

    public static readonly QemuDeviation NoTxqeWithoutTransmit = new(
        "txqe-needs-transmit",
        "§13.4.17 ICR.TXQE (set when the last descriptor of the queue has been used)",
        "a TCTL or TDT write that transmits nothing raises no TXQE",
        "raises TXQE after every TCTL or TDT write with TCTL.EN set, even with an empty ring");

    public static readonly QemuDeviation TxdLow = new(
        "txd-low-raised",
        "§13.4.42 TXDCTL.LWTHRESH, §13.4.17 ICR.TXD_LOW",
        "TXD_LOW is raised when the descriptors left to process drop to 8 × LWTHRESH (with LWTHRESH = 0: when the queue empties)",
        "never raises TXD_LOW");

    public static readonly QemuDeviation RxFcsWritten = new(
        "rx-fcs-written",
        "§3.2.3 (the length includes the CRC bytes written to the buffer unless RCTL.SECRC)",
        "the 4 FCS bytes (the frame's CRC-32, as the wire carried it) are written after the data; the length counts them",
        "counts 4 bytes in the length but writes none");

    public static readonly QemuDeviation RxPacketChecksum = new(
        "rx-packet-checksum",
        "§3.2.3.1 Packet Checksum, §13.4.47 RXCSUM.PCSS",
        "the descriptor's packet checksum is the one's-complement sum of the stored bytes from PCSS",
        "leaves the field as the guest wrote it");

    public static readonly QemuDeviation ShortFramesPadded = new(
        "rx-short-frames-padded",
        "§3.2.1, IEEE 802.3 §4.2.3.3 (no good frame on a wire is shorter than 64 bytes)",
        "a netdev frame shorter than 60 bytes is stored padded to 60 (64 with the FCS)",
        "QEMU 8.0+ stores it short (a 42-byte frame gives length 46)");

    public static readonly QemuDeviation RctlWriteNoStall = new(
        "rctl-write-no-rx-stall",
        "§13.4.22 RCTL (nothing delays reception after a write)",
        "frames are received as soon as RCTL.EN is set and descriptors are free",
        "holds received frames for 1000 ms of virtual time after every RCTL write");

    public static readonly QemuDeviation FifoDropsInsteadOfBackPressure = new(
        "rx-fifo-overrun",
        "§3.2.7.4 (the 48 KB receive FIFO fills, then frames are dropped and counted in MPC with ICR.RXO)",
        "frames that find no descriptor wait in a FIFO of PBA.RXA KB (RNBC); when it is full they are dropped (MPC, RXO)",
        "queues them without limit and stops reading the socket; drops only during a flush");

    public static readonly QemuDeviation TxPadding = new(
        "tx-psp-padding",
        "§13.4.33 TCTL.PSP (pad short packets to 64 bytes with the FCS)",
        "with PSP set, frames shorter than 60 bytes leave padded to 60",
        "sends them short");

    public static readonly QemuDeviation NetdevCarrier = new(
        "netdev-carrier",
        "§13.4.2 STATUS.LU, §13.4.17 ICR.LSC (a pulled cable drops the link)",
        "a stream netdev peer that disconnects takes the link down (STATUS.LU clear, LSC); a new connection brings it back after autonegotiation",
        "keeps the NIC's link up and drops frames silently while disconnected");

    public static readonly QemuDeviation RxChecksumOffload = new(
        "rx-checksum-offload",
        "§3.2.9 receive checksum offloading, §13.4.47 RXCSUM.IPOFLD/TUOFLD, §3.2.3.1 status IXSM/IPCS/TCPCS, errors IPE/TCPE",
        "with RXCSUM.IPOFLD the IPv4 header checksum is checked (IPCS, IPE on failure); with TUOFLD TCP and UDP over IPv4 and IPv6 (TCPCS, TCPE); IXSM stays clear",
        "sets IXSM (ignore the checksum indication) on every descriptor and checks nothing");

    public static readonly QemuDeviation RxdmtOnThreshold = new(
        "rxdmt0-on-threshold",
        "§3.2.7.3, §13.4.22 RCTL.RDMTS (RXDMT0 when the free descriptors become equal to the threshold)",
        "RXDMT0 is raised by the frame that brings the free descriptors down to the threshold, not again by each frame below it",
        "raises RXDMT0 for every frame stored while the free descriptors are at or below the threshold");

    public static readonly QemuDeviation OctetsCountWireFrame = new(
        "octets-count-wire-frame",
        "§13.7 TORL/TORH, TOTL/TOTH (octets of the frame on the wire, destination address to FCS)",
        "an 802.1Q tag counts: one stripped on receive (CTRL.VME) or inserted on transmit (CMD.VLE) adds 4 octets",
        "counts the frame without its tag");

    public static readonly QemuDeviation TxLegacyChecksum = new(
        "tx-legacy-checksum",
        "§3.3.3.1 legacy transmit descriptor CMD.IC, CSO, CSS",
        "with CMD.IC the one's-complement checksum from CSS to the end of the packet is stored at CSO",
        "ignores CMD.IC: the field leaves as the driver wrote it");

    public static readonly QemuDeviation TxSingleContext = new(
        "tx-single-context",
        "§3.3.6 (the 82540EM holds one offload context; each context descriptor replaces it)",
        "a data descriptor uses the last context loaded, whether it described TSO or checksums",
        "keeps a TSO context and a checksum context apart: a non-TSO packet after a TSO context uses the older checksum context");

    public static readonly QemuDeviation TsoNoEmptySegment = new(
        "tso-no-empty-segment",
        "§3.5 TCP segmentation (a payload that is an exact multiple of MSS makes PAYLEN/MSS segments)",
        "sends PAYLEN/MSS full segments and nothing more",
        "sends one more, header-only segment (no payload) after the last full one, and counts it");

    public static readonly QemuDeviation TsoIpv6PayloadLength = new(
        "tso-ipv6-payload-length",
        "§3.5.2 segment header updates; RFC 8200 §3 (Payload Length excludes the 40-byte IPv6 header)",
        "each IPv6 segment's Payload Length is the bytes after the IPv6 header",
        "writes the IPv4 total-length value into it, 40 bytes too long");

    public static readonly QemuDeviation RctlMacLoopback = new(
        "rctl-mac-loopback",
        "§13.4.22 RCTL.LBM (01b, Linux's E1000_RCTL_LBM_MAC)",
        "transmitted frames loop back inside the MAC into the receive ring; nothing reaches the wire",
        "does not implement LBM: the frame goes to the wire");

    public static readonly QemuDeviation TxHeadOutsideRing = new(
        "tx-head-outside-ring",
        "§13.4.39 TDH, §3.3.1 (the head lies inside the ring; software sets it after a reset, before TCTL.EN)",
        "with TDH written at or past TDLEN/16 the transmit engine stops and keeps the head (counted as RingInvalid; --check warns head-outside-ring)",
        "fetches the descriptor past the ring's end, sends and writes it back, and wraps TDH to 0");

    public static IReadOnlyList<QemuDeviation> All { get; } =
    [
        CtrlRstResets,
        IoBarWorks,
        UnmodelledRegistersHold,
        ExtraRegistersLive,
        NotAn82540EmRegister,
        StatisticsClearOnRead,
        DescriptorBaseAlignment,
        RahReservedBits,
        VetReservedBits,
        PbaTxaReadOnly,
        ItrNoFloor,
        DelayTimersAreNotThrottles,
        PhyRegisters,
        PhyLinkPartnerPage,
        PhyResetRestartsAutoneg,
        PhySpecificStatusFollowsLink,
        LscOnLinkDrop,
        NoTxqeWithoutTransmit,
        TxdLow,
        RxFcsWritten,
        RxPacketChecksum,
        ShortFramesPadded,
        RctlWriteNoStall,
        FifoDropsInsteadOfBackPressure,
        TxPadding,
        NetdevCarrier,
        RxChecksumOffload,
        RxdmtOnThreshold,
        OctetsCountWireFrame,
        TxLegacyChecksum,
        TxSingleContext,
        TsoNoEmptySegment,
        TsoIpv6PayloadLength,
        RctlMacLoopback,
        TxHeadOutsideRing,
    ];

    public static QemuDeviation? Find(string id)
    {
        foreach (QemuDeviation d in All)
        {
            if (d.Id == id)
            {
                return d;
            }
        }

        return null;
    }
}
