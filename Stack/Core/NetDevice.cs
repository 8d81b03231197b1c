namespace Emu.Stack.Core;

/// <summary>
/// struct net_device: a network interface as the core sees it. Allocated with <see cref="AllocEtherdev"/> (ether_setup
/// defaults), registered with <see cref="NetCore.RegisterNetdev"/>; the driver keeps its state in <see cref="Priv{T}"/>.
/// </summary>
public sealed class NetDevice
{
    /// <summary>ETH_ALEN.</summary>
    public const int AddressLength = 6;

    /// <summary>DEFAULT_TX_QUEUE_LEN (include/net/pkt_sched.h).</summary>
    public const int DefaultTxQueueLength = 1000;

    private readonly object? _priv;

    private NetDevice(object? priv)
    {
        _priv = priv;
    }

    /// <summary>"eth%d" until registration picks a number.</summary>
    public string Name { get; set; } = "eth%d";

    public int IfIndex { get; internal set; }

    public byte[] DevAddr { get; } = new byte[AddressLength];

    public byte[] PermAddr { get; } = new byte[AddressLength];

    public byte[] BroadcastAddr { get; } = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];

    public int Mtu { get; set; } = 1500;

    public int MinMtu { get; set; } = 68;

    public int MaxMtu { get; set; } = 1500;

    public int HardHeaderLength { get; set; } = 14;

    public NetDeviceFlags Flags { get; internal set; }

    public NetDeviceFeatures Features { get; set; }

    public NetDeviceFeatures HwFeatures { get; set; }

    public int TxQueueLength { get; set; } = DefaultTxQueueLength;

    /// <summary>dev->watchdog_timeo, in nanoseconds (e1000: 5 * HZ).</summary>
    public long WatchdogTimeoNs { get; set; } = 5_000_000_000;

    public INetDeviceOps? Ops { get; set; }

    public IEthtoolOps? EthtoolOps { get; set; }

    /// <summary>The counters the core and driver keep (dev->stats).</summary>
    public NetDeviceStats Stats { get; } = new();

    public bool IsRegistered { get; internal set; }

    public bool IsUp => (Flags & NetDeviceFlags.Up) != 0;

    public bool Carrier { get; internal set; }

    /// <summary>The transmit queue's __QUEUE_STATE_DRV_XOFF.</summary>
    public bool QueueStopped { get; internal set; }

    /// <summary>When the driver last started a transmission (txq->trans_start), for the watchdog.</summary>
    public long TransStart { get; set; }

    /// <summary>The multicast hardware addresses (dev->mc), in the order added.</summary>
    public List<byte[]> McList { get; } = [];

    /// <summary>Extra unicast hardware addresses (dev->uc).</summary>
    public List<byte[]> UcList { get; } = [];

    internal NetCore? Core { get; set; }

    internal PfifoFast Qdisc { get; } = new();

    /// <summary>netdev_priv: the driver's private area.</summary>
    public T Priv<T>()
        where T : class
        => _priv as T ?? throw new InvalidOperationException($"this device's private area is not a {typeof(T).Name}");

    /// <summary>alloc_etherdev: an Ethernet device with ether_setup's defaults (eth.c) and a private area.</summary>
    public static NetDevice AllocEtherdev(object? priv)
    {
        var dev = new NetDevice(priv)
        {
            Flags = NetDeviceFlags.Broadcast | NetDeviceFlags.Multicast,
            Mtu = 1500,
            MinMtu = 68,
            MaxMtu = 1500,
            TxQueueLength = DefaultTxQueueLength,
        };
        return dev;
    }

    public override string ToString() => Name;
}
