namespace Emu.Emulator.E1000;

/// <summary>
/// BAR0 register offsets of the 82540EM (8254x manual §13.3–13.8; names as Linux's e1000_hw.h spells them).
/// </summary>
public static class E1000Reg
{
    public const uint Ctrl = 0x0000;
    public const uint Status = 0x0008;
    public const uint Eecd = 0x0010;
    public const uint Eerd = 0x0014;
    public const uint CtrlExt = 0x0018;
    public const uint Fla = 0x001C;
    public const uint Mdic = 0x0020;
    public const uint Fcal = 0x0028;
    public const uint Fcah = 0x002C;
    public const uint Fct = 0x0030;
    public const uint Vet = 0x0038;
    public const uint Icr = 0x00C0;
    public const uint Itr = 0x00C4;
    public const uint Ics = 0x00C8;
    public const uint Ims = 0x00D0;
    public const uint Imc = 0x00D8;
    public const uint Rctl = 0x0100;
    public const uint Fcttv = 0x0170;
    public const uint Txcw = 0x0178;
    public const uint Rxcw = 0x0180;
    public const uint Tctl = 0x0400;
    public const uint Tipg = 0x0410;
    public const uint Ait = 0x0458;
    public const uint Ledctl = 0x0E00;
    public const uint Pba = 0x1000;
    public const uint Fcrtl = 0x2160;
    public const uint Fcrth = 0x2168;
    public const uint Rdfh = 0x2410;
    public const uint Rdft = 0x2418;
    public const uint Rdfhs = 0x2420;
    public const uint Rdfts = 0x2428;
    public const uint Rdfpc = 0x2430;
    public const uint Rdbal = 0x2800;
    public const uint Rdbah = 0x2804;
    public const uint Rdlen = 0x2808;
    public const uint Rdh = 0x2810;
    public const uint Rdt = 0x2818;
    public const uint Rdtr = 0x2820;
    public const uint Rxdctl = 0x2828;
    public const uint Radv = 0x282C;
    public const uint Rsrpd = 0x2C00;
    public const uint Tdfh = 0x3410;
    public const uint Tdft = 0x3418;
    public const uint Tdfhs = 0x3420;
    public const uint Tdfts = 0x3428;
    public const uint Tdfpc = 0x3430;
    public const uint Tdbal = 0x3800;
    public const uint Tdbah = 0x3804;
    public const uint Tdlen = 0x3808;
    public const uint Tdh = 0x3810;
    public const uint Tdt = 0x3818;
    public const uint Tidv = 0x3820;
    public const uint Txdctl = 0x3828;
    public const uint Tadv = 0x382C;
    public const uint Tspmt = 0x3830;

    public const uint Crcerrs = 0x4000;
    public const uint Rxerrc = 0x400C;
    public const uint Mpc = 0x4010;
    public const uint Fcruc = 0x4058;
    public const uint Prc64 = 0x405C;
    public const uint Gprc = 0x4074;
    public const uint Bprc = 0x4078;
    public const uint Mprc = 0x407C;
    public const uint Gptc = 0x4080;
    public const uint Gorcl = 0x4088;
    public const uint Gorch = 0x408C;
    public const uint Gotcl = 0x4090;
    public const uint Gotch = 0x4094;
    public const uint Rnbc = 0x40A0;
    public const uint Ruc = 0x40A4;
    public const uint Roc = 0x40AC;
    public const uint Torl = 0x40C0;
    public const uint Torh = 0x40C4;
    public const uint Totl = 0x40C8;
    public const uint Toth = 0x40CC;
    public const uint Tpr = 0x40D0;
    public const uint Tpt = 0x40D4;
    public const uint Ptc64 = 0x40D8;
    public const uint Mptc = 0x40F0;
    public const uint Bptc = 0x40F4;
    public const uint Tsctc = 0x40F8;
    public const uint Tsctfc = 0x40FC;

    public const uint Rxcsum = 0x5000;
    public const uint Mta = 0x5200;
    public const uint Ral0 = 0x5400;
    public const uint Rah0 = 0x5404;
    public const uint Vfta = 0x5600;
    public const uint Wuc = 0x5800;
    public const uint Wufc = 0x5808;
    public const uint Wus = 0x5810;
    public const uint Manc = 0x5820;
    public const uint Ipav = 0x5838;
    public const uint Ip4at = 0x5840;
    public const uint Ip6at = 0x5880;
    public const uint Wupl = 0x5900;
    public const uint Wupm = 0x5A00;
    public const uint Fflt = 0x5F00;
    public const uint Ffmt = 0x9000;
    public const uint Ffvt = 0x9800;
    public const uint Pbm = 0x10000;

    /// <summary>Size of the BAR0 register window (8254x manual §4: 128 KB memory BAR).</summary>
    public const uint WindowSize = 0x20000;
}
