namespace Emu.Stack.Core;

/// <summary>dev->features (include/linux/netdev_features.h), the ones the e1000 offers.</summary>
[Flags]
public enum NetDeviceFeatures : ulong
{
    None = 0,
    Sg = 1UL << 0,
    HwCsum = 1UL << 3,
    Ipv6Csum = 1UL << 4,
    HwVlanCtagTx = 1UL << 7,
    HwVlanCtagRx = 1UL << 8,
    HwVlanCtagFilter = 1UL << 9,
    Tso = 1UL << 16,
    Tso6 = 1UL << 19,
    RxCsum = 1UL << 29,
    RxFcs = 1UL << 31,
    RxAll = 1UL << 32,
}
