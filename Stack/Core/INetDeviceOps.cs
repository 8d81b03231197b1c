namespace Emu.Stack.Core;

/// <summary>struct net_device_ops: what a driver implements for the core.</summary>
public interface INetDeviceOps
{
    /// <summary>ndo_open: 0 or a negative errno.</summary>
    int Open(NetDevice dev);

    /// <summary>ndo_stop.</summary>
    int Stop(NetDevice dev);

    /// <summary>ndo_start_xmit: takes the skb (TX_OK) or leaves it to the core (TX_BUSY).</summary>
    NetdevTx StartXmit(SkBuff skb, NetDevice dev);

    /// <summary>ndo_set_rx_mode: apply promisc/allmulti and the address lists.</summary>
    void SetRxMode(NetDevice dev);

    /// <summary>ndo_change_mtu: 0 or a negative errno.</summary>
    int ChangeMtu(NetDevice dev, int mtu);

    /// <summary>ndo_tx_timeout: the watchdog saw a stopped queue for longer than watchdog_timeo.</summary>
    void TxTimeout(NetDevice dev, int queue);

    /// <summary>ndo_set_mac_address: 0 or a negative errno.</summary>
    int SetMacAddress(NetDevice dev, ReadOnlySpan<byte> address);

    /// <summary>ndo_get_stats64: fills the counters (the core's own are already in).</summary>
    void GetStats64(NetDevice dev, NetDeviceStats stats);
}
