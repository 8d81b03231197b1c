namespace Emu.Emulator.E1000;

/// <summary>Register bit fields used by the model (8254x manual §13.4; positions as Linux's e1000_hw.h).</summary>
public static class E1000Bits
{
    public const uint CtrlFd = 1u << 0;
    public const uint CtrlSlu = 1u << 6;
    public const uint CtrlRst = 1u << 26;
    public const uint CtrlVme = 1u << 30;
    public const uint CtrlPhyRst = 1u << 31;

    public const uint StatusFd = 1u << 0;
    public const uint StatusLu = 1u << 1;

    public const uint CtrlExtAsdchk = 1u << 12;
    public const uint CtrlExtEeRst = 1u << 13;

    public const uint EecdSk = 1u << 0;
    public const uint EecdCs = 1u << 1;
    public const uint EecdDi = 1u << 2;
    public const uint EecdDo = 1u << 3;
    public const uint EecdFwe = 3u << 4;
    public const uint EecdReq = 1u << 6;
    public const uint EecdGnt = 1u << 7;
    public const uint EecdPres = 1u << 8;

    public const uint EerdStart = 1u << 0;
    public const uint EerdDone = 1u << 4;
    public const int EerdAddrShift = 8;
    public const int EerdDataShift = 16;

    public const uint MdicDataMask = 0xFFFF;
    public const int MdicRegShift = 16;
    public const int MdicPhyShift = 21;
    public const uint MdicOpWrite = 1u << 26;
    public const uint MdicOpRead = 1u << 27;
    public const uint MdicReady = 1u << 28;
    public const uint MdicIntEn = 1u << 29;
    public const uint MdicError = 1u << 30;

    public const uint IcrTxdw = 1u << 0;
    public const uint IcrTxqe = 1u << 1;
    public const uint IcrLsc = 1u << 2;
    public const uint IcrRxdmt0 = 1u << 4;
    public const uint IcrRxo = 1u << 6;
    public const uint IcrRxt0 = 1u << 7;
    public const uint IcrMdac = 1u << 9;
    public const uint IcrTxdLow = 1u << 15;
    public const uint IcrSrpd = 1u << 16;

    public const uint RdtrFpd = 1u << 31;

    // RCTL (§13.4.22)
    public const uint RctlEn = 1u << 1;
    public const uint RctlSbp = 1u << 2;
    public const uint RctlUpe = 1u << 3;
    public const uint RctlMpe = 1u << 4;
    public const uint RctlLpe = 1u << 5;
    public const uint RctlLbmMask = 3u << 6;
    public const uint RctlLbmMac = 1u << 6;
    public const int RctlRdmtsShift = 8;
    public const int RctlMoShift = 12;
    public const uint RctlBam = 1u << 15;
    public const int RctlBsizeShift = 16;
    public const uint RctlVfe = 1u << 18;
    public const uint RctlBsex = 1u << 25;
    public const uint RctlSecrc = 1u << 26;

    // RXCSUM (§13.4.47)
    public const uint RxcsumPcssMask = 0xFF;
    public const uint RxcsumIpofld = 1u << 8;
    public const uint RxcsumTuofld = 1u << 9;

    // Receive descriptor status and errors (§3.2.3, Tables 3-2 and 3-3)
    public const byte RxStatusDd = 0x01;
    public const byte RxStatusEop = 0x02;
    public const byte RxStatusIxsm = 0x04;
    public const byte RxStatusVp = 0x08;
    public const byte RxStatusTcpcs = 0x20;
    public const byte RxStatusIpcs = 0x40;
    public const byte RxErrorCe = 0x01;
    public const byte RxErrorTcpe = 0x20;
    public const byte RxErrorIpe = 0x40;
    public const byte RxErrorRxe = 0x80;

    // TCTL (§13.4.33)
    public const uint TctlEn = 1u << 1;
    public const uint TctlPsp = 1u << 3;

    // Transmit descriptors (§3.3): command bits in the lower dword, bits 31:24.
    public const uint TxdCmdEop = 1u << 24;
    public const uint TxdCmdIfcs = 1u << 25;
    public const uint TxdCmdIc = 1u << 26;
    public const uint TxdCmdTse = 1u << 26;
    public const uint TxdCmdRs = 1u << 27;
    public const uint TxdCmdRps = 1u << 28;
    public const uint TxdCmdDext = 1u << 29;
    public const uint TxdCmdVle = 1u << 30;
    public const uint TxdCmdIde = 1u << 31;
    public const uint TxdDtypData = 1u << 20;
    public const uint TxdTucmdTcp = 1u << 24;
    public const uint TxdTucmdIp = 1u << 25;
    public const byte TxStatusDd = 0x01;
    public const byte TxPoptsIxsm = 0x01;
    public const byte TxPoptsTxsm = 0x02;
}
