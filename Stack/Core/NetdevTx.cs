namespace Emu.Stack.Core;

/// <summary>netdev_tx_t: what ndo_start_xmit answers (include/linux/netdevice.h).</summary>
public enum NetdevTx
{
    /// <summary>NETDEV_TX_OK: the driver took the skb (sent, or freed it).</summary>
    Ok = 0,

    /// <summary>NETDEV_TX_BUSY: no room; the core requeues the skb and stops the queue.</summary>
    Busy = 0x10,
}
