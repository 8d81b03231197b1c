using static Emu.Emulator.E1000.E1000Reg;
using static Emu.Emulator.E1000.RegisterAccess;

namespace Emu.Emulator.E1000;

/// <summary>
/// The 82540EM register map (8254x manual §13.3 register summary, §13.4 general registers, §13.5 filters, §13.7
/// statistics, §13.8 diagnostics). One row per register or register array: a reviewer checks it line by line against
/// the manual. Offsets not listed read 0 and ignore writes. Reset values the manual leaves open (or that our sheets did
/// not reach) follow QEMU's e1000, which reads 0 for every register it does not model.
/// </summary>
public static class E1000RegisterMap
{
    public static IReadOnlyList<RegisterInfo> Rows { get; } =
    [
        // §13.4.1 CTRL: RST (bit 26) self-clears and resets the device. Reset value as QEMU's (SLU, SPEED=1000, SWDPIN0/2).
        new(Ctrl, "CTRL", 0x0014_0240, 0xFFFF_FFFF & ~E1000Bits.CtrlRst, Special, "§13.4.1"),
        // §13.4.2 STATUS: read-only; FD, LU, SPEED=1000, ASDV, MTXCKOK, GIO master enable (bits as QEMU's reset value).
        new(Status, "STATUS", 0x8008_0783, 0, Special, "§13.4.2"),
        new(Eecd, "EECD", 0, 0, Special, "§5.3.1, §13.4.3"),
        new(Eerd, "EERD", 0, 0xFFFF_FFFF, Special, "§5.3.1, §13.4.4"),
        // §13.4.6 CTRL_EXT: ASDCHK (12) and EE_RST (13) self-clear; EE_RST reloads the EEPROM-loaded fields.
        new(CtrlExt, "CTRL_EXT", 0, 0xFFFF_FFFF & ~(E1000Bits.CtrlExtAsdchk | E1000Bits.CtrlExtEeRst), Special, "§13.4.6"),
        new(Fla, "FLA", 0, 0xFFFF_FFFF, ReadWrite, "§13.4.5"),
        new(Mdic, "MDIC", 0, 0, Special, "§13.4.7"),
        // §13.4.9–11 flow-control address and type; Linux's e1000_reg_test masks: FCAL all, FCAH and FCT 16 bits.
        new(Fcal, "FCAL", 0, 0xFFFF_FFFF, ReadWrite, "§13.4.9"),
        new(Fcah, "FCAH", 0, 0x0000_FFFF, ReadWrite, "§13.4.10"),
        new(Fct, "FCT", 0, 0x0000_FFFF, ReadWrite, "§13.4.11"),
        new(Vet, "VET", 0x0000_8100, 0x0000_FFFF, ReadWrite, "§13.4.12 (EtherType 15:0; Linux's reg test mask 0xFFFF)"),
        new(Icr, "ICR", 0, 0, Special, "§13.4.17"),
        // §13.4.18 ITR: INTERVAL 15:0 in 256 ns units; 31:16 reserved.
        new(Itr, "ITR", 0, 0x0000_FFFF, ReadWrite, "§13.4.18"),
        new(Ics, "ICS", 0, 0, Special, "§13.4.19"),
        new(Ims, "IMS", 0, 0, Special, "§13.4.20"),
        new(Imc, "IMC", 0, 0, Special, "§13.4.21"),
        new(Rctl, "RCTL", 0, 0xFFFF_FFFF, Special, "§13.4.22"),
        new(Fcttv, "FCTTV", 0, 0x0000_FFFF, ReadWrite, "§13.4.13"),
        // §13.4.14 TXCW: TxConfigWord 15:0, TxConfig 30, ANE 31 (Linux's reg test mask 0xC000FFFF).
        new(Txcw, "TXCW", 0, 0xC000_FFFF, ReadWrite, "§13.4.14"),
        // §13.4.15 RXCW: SerDes only; the 82540EM has no SerDes, so nothing is ever received here.
        new(Rxcw, "RXCW", 0, 0, ReadOnly, "§13.4.15"),
        new(Tctl, "TCTL", 0, 0xFFFF_FFFF, Special, "§13.4.33"),
        // §13.4.34 TIPG: IPGT 9:0, IPGR1 19:10, IPGR2 29:20.
        new(Tipg, "TIPG", 0, 0x3FFF_FFFF, ReadWrite, "§13.4.34"),
        new(Ait, "AIT", 0, 0x0000_FFFF, ReadWrite, "§13.4.35"),
        new(Ledctl, "LEDCTL", 0x0000_0602, 0xFFFF_FFFF, ReadWrite, "§13.4.16 (reset as QEMU)"),
        // §13.4.16 PBA: RXA 6:0 read/write; TXA 31:16 read-only, 64 − RXA.
        new(Pba, "PBA", 0x0010_0030, 0x0000_007F, Special, "§13.4.16, Table 13-62"),
        // §13.4.23–24 flow-control thresholds in 8-byte units; FCRTL.XONE bit 31.
        new(Fcrtl, "FCRTL", 0, 0x8000_FFF8, ReadWrite, "§13.4.23"),
        new(Fcrth, "FCRTH", 0, 0x0000_FFF8, ReadWrite, "§13.4.24"),
        // §13.8.1–5 RX FIFO diagnostics, 13 bits.
        new(Rdfh, "RDFH", 0, 0x0000_1FFF, ReadWrite, "§13.8.1"),
        new(Rdft, "RDFT", 0, 0x0000_1FFF, ReadWrite, "§13.8.2"),
        new(Rdfhs, "RDFHS", 0, 0x0000_1FFF, ReadWrite, "§13.8.3"),
        new(Rdfts, "RDFTS", 0, 0x0000_1FFF, ReadWrite, "§13.8.4"),
        new(Rdfpc, "RDFPC", 0, 0x0000_1FFF, ReadWrite, "§13.8.5"),
        // §3.2.6 / §13.4.25: the ring base is 16-byte aligned; RDBAL 3:0 read 0.
        new(Rdbal, "RDBAL", 0, 0xFFFF_FFF0, ReadWrite, "§13.4.25, §3.2.6"),
        new(Rdbah, "RDBAH", 0, 0xFFFF_FFFF, ReadWrite, "§13.4.26"),
        // §13.4.27 RDLEN: LEN 19:7; 6:0 read 0.
        new(Rdlen, "RDLEN", 0, 0x000F_FF80, ReadWrite, "§13.4.27, Table 13-72"),
        new(Rdh, "RDH", 0, 0x0000_FFFF, ReadWrite, "§13.4.28"),
        new(Rdt, "RDT", 0, 0x0000_FFFF, Special, "§13.4.29"),
        // §13.4.30 RDTR: delay 15:0; FPD (31) flushes and reads 0.
        new(Rdtr, "RDTR", 0, 0x0000_FFFF, Special, "§13.4.30"),
        // §13.4.46 RXDCTL: PTHRESH 5:0, HTHRESH 13:8, WTHRESH 21:16, GRAN 24.
        new(Rxdctl, "RXDCTL", 0, 0x013F_3F3F, ReadWrite, "§13.4.46, Table 13-87"),
        new(Radv, "RADV", 0, 0x0000_FFFF, ReadWrite, "§13.4.31"),
        // §3.2.7.2 RSRPD: SIZE 11:0.
        new(Rsrpd, "RSRPD", 0, 0x0000_0FFF, ReadWrite, "§13.4.32, §3.2.7.2"),
        // §13.8.6–10 TX FIFO diagnostics (widths as QEMU).
        new(Tdfh, "TDFH", 0, 0x0000_07FF, ReadWrite, "§13.8.6"),
        new(Tdft, "TDFT", 0, 0x0000_07FF, ReadWrite, "§13.8.7"),
        new(Tdfhs, "TDFHS", 0, 0x0000_1FFF, ReadWrite, "§13.8.8"),
        new(Tdfts, "TDFTS", 0, 0x0000_1FFF, ReadWrite, "§13.8.9"),
        new(Tdfpc, "TDFPC", 0, 0x0000_1FFF, ReadWrite, "§13.8.10"),
        // §13.4.36 TDBAL: 3:0 ignore writes and read 0.
        new(Tdbal, "TDBAL", 0, 0xFFFF_FFF0, ReadWrite, "§13.4.36"),
        new(Tdbah, "TDBAH", 0, 0xFFFF_FFFF, ReadWrite, "§13.4.37"),
        new(Tdlen, "TDLEN", 0, 0x000F_FF80, ReadWrite, "§13.4.38, Table 13-81"),
        new(Tdh, "TDH", 0, 0x0000_FFFF, ReadWrite, "§13.4.39, Table 13-82"),
        new(Tdt, "TDT", 0, 0x0000_FFFF, Special, "§13.4.40"),
        new(Tidv, "TIDV", 0, 0x0000_FFFF, ReadWrite, "§13.4.41"),
        new(Txdctl, "TXDCTL", 0, 0xFFFF_FFFF, ReadWrite, "§13.4.42"),
        new(Tadv, "TADV", 0, 0x0000_FFFF, ReadWrite, "§13.4.44"),
        // TSPMT: TSMT 15:0, TSPBP 31:16.
        new(Tspmt, "TSPMT", 0, 0xFFFF_FFFF, ReadWrite, "§13.4.45"),

        // §13.7 statistics: all read-only and clear-on-read; a 64-bit pair clears when its high half is read.
        new(0x4000, "CRCERRS", 0, 0, Counter, "§13.7.1"),
        new(0x4004, "ALGNERRC", 0, 0, Counter, "§13.7.2"),
        new(0x4008, "SYMERRS", 0, 0, Counter, "§13.7.3"),
        new(0x400C, "RXERRC", 0, 0, Counter, "§13.7.4"),
        new(0x4010, "MPC", 0, 0, Counter, "§13.7.5"),
        new(0x4014, "SCC", 0, 0, Counter, "§13.7.6"),
        new(0x4018, "ECOL", 0, 0, Counter, "§13.7.7"),
        new(0x401C, "MCC", 0, 0, Counter, "§13.7.8"),
        new(0x4020, "LATECOL", 0, 0, Counter, "§13.7.9"),
        new(0x4028, "COLC", 0, 0, Counter, "§13.7.10"),
        new(0x4030, "DC", 0, 0, Counter, "§13.7.11"),
        new(0x4034, "TNCRS", 0, 0, Counter, "§13.7.12"),
        new(0x4038, "SEC", 0, 0, Counter, "§13.7.13"),
        new(0x403C, "CEXTERR", 0, 0, Counter, "§13.7.14"),
        new(0x4040, "RLEC", 0, 0, Counter, "§13.7.15"),
        new(0x4048, "XONRXC", 0, 0, Counter, "§13.7.16"),
        new(0x404C, "XONTXC", 0, 0, Counter, "§13.7.17"),
        new(0x4050, "XOFFRXC", 0, 0, Counter, "§13.7.18"),
        new(0x4054, "XOFFTXC", 0, 0, Counter, "§13.7.19"),
        new(0x4058, "FCRUC", 0, 0, Counter, "§13.7.20"),
        new(0x405C, "PRC64", 0, 0, Counter, "§13.7.21"),
        new(0x4060, "PRC127", 0, 0, Counter, "§13.7.22"),
        new(0x4064, "PRC255", 0, 0, Counter, "§13.7.23"),
        new(0x4068, "PRC511", 0, 0, Counter, "§13.7.24"),
        new(0x406C, "PRC1023", 0, 0, Counter, "§13.7.25"),
        new(0x4070, "PRC1522", 0, 0, Counter, "§13.7.26"),
        new(0x4074, "GPRC", 0, 0, Counter, "§13.7.27"),
        new(0x4078, "BPRC", 0, 0, Counter, "§13.7.28"),
        new(0x407C, "MPRC", 0, 0, Counter, "§13.7.29"),
        new(0x4080, "GPTC", 0, 0, Counter, "§13.7.30"),
        new(0x4088, "GORCL", 0, 0, CounterLow, "§13.7.31"),
        new(0x408C, "GORCH", 0, 0, CounterHigh, "§13.7.31"),
        new(0x4090, "GOTCL", 0, 0, CounterLow, "§13.7.32"),
        new(0x4094, "GOTCH", 0, 0, CounterHigh, "§13.7.32"),
        new(0x40A0, "RNBC", 0, 0, Counter, "§13.7.33"),
        new(0x40A4, "RUC", 0, 0, Counter, "§13.7.34"),
        new(0x40A8, "RFC", 0, 0, Counter, "§13.7.35"),
        new(0x40AC, "ROC", 0, 0, Counter, "§13.7.36"),
        new(0x40B0, "RJC", 0, 0, Counter, "§13.7.37"),
        new(0x40B4, "MGTPRC", 0, 0, Counter, "§13.7.38"),
        new(0x40B8, "MGTPDC", 0, 0, Counter, "§13.7.39"),
        new(0x40BC, "MGTPTC", 0, 0, Counter, "§13.7.40"),
        new(0x40C0, "TORL", 0, 0, CounterLow, "§13.7.41"),
        new(0x40C4, "TORH", 0, 0, CounterHigh, "§13.7.41"),
        new(0x40C8, "TOTL", 0, 0, CounterLow, "§13.7.42"),
        new(0x40CC, "TOTH", 0, 0, CounterHigh, "§13.7.42"),
        new(0x40D0, "TPR", 0, 0, Counter, "§13.7.43"),
        new(0x40D4, "TPT", 0, 0, Counter, "§13.7.44"),
        new(0x40D8, "PTC64", 0, 0, Counter, "§13.7.45"),
        new(0x40DC, "PTC127", 0, 0, Counter, "§13.7.46"),
        new(0x40E0, "PTC255", 0, 0, Counter, "§13.7.47"),
        new(0x40E4, "PTC511", 0, 0, Counter, "§13.7.48"),
        new(0x40E8, "PTC1023", 0, 0, Counter, "§13.7.49"),
        new(0x40EC, "PTC1522", 0, 0, Counter, "§13.7.50"),
        new(0x40F0, "MPTC", 0, 0, Counter, "§13.7.51"),
        new(0x40F4, "BPTC", 0, 0, Counter, "§13.7.52"),
        new(0x40F8, "TSCTC", 0, 0, Counter, "§13.7.53"),
        new(0x40FC, "TSCTFC", 0, 0, Counter, "§13.7.54"),

        // §3.2.9 / p. 322 RXCSUM: PCSS 7:0, IPOFLD 8, TUOFLD 9.
        new(Rxcsum, "RXCSUM", 0, 0x0000_03FF, ReadWrite, "§13.4.47"),
        new(Mta, "MTA", 0, 0xFFFF_FFFF, ReadWrite, "§13.5.1", 128),
        // §13.5.2–3 RAL/RAH ×16, interleaved; RAH keeps AV (31), AS (17:16) and the address (15:0), as Linux's reg
        // test mask 0x8003FFFF expects. RAL0/RAH0 are loaded from the EEPROM at reset (see E1000Device).
        .. ReceiveAddresses(),
        new(Vfta, "VFTA", 0, 0xFFFF_FFFF, ReadWrite, "§13.5.4", 128),
        // §14.7 wake-up registers.
        new(Wuc, "WUC", 0, 0xFFFF_FFFF, ReadWrite, "§13.6.1"),
        new(Wufc, "WUFC", 0, 0xFFFF_FFFF, ReadWrite, "§13.6.2"),
        new(Wus, "WUS", 0, 0xFFFF_FFFF, WriteOneToClear, "§13.6.3"),
        // MANC: management control; reads QEMU's value and ignores writes (no manageability engine is modelled).
        new(Manc, "MANC", 0x0022_2300, 0, ReadOnly, "§13.6.4 (value as QEMU)"),
        new(Ipav, "IPAV", 0, 0xFFFF_FFFF, ReadWrite, "§13.6.5"),
        new(Ip4at, "IP4AT", 0, 0xFFFF_FFFF, ReadWrite, "§13.6.6", 7),
        new(Ip6at, "IP6AT", 0, 0xFFFF_FFFF, ReadWrite, "§13.6.7", 4),
        // WUPL/WUPM hold the last wake-up packet: read-only to software.
        new(Wupl, "WUPL", 0, 0, ReadOnly, "§13.6.8"),
        new(Wupm, "WUPM", 0, 0xFFFF_FFFF, ReadWrite, "§13.6.9 (writable as QEMU)", 32),
        new(Fflt, "FFLT", 0, 0x0000_07FF, ReadWrite, "§13.6.10", 7),
        new(Ffmt, "FFMT", 0, 0x0000_000F, ReadWrite, "§13.6.11", 255),
        new(Ffvt, "FFVT", 0, 0xFFFF_FFFF, ReadWrite, "§13.6.12", 255),
        // §13.8 packet buffer memory (diagnostic access to the 64 KB FIFO).
        new(Pbm, "PBM", 0, 0xFFFF_FFFF, ReadWrite, "§13.8.11", 16384),
    ];

    private static readonly RegisterInfo?[] s_byIndex = BuildIndex();

    /// <summary>The row covering a dword index of BAR0, or null for an offset the manual does not define.</summary>
    public static RegisterInfo? At(uint index) => index < (uint)s_byIndex.Length ? s_byIndex[index] : null;

    public static RegisterInfo ByName(string name)
    {
        foreach (RegisterInfo row in Rows)
        {
            if (row.Name == name)
            {
                return row;
            }
        }

        throw new KeyNotFoundException(name);
    }

    private static IEnumerable<RegisterInfo> ReceiveAddresses()
    {
        for (uint i = 0; i < 16; i++)
        {
            yield return new(Ral0 + (8 * i), $"RAL{i}", 0, 0xFFFF_FFFF, ReadWrite, "§13.5.2");
            yield return new(Rah0 + (8 * i), $"RAH{i}", 0, 0x8003_FFFF, ReadWrite, "§13.5.3");
        }
    }

    private static RegisterInfo?[] BuildIndex()
    {
        var index = new RegisterInfo?[E1000Reg.WindowSize / 4];
        foreach (RegisterInfo row in Rows)
        {
            for (uint at = row.Offset; at < row.End; at += 4)
            {
                if (index[at / 4] is { } other)
                {
                    throw new InvalidOperationException($"Register map overlap at 0x{at:X5}: {other.Name} and {row.Name}.");
                }

                index[at / 4] = row;
            }
        }

        return index;
    }
}
