namespace Emu.Stack.Core;

/// <summary>struct ethtool_ops, the parts the e1000 driver offers (include/linux/ethtool.h).</summary>
public interface IEthtoolOps
{
    EthtoolDriverInfo GetDrvInfo(NetDevice dev);

    EthtoolLinkSettings GetLinkSettings(NetDevice dev);

    bool GetLink(NetDevice dev);

    (int RxPending, int TxPending, int RxMax, int TxMax) GetRingParam(NetDevice dev);

    int SetRingParam(NetDevice dev, int rxPending, int txPending);

    /// <summary>ethtool -d: the register dump (e1000_get_regs).</summary>
    uint[] GetRegs(NetDevice dev);

    /// <summary>ethtool -e: EEPROM bytes.</summary>
    byte[] GetEeprom(NetDevice dev);

    /// <summary>ethtool -S: name/value pairs in the driver's order.</summary>
    IReadOnlyList<(string Name, ulong Value)> GetStats(NetDevice dev);

    /// <summary>ethtool -t: the self-test results, one per test name, 0 meaning pass.</summary>
    IReadOnlyList<(string Name, ulong Result)> SelfTest(NetDevice dev, bool offline);
}

/// <summary>ethtool -i.</summary>
public sealed record EthtoolDriverInfo(string Driver, string Version, string BusInfo, int EepromLength, int RegDumpLength, int SelfTestCount, int StatsCount);

/// <summary>ethtool (link ksettings).</summary>
public sealed record EthtoolLinkSettings(int SpeedMbps, bool FullDuplex, bool Autoneg, string Port, uint Advertising, int PhyAddress);
