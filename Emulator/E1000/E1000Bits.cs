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
}
