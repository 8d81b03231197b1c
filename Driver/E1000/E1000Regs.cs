namespace Emu.Driver.E1000;

/// <summary>
/// The driver's own register and bit definitions (as Linux keeps them in e1000_hw.h, apart from any device model):
/// the driver knows the chip only through these numbers and the bus.
/// </summary>
internal static class E1000Regs
{
    public const uint Ctrl = 0x0000;
    public const uint Status = 0x0008;
    public const uint Eecd = 0x0010;
    public const uint CtrlExt = 0x0018;
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
    public const uint Tctl = 0x0400;
    public const uint Tipg = 0x0410;
    public const uint Ait = 0x0458;
    public const uint Ledctl = 0x0E00;
    public const uint Pba = 0x1000;
    public const uint Fcrtl = 0x2160;
    public const uint Fcrth = 0x2168;
    public const uint Rdbal = 0x2800;
    public const uint Rdbah = 0x2804;
    public const uint Rdlen = 0x2808;
    public const uint Rdh = 0x2810;
    public const uint Rdt = 0x2818;
    public const uint Rdtr = 0x2820;
    public const uint Radv = 0x282C;
    public const uint Tdbal = 0x3800;
    public const uint Tdbah = 0x3804;
    public const uint Tdlen = 0x3808;
    public const uint Tdh = 0x3810;
    public const uint Tdt = 0x3818;
    public const uint Tidv = 0x3820;
    public const uint Txdctl = 0x3828;
    public const uint Tadv = 0x382C;
    public const uint Rxcsum = 0x5000;
    public const uint Mta = 0x5200;
    public const uint Ra = 0x5400;
    public const uint Vfta = 0x5600;
    public const uint Wuc = 0x5800;
    public const uint Manc = 0x5820;

    // Statistics (e1000_hw.h E1000_CRCERRS …)
    public const uint Crcerrs = 0x4000;
    public const uint Algnerrc = 0x4004;
    public const uint Symerrs = 0x4008;
    public const uint Rxerrc = 0x400C;
    public const uint Mpc = 0x4010;
    public const uint Scc = 0x4014;
    public const uint Ecol = 0x4018;
    public const uint Mcc = 0x401C;
    public const uint Latecol = 0x4020;
    public const uint Colc = 0x4028;
    public const uint Dc = 0x4030;
    public const uint Tncrs = 0x4034;
    public const uint Sec = 0x4038;
    public const uint Cexterr = 0x403C;
    public const uint Rlec = 0x4040;
    public const uint Xonrxc = 0x4048;
    public const uint Xontxc = 0x404C;
    public const uint Xoffrxc = 0x4050;
    public const uint Xofftxc = 0x4054;
    public const uint Fcruc = 0x4058;
    public const uint Prc64 = 0x405C;
    public const uint Gprc = 0x4074;
    public const uint Bprc = 0x4078;
    public const uint Mprc = 0x407C;
    public const uint Gptc = 0x4080;
    public const uint Gorcl = 0x4088;
    public const uint Gotcl = 0x4090;
    public const uint Rnbc = 0x40A0;
    public const uint Ruc = 0x40A4;
    public const uint Rfc = 0x40A8;
    public const uint Roc = 0x40AC;
    public const uint Rjc = 0x40B0;
    public const uint Torl = 0x40C0;
    public const uint Totl = 0x40C8;
    public const uint Tpr = 0x40D0;
    public const uint Tpt = 0x40D4;
    public const uint Ptc64 = 0x40D8;
    public const uint Mptc = 0x40F0;
    public const uint Bptc = 0x40F4;
    public const uint Tsctc = 0x40F8;
    public const uint Tsctfc = 0x40FC;

    public const uint CtrlFd = 0x0000_0001;
    public const uint CtrlSlu = 0x0000_0040;
    public const uint CtrlIlos = 0x0000_0080;
    public const uint CtrlSpdSel = 0x0000_0300;
    public const uint CtrlSpd1000 = 0x0000_0200;
    public const uint CtrlFrcspd = 0x0000_0800;
    public const uint CtrlFrcdpx = 0x0000_1000;
    public const uint CtrlRst = 0x0400_0000;
    public const uint CtrlRfce = 0x0800_0000;
    public const uint CtrlTfce = 0x1000_0000;
    public const uint CtrlVme = 0x4000_0000;
    public const uint CtrlPhyRst = 0x8000_0000;

    public const uint StatusFd = 0x0000_0001;
    public const uint StatusLu = 0x0000_0002;
    public const uint StatusTxoff = 0x0000_0010;
    public const uint StatusSpeed100 = 0x0000_0040;
    public const uint StatusSpeed1000 = 0x0000_0080;

    public const uint EecdSk = 0x01;
    public const uint EecdCs = 0x02;
    public const uint EecdDi = 0x04;
    public const uint EecdDo = 0x08;
    public const uint EecdReq = 0x40;
    public const uint EecdGnt = 0x80;
    public const uint EecdSize = 0x200;

    public const uint CtrlExtEeRst = 0x0000_2000;

    public const uint MdicOpWrite = 0x0400_0000;
    public const uint MdicOpRead = 0x0800_0000;
    public const uint MdicReady = 0x1000_0000;
    public const uint MdicError = 0x4000_0000;

    public const uint IcrTxdw = 0x01;
    public const uint IcrTxqe = 0x02;
    public const uint IcrLsc = 0x04;
    public const uint IcrRxseq = 0x08;
    public const uint IcrRxdmt0 = 0x10;
    public const uint IcrRxo = 0x40;
    public const uint IcrRxt0 = 0x80;

    /// <summary>IMS_ENABLE_MASK (e1000.h): RXT0 | TXDW | RXDMT0 | RXSEQ | LSC.</summary>
    public const uint ImsEnableMask = IcrRxt0 | IcrTxdw | IcrRxdmt0 | IcrRxseq | IcrLsc;

    public const uint RctlEn = 0x0000_0002;
    public const uint RctlSbp = 0x0000_0004;
    public const uint RctlUpe = 0x0000_0008;
    public const uint RctlMpe = 0x0000_0010;
    public const uint RctlLpe = 0x0000_0020;
    public const uint RctlLbmMask = 0x0000_00C0;
    public const uint RctlRdmtsHalf = 0x0000_0000;
    public const uint RctlMoMask = 0x0000_3000;
    public const uint RctlBam = 0x0000_8000;
    public const uint RctlSzMask = 0x0003_0000;
    public const uint RctlSz2048 = 0x0000_0000;
    public const uint RctlSz4096 = 0x0003_0000;
    public const uint RctlSz8192 = 0x0002_0000;
    public const uint RctlSz16384 = 0x0001_0000;
    public const uint RctlVfe = 0x0004_0000;
    public const uint RctlBsex = 0x0200_0000;
    public const uint RctlSecrc = 0x0400_0000;

    public const uint TctlEn = 0x0000_0002;
    public const uint TctlPsp = 0x0000_0008;
    public const uint TctlCt = 0x0000_0FF0;
    public const uint TctlCold = 0x003F_F000;
    public const uint TctlRtlc = 0x0100_0000;
    public const int CtShift = 4;
    public const int ColdShift = 12;

    /// <summary>E1000_COLLISION_THRESHOLD and E1000_COLLISION_DISTANCE (full duplex).</summary>
    public const uint CollisionThreshold = 15;
    public const uint CollisionDistance = 63;

    public const uint RxcsumTuofl = 0x0000_0200;

    public const uint TxdCmdEop = 0x0100_0000;
    public const uint TxdCmdIfcs = 0x0200_0000;
    public const uint TxdCmdTse = 0x0400_0000;
    public const uint TxdCmdRs = 0x0800_0000;
    public const uint TxdCmdDext = 0x2000_0000;
    public const uint TxdCmdVle = 0x4000_0000;
    public const uint TxdCmdIde = 0x8000_0000;
    public const uint TxdDtypD = 0x0010_0000;
    public const uint TxdCmdIp = 0x0200_0000;
    public const uint TxdCmdTcp = 0x0100_0000;
    public const uint TxdPoptIxsm = 0x01;
    public const uint TxdPoptTxsm = 0x02;
    public const uint TxdStatDd = 0x0000_0001;

    public const byte RxdStatDd = 0x01;
    public const byte RxdStatEop = 0x02;
    public const byte RxdStatIxsm = 0x04;
    public const byte RxdStatVp = 0x08;
    public const byte RxdStatTcpcs = 0x20;
    public const byte RxdStatIpcs = 0x40;

    /// <summary>E1000_RXD_ERR_FRAME_ERR_MASK: CE | SE | SEQ | CXE | RXE.</summary>
    public const byte RxdErrFrameMask = 0x01 | 0x02 | 0x04 | 0x10 | 0x80;
    public const byte RxdErrTcpe = 0x20;

    // PHY (M88E1000 and IEEE registers, e1000_hw.h)
    public const int PhyCtrl = 0;
    public const int PhyStatus = 1;
    public const int PhyId1 = 2;
    public const int PhyId2 = 3;
    public const int PhyAutonegAdv = 4;
    public const int PhyLpAbility = 5;
    public const int Phy1000tCtrl = 9;
    public const int M88PhySpecCtrl = 16;
    public const int M88PhySpecStatus = 17;
    public const int M88ExtPhySpecCtrl = 20;

    public const ushort MiiCrReset = 0x8000;
    public const ushort MiiCrLoopback = 0x4000;
    public const ushort MiiCrAutoNegEn = 0x1000;
    public const ushort MiiCrPowerDown = 0x0800;
    public const ushort MiiCrRestartAutoNeg = 0x0200;
    public const ushort MiiSrLinkStatus = 0x0004;
    public const ushort MiiSrAutonegComplete = 0x0020;
    public const ushort NwayArPause = 0x0400;
    public const ushort NwayArAsmDir = 0x0800;
    public const ushort NwayLparPause = 0x0400;
    public const ushort NwayLparAsmDir = 0x0800;

    /// <summary>M88E1011_I_PHY_ID: what the 82540EM's PHY must report.</summary>
    public const uint M88E1011IPhyId = 0x0141_0C20;

    /// <summary>EEPROM_SUM (e1000_hw.h).</summary>
    public const ushort EepromSum = 0xBABA;
}
