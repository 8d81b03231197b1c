using System.Text;
using Emu.Emulator.E1000;
using static Emu.Emulator.E1000.E1000Reg;

namespace Emu.Emulator.Instruments;

/// <summary>Register, bit-field and PHY register names as the 8254x manual gives them (§13.4, Table 13-63, §13.4.8).</summary>
public static class RegisterDecoder
{
    private static readonly string?[] s_causes =
    [
        "TXDW", "TXQE", "LSC", "RXSEQ", "RXDMT0", null, "RXO", "RXT0", null, "MDAC", "RXCFG", null, "PHYINT",
        "GPI_SDP6", "GPI_SDP7", "TXD_LOW", "SRPD",
    ];

    private static readonly string?[] s_ctrl =
    [
        "FD", null, null, "LRST", null, "ASDE", "SLU", "ILOS", null, null, null, "FRCSPD", "FRCDPLX", null, null, null,
        null, null, "SDP0_DATA", "SDP1_DATA", null, null, "SDP0_IODIR", "SDP1_IODIR", null, null, "RST", "RFCE", "TFCE",
        null, "VME", "PHY_RST",
    ];

    private static readonly string?[] s_status = ["FD", "LU", null, null, "TXOFF", "TBIMODE"];

    private static readonly string?[] s_rctl =
    [
        null, "EN", "SBP", "UPE", "MPE", "LPE", null, null, null, null, null, null, null, null, null, "BAM", null, null,
        "VFE", "CFIEN", "CFI", null, "DPF", "PMCF", null, "BSEX", "SECRC",
    ];

    private static readonly string?[] s_tctl = [null, "EN", null, "PSP", null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, "SWXOFF", null, "RTLC", "NRTU"];

    private static readonly string?[] s_txCmd = ["EOP", "IFCS", "IC", "RS", "RPS", "DEXT", "VLE", "IDE"];

    private static readonly string?[] s_dataCmd = ["EOP", "IFCS", "TSE", "RS", "RPS", "DEXT", "VLE", "IDE"];

    private static readonly string?[] s_tucmd = ["TCP", "IP", "TSE", "RS", "RPS", "DEXT", "SNAP", "IDE"];

    private static readonly string?[] s_rxStatus = ["DD", "EOP", "IXSM", "VP", null, "TCPCS", "IPCS", "PIF"];

    private static readonly string?[] s_rxErrors = ["CE", "SE", "SEQ", null, "CXE", "TCPE", "IPE", "RXE"];

    private static readonly string?[] s_popts = ["IXSM", "TXSM"];

    /// <summary>The register's name at a BAR0 offset (RAL[3], MTA[17]), or "reserved 0x....." for an unassigned offset.</summary>
    public static string Name(uint offset)
    {
        RegisterInfo? row = E1000RegisterMap.At((offset & (WindowSize - 1)) >> 2);
        return row?.NameAt(offset & ~3u) ?? $"reserved 0x{offset:x5}";
    }

    /// <summary>Whether the manual makes the register 16 bits wide (heads, tails), so the trace prints four digits.</summary>
    public static bool IsNarrow(uint offset) => offset is Rdh or Rdt or Tdh or Tdt;

    public static string Causes(uint icr) => Flags(icr, s_causes);

    public static string Ctrl(uint value) => Flags(value, s_ctrl) + $" SPEED={(value >> 8) & 3}";

    public static string StatusBits(uint value) => Flags(value, s_status) + $" SPEED={(value >> 6) & 3}";

    public static string Rctl(uint value)
    {
        string flags = Flags(value, s_rctl);
        uint bsize = (value >> 16) & 3;
        bool bsex = (value & E1000Bits.RctlBsex) != 0;
        string size = ReceiveBufferSize(bsize, bsex) is { } bytes ? bytes.ToString(System.Globalization.CultureInfo.InvariantCulture) : "reserved";
        return $"{flags} LBM={(value >> 6) & 3} RDMTS={(value >> 8) & 3} MO={(value >> 12) & 3} BSIZE={size}";
    }

    /// <summary>§13.4.22 / §3.2.2: the receive buffer size BSIZE and BSEX select; null for the reserved BSEX=1, BSIZE=00.</summary>
    public static int? ReceiveBufferSize(uint bsize, bool bsex) => (bsize, bsex) switch
    {
        (0, false) => 2048,
        (1, false) => 1024,
        (2, false) => 512,
        (3, false) => 256,
        (0, true) => null,
        (1, true) => 16384,
        (2, true) => 8192,
        _ => 4096,
    };

    public static string Tctl(uint value) => Flags(value, s_tctl) + $" CT=0x{(value >> 4) & 0xFF:x2} COLD=0x{(value >> 12) & 0x3FF:x3}";

    public static string TxLegacyCmd(byte cmd) => Flags(cmd, s_txCmd);

    public static string TxDataCmd(byte cmd) => Flags(cmd, s_dataCmd);

    public static string Tucmd(byte cmd) => Flags(cmd, s_tucmd);

    public static string Popts(byte popts) => Flags(popts, s_popts);

    public static string RxStatus(byte status) => Flags(status, s_rxStatus);

    public static string RxErrors(byte errors) => Flags(errors, s_rxErrors);

    /// <summary>The M88E1011's register names (IEEE 802.3 clause 22 and the vendor registers, §13.4.8).</summary>
    public static string PhyRegister(int register) => register switch
    {
        M88Phy.Control => "PHY CTRL",
        M88Phy.StatusReg => "PHY STATUS",
        M88Phy.Id1 => "PHY ID1",
        M88Phy.Id2 => "PHY ID2",
        M88Phy.AutonegAdvertisement => "AUTONEG ADV",
        M88Phy.LinkPartnerAbility => "LP ABILITY",
        M88Phy.AutonegExpansion => "AUTONEG EXP",
        M88Phy.NextPageTransmit => "NEXT PAGE TX",
        M88Phy.LinkPartnerNextPage => "LP NEXT PAGE",
        M88Phy.GigabitControl => "1000T CTRL",
        M88Phy.GigabitStatus => "1000T STATUS",
        M88Phy.ExtendedStatus => "EXT STATUS",
        M88Phy.SpecificControl => "PHY SPEC CTRL",
        M88Phy.SpecificStatus => "PHY SPEC STATUS",
        M88Phy.InterruptEnable => "PHY INT ENABLE",
        M88Phy.InterruptStatus => "PHY INT STATUS",
        M88Phy.ExtSpecificControl => "EXT PHY SPEC CTRL",
        M88Phy.ReceiveErrorCounter => "RX ERR CNTR",
        _ => $"reg {register}",
    };

    /// <summary>The set bits that have a name, '|'-separated ("none" when none); multi-bit fields are the caller's.</summary>
    public static string Flags(uint value, string?[] names)
    {
        var text = new StringBuilder();
        for (int bit = 0; bit < names.Length && bit < 32; bit++)
        {
            if ((value & (1u << bit)) == 0 || names[bit] is not { } name)
            {
                continue;
            }

            if (text.Length > 0)
            {
                text.Append('|');
            }

            text.Append(name);
        }

        return text.Length == 0 ? "none" : text.ToString();
    }
}
