namespace Emu.Stack.Core;

/// <summary>Netdevice notifier events (include/linux/netdevice.h NETDEV_*).</summary>
public enum NetdevEvent
{
    Up = 1,
    Down = 2,
    Change = 4,
    Register = 5,
    Unregister = 6,
    ChangeMtu = 7,
    ChangeAddr = 8,
    GoingDown = 9,
}
