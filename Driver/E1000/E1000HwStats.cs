namespace Emu.Driver.E1000;

/// <summary>struct e1000_hw_stats: the clear-on-read counters, accumulated by e1000_update_stats.</summary>
public sealed class E1000HwStats
{
    public ulong Crcerrs;
    public ulong Algnerrc;
    public ulong Symerrs;
    public ulong Rxerrc;
    public ulong Mpc;
    public ulong Scc;
    public ulong Ecol;
    public ulong Mcc;
    public ulong Latecol;
    public ulong Colc;
    public ulong Dc;
    public ulong Tncrs;
    public ulong Sec;
    public ulong Cexterr;
    public ulong Rlec;
    public ulong Xonrxc;
    public ulong Xontxc;
    public ulong Xoffrxc;
    public ulong Xofftxc;
    public ulong Fcruc;
    public ulong Prc64;
    public ulong Prc127;
    public ulong Prc255;
    public ulong Prc511;
    public ulong Prc1023;
    public ulong Prc1522;
    public ulong Gprc;
    public ulong Bprc;
    public ulong Mprc;
    public ulong Gptc;
    public ulong Gorc;
    public ulong Gotc;
    public ulong Rnbc;
    public ulong Ruc;
    public ulong Rfc;
    public ulong Roc;
    public ulong Rjc;
    public ulong Tor;
    public ulong Tot;
    public ulong Tpr;
    public ulong Tpt;
    public ulong Ptc64;
    public ulong Ptc127;
    public ulong Ptc255;
    public ulong Ptc511;
    public ulong Ptc1023;
    public ulong Ptc1522;
    public ulong Mptc;
    public ulong Bptc;
    public ulong Tsctc;
    public ulong Tsctfc;
}
