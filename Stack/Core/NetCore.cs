using System.Buffers.Binary;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Emu.Stack.Core;

/// <summary>
/// The networking core of one node (Linux net/core/dev.c, sch_generic.c, eth.c): device registration and the
/// netdevice notifier chain, open/close, carrier and queue state, NAPI and the NET_RX/NET_TX softirqs, the per-CPU
/// backlog behind netif_rx, protocol dispatch by EtherType, dev_queue_xmit through pfifo_fast, and the TX watchdog.
/// Everything runs on the node's event loop; softirqs run as events right after the one that raised them.
/// </summary>
public sealed partial class NetCore
{
    /// <summary>netdev_max_backlog.</summary>
    public const int MaxBacklog = 1000;

    /// <summary>netdev_budget: packets per NET_RX softirq run.</summary>
    public const int Budget = 300;

    /// <summary>dev_tx_weight: packets per qdisc run before yielding to the NET_TX softirq.</summary>
    public const int TxWeight = 64;

    /// <summary>MAX_SOFTIRQ_RESTART: softirq rounds in one go before the rest is deferred (ksoftirqd).</summary>
    private const int MaxSoftirqRestart = 10;

    public const int NetRxSuccess = 0;
    public const int NetRxDrop = 1;
    public const int NetXmitSuccess = 0;
    public const int NetXmitDrop = 1;

    /// <summary>-ENETDOWN.</summary>
    public const int ENetDown = -100;

    /// <summary>-EINVAL.</summary>
    public const int EInval = -22;

    /// <summary>-EBUSY.</summary>
    public const int EBusy = -16;

    private readonly List<NetDevice> _devices = [];
    private readonly Dictionary<ushort, List<Action<SkBuff, NetDevice>>> _packetHandlers = [];
    private readonly List<Action<SkBuff, NetDevice>> _taps = [];
    private readonly List<Napi> _pollList = [];
    private readonly List<NetDevice> _txScheduled = [];
    private readonly SkBuffHead _backlog = new();
    private readonly Napi _backlogNapi;
    private readonly IKernelTimer _softirqTimer;
    private readonly Dictionary<NetDevice, IKernelTimer> _watchdogs = [];
    private readonly ILogger _logger;
    private bool _rxPending;
    private bool _txPending;
    private int _nextIfIndex = 2;   // 1 is lo

    public NetCore(IKernelClock clock, ILogger? logger = null)
    {
        Clock = clock;
        _logger = logger ?? NullLogger.Instance;
        _softirqTimer = clock.CreateTimer("softirq", RunSoftirqs);
        _backlogNapi = new Napi(NetDevice.AllocEtherdev(null), ProcessBacklog, Napi.DefaultWeight) { Enabled = true };
    }

    public IKernelClock Clock { get; }

    /// <summary>Where the core's printk lines go (the node's kernel log).</summary>
    public Action<string>? KernelMessage { get; set; }

    /// <summary>Raised with every notifier event (register_netdevice_notifier).</summary>
    public event Action<NetdevEvent, NetDevice>? Notifier;

    public IReadOnlyList<NetDevice> Devices => _devices;

    /// <summary>softnet_data.dropped: frames netif_rx could not queue.</summary>
    public long BacklogDropped { get; private set; }

    /// <summary>The <c>--trace skb</c> probe, or null.</summary>
    public SkbProbe? SkbProbe { get; set; }

    public int BacklogLength => _backlog.QLen;

    // ---- Registration ----

    /// <summary>register_netdev: picks the name (eth%d → eth0, eth1 …) and ifindex, fires NETDEV_REGISTER.</summary>
    public int RegisterNetdev(NetDevice dev)
    {
        if (dev.IsRegistered)
        {
            return EInval;
        }

        if (dev.Name.Contains("%d", StringComparison.Ordinal))
        {
            for (int n = 0; ; n++)
            {
                string candidate = dev.Name.Replace("%d", n.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
                if (!_devices.Exists(d => d.Name == candidate))
                {
                    dev.Name = candidate;
                    break;
                }
            }
        }
        else if (_devices.Exists(d => d.Name == dev.Name))
        {
            return -17;   // -EEXIST
        }

        dev.IfIndex = _nextIfIndex++;
        dev.Core = this;
        dev.IsRegistered = true;
        _devices.Add(dev);
        Notifier?.Invoke(NetdevEvent.Register, dev);
        return 0;
    }

    /// <summary>unregister_netdev: closes the device if it is up, fires NETDEV_UNREGISTER, drops queued frames.</summary>
    public void UnregisterNetdev(NetDevice dev)
    {
        if (!dev.IsRegistered)
        {
            return;
        }

        DevClose(dev);
        Notifier?.Invoke(NetdevEvent.Unregister, dev);
        dev.Qdisc.Purge();
        _devices.Remove(dev);
        dev.IsRegistered = false;
    }

    public NetDevice? DevGetByName(string name) => _devices.Find(d => d.Name == name);

    // ---- Open / close ----

    /// <summary>dev_open: ndo_open, IFF_UP, rx mode, NETDEV_UP; the watchdog starts with the carrier.</summary>
    public int DevOpen(NetDevice dev)
    {
        if (dev.IsUp)
        {
            return 0;
        }

        if (!dev.IsRegistered)
        {
            return -19;   // -ENODEV
        }

        // eth_validate_addr (ndo_validate_addr): no interface comes up without a valid unicast address.
        if ((dev.DevAddr[0] & 1) != 0 || !dev.DevAddr.AsSpan().ContainsAnyExcept((byte)0))
        {
            return -99;   // -EADDRNOTAVAIL
        }

        int result = dev.Ops?.Open(dev) ?? 0;
        if (result != 0)
        {
            return result;
        }

        dev.Flags |= NetDeviceFlags.Up;
        dev.Ops?.SetRxMode(dev);
        Notifier?.Invoke(NetdevEvent.Up, dev);
        if (dev.Carrier)
        {
            StartWatchdog(dev);
        }

        return 0;
    }

    /// <summary>dev_close: NETDEV_GOING_DOWN, ndo_stop, qdisc reset, IFF_UP cleared, NETDEV_DOWN.</summary>
    public void DevClose(NetDevice dev)
    {
        if (!dev.IsUp)
        {
            return;
        }

        Notifier?.Invoke(NetdevEvent.GoingDown, dev);
        dev.Ops?.Stop(dev);
        StopWatchdog(dev);
        dev.Stats.TxDropped += (ulong)dev.Qdisc.Purge();
        dev.Flags &= ~(NetDeviceFlags.Up | NetDeviceFlags.Running);
        Notifier?.Invoke(NetdevEvent.Down, dev);
    }

    // ---- Carrier and queue ----

    /// <summary>netif_carrier_on: IFF_RUNNING/LOWER_UP, NETDEV_CHANGE, the TX watchdog.</summary>
    public void NetifCarrierOn(NetDevice dev)
    {
        if (dev.Carrier)
        {
            return;
        }

        dev.Carrier = true;
        dev.Flags |= NetDeviceFlags.LowerUp | (dev.IsUp ? NetDeviceFlags.Running : 0);
        Notifier?.Invoke(NetdevEvent.Change, dev);
        if (dev.IsUp)
        {
            StartWatchdog(dev);
        }
    }

    /// <summary>netif_carrier_off.</summary>
    public void NetifCarrierOff(NetDevice dev)
    {
        if (!dev.Carrier)
        {
            return;
        }

        dev.Carrier = false;
        dev.Flags &= ~(NetDeviceFlags.LowerUp | NetDeviceFlags.Running);
        Notifier?.Invoke(NetdevEvent.Change, dev);
    }

    public void NetifStartQueue(NetDevice dev) => dev.QueueStopped = false;

    /// <summary>
    /// netif_tx_stop_queue. Stopping also stamps trans_start, as Linux does since "net: fix races in
    /// netdev_tx_sent_queue()/dev_watchdog()" (2024, in 6.1.y too): dev_watchdog measures the 5 s from the stop. A
    /// driver that stops its queue again every 2 s (e1000's hang check) therefore never meets the transmit timeout.
    /// </summary>
    public void NetifStopQueue(NetDevice dev)
    {
        dev.TransStart = Clock.Now;
        dev.QueueStopped = true;
    }

    /// <summary>netif_wake_queue: restart the queue and let the qdisc run again (NET_TX softirq).</summary>
    public void NetifWakeQueue(NetDevice dev)
    {
        if (dev.QueueStopped)
        {
            dev.QueueStopped = false;
            NetifSchedule(dev);
        }
    }

    // ---- NAPI ----

    /// <summary>netif_napi_add: a poll context for the device, disabled until napi_enable.</summary>
    public static Napi NetifNapiAdd(NetDevice dev, Func<Napi, int, int> poll, int weight = Napi.DefaultWeight) => new(dev, poll, weight);

    public static void NapiEnable(Napi napi) => napi.Enabled = true;

    /// <summary>napi_disable: no further polls; a scheduled poll is dropped.</summary>
    public void NapiDisable(Napi napi)
    {
        napi.Enabled = false;
        napi.Scheduled = false;
        _pollList.Remove(napi);
    }

    /// <summary>napi_schedule: queue the poll and raise NET_RX; false if already scheduled or disabled.</summary>
    public bool NapiSchedule(Napi napi)
    {
        if (!napi.Enabled || napi.Scheduled)
        {
            return false;
        }

        napi.Scheduled = true;
        _pollList.Add(napi);
        RaiseSoftirq(rx: true);
        return true;
    }

    /// <summary>napi_complete_done: the driver is done with less than its budget; the context can be scheduled again.</summary>
    public bool NapiCompleteDone(Napi napi, int workDone)
    {
        napi.Scheduled = false;
        _pollList.Remove(napi);
        return true;
    }

    /// <summary>napi_gro_receive: GRO is not modelled; the skb goes to netif_receive_skb.</summary>
    public void NapiGroReceive(Napi napi, SkBuff skb) => NetifReceiveSkb(skb);

    // ---- Receive ----

    /// <summary>eth_type_trans (eth.c): sets dev and pkt_type, pulls the Ethernet header, returns the protocol.</summary>
    public static ushort EthTypeTrans(SkBuff skb, NetDevice dev)
    {
        skb.Dev = dev;
        skb.MacHeader = skb.Data;
        ReadOnlySpan<byte> header = skb.DataSpan;
        if (header.Length < 14)
        {
            skb.PktType = PacketType.OtherHost;
            return 0;
        }

        if ((header[0] & 1) != 0)
        {
            skb.PktType = header[..6].SequenceEqual(dev.BroadcastAddr) ? PacketType.Broadcast : PacketType.Multicast;
        }
        else
        {
            skb.PktType = header[..6].SequenceEqual(dev.DevAddr) ? PacketType.Host : PacketType.OtherHost;
        }

        ushort proto = BinaryPrimitives.ReadUInt16BigEndian(header[12..]);
        skb.Pull(14);
        skb.NetworkHeader = skb.Data;

        // Below 0x600 the field is an 802.3 length: ETH_P_802_3 (raw IPX) or ETH_P_802_2 (LLC).
        return proto >= 0x600 ? proto : (skb.Len >= 2 && skb.DataSpan[0] == 0xFF && skb.DataSpan[1] == 0xFF ? (ushort)0x0001 : (ushort)0x0004);
    }

    /// <summary>dev_add_pack: a handler for one EtherType (e.g. ETH_P_IPV6 → ipv6_rcv).</summary>
    public void DevAddPack(ushort etherType, Action<SkBuff, NetDevice> handler)
    {
        if (!_packetHandlers.TryGetValue(etherType, out List<Action<SkBuff, NetDevice>>? list))
        {
            _packetHandlers[etherType] = list = [];
        }

        list.Add(handler);
    }

    /// <summary>A ptype_all tap: sees every received frame (its own clone).</summary>
    public void DevAddTap(Action<SkBuff, NetDevice> tap) => _taps.Add(tap);

    /// <summary>
    /// netif_rx: queue on the backlog for the NET_RX softirq (the seed's non-NAPI path). Drops, counted, when the
    /// device is down or the backlog holds netdev_max_backlog frames.
    /// </summary>
    public int NetifRx(SkBuff skb)
    {
        NetDevice? dev = skb.Dev;
        if (dev is null || !dev.IsUp)
        {
            if (dev is not null)
            {
                dev.Stats.RxDropped++;
            }

            SkbProbe?.Event("kfree_skb", dev, skb.Len, skb.Protocol, "reason=DEV_READY (netif_rx on a device that is down)");
            skb.Free();
            return NetRxDrop;
        }

        if (_backlog.QLen > MaxBacklog)
        {
            BacklogDropped++;
            dev.Stats.RxDropped++;
            SkbProbe?.Event("kfree_skb", dev, skb.Len, skb.Protocol, "reason=CPU_BACKLOG (netdev_max_backlog)");
            skb.Free();
            return NetRxDrop;
        }

        SkbProbe?.Event("netif_rx", dev, skb.Len, skb.Protocol, null);
        _backlog.EnqueueTail(skb);
        NapiSchedule(_backlogNapi);
        return NetRxSuccess;
    }

    /// <summary>netif_receive_skb: taps, then the handlers for skb->protocol; none → dropped (rx_nohandler).</summary>
    public int NetifReceiveSkb(SkBuff skb)
    {
        NetDevice dev = skb.Dev!;
        SkbProbe?.Event("netif_receive_skb", dev, skb.Len, skb.Protocol, null);
        foreach (Action<SkBuff, NetDevice> tap in _taps)
        {
            SkBuff clone = skb.Clone();
            tap(clone, dev);
        }

        if (_packetHandlers.TryGetValue(skb.Protocol, out List<Action<SkBuff, NetDevice>>? handlers) && handlers.Count > 0)
        {
            for (int i = 0; i < handlers.Count - 1; i++)
            {
                handlers[i](skb.Clone(), dev);
            }

            handlers[^1](skb, dev);
            return NetRxSuccess;
        }

        dev.Stats.RxNoHandler++;
        SkbProbe?.Event("kfree_skb", dev, skb.Len, skb.Protocol, "reason=UNHANDLED_PROTO (rx_nohandler)");
        skb.Free();
        return NetRxDrop;
    }

    private int ProcessBacklog(Napi napi, int budget)
    {
        int work = 0;
        while (work < budget && _backlog.Dequeue() is { } skb)
        {
            NetifReceiveSkb(skb);
            work++;
        }

        if (_backlog.IsEmpty)
        {
            NapiCompleteDone(napi, work);
        }

        return work;
    }

    // ---- Transmit ----

    /// <summary>
    /// dev_queue_xmit: through the device's pfifo_fast qdisc to ndo_start_xmit. A down device or a full band drops
    /// the skb (counted); a driver that answers NETDEV_TX_BUSY gets the skb back later, first in line.
    /// </summary>
    public int DevQueueXmit(SkBuff skb)
    {
        NetDevice dev = skb.Dev ?? throw new InvalidOperationException("dev_queue_xmit without skb->dev");
        skb.MacHeader = skb.Data;
        if (!dev.IsUp)
        {
            dev.Stats.TxDropped++;
            SkbProbe?.Event("kfree_skb", dev, skb.Len, skb.Protocol, "reason=DEV_READY (dev_queue_xmit on a device that is down)");
            skb.Free();
            return ENetDown;
        }

        int length = skb.Len;
        ushort protocol = skb.Protocol;
        SkbProbe?.Event("net_dev_queue", dev, length, protocol, null);
        if (!dev.Qdisc.Enqueue(skb, dev.TxQueueLength))
        {
            dev.Stats.TxDropped++;
            SkbProbe?.Event("kfree_skb", dev, length, protocol, "reason=QDISC_DROP (pfifo_fast band full)");
            return NetXmitDrop;
        }

        QdiscRun(dev);
        return NetXmitSuccess;
    }

    /// <summary>__qdisc_run: send while the driver's queue runs, up to dev_tx_weight, then yield to NET_TX.</summary>
    private void QdiscRun(NetDevice dev)
    {
        int quota = TxWeight;
        while (!dev.QueueStopped && dev.IsUp)
        {
            if (quota-- == 0)
            {
                NetifSchedule(dev);
                return;
            }

            SkBuff? skb = dev.Qdisc.Dequeue();
            if (skb is null)
            {
                return;
            }

            if (SkbProbe is { } probe)
            {
                probe.Event("net_dev_start_xmit", dev, skb.Len, skb.Protocol, null);
            }

            NetdevTx result = dev.Ops!.StartXmit(skb, dev);
            if (result == NetdevTx.Busy)
            {
                // dev_requeue_skb: first out next time; the driver has stopped (or will stop) its queue.
                dev.Qdisc.Requeued = skb;
                dev.Qdisc.Requeues++;
                NetifSchedule(dev);
                return;
            }
        }
    }

    /// <summary>__netif_schedule: run this device's qdisc from the NET_TX softirq.</summary>
    public void NetifSchedule(NetDevice dev)
    {
        if (!_txScheduled.Contains(dev))
        {
            _txScheduled.Add(dev);
        }

        RaiseSoftirq(rx: false);
    }

    public int QdiscLength(NetDevice dev) => dev.Qdisc.QLen;

    public long QdiscDrops(NetDevice dev) => dev.Qdisc.Drops;

    // ---- Address lists and rx mode ----

    /// <summary>dev_mc_add: a multicast hardware address; the driver's set_rx_mode applies it.</summary>
    public void DevMcAdd(NetDevice dev, ReadOnlySpan<byte> address)
    {
        foreach (byte[] existing in dev.McList)
        {
            if (address.SequenceEqual(existing))
            {
                return;
            }
        }

        dev.McList.Add(address.ToArray());
        if (dev.IsUp)
        {
            dev.Ops?.SetRxMode(dev);
        }
    }

    public void DevMcDel(NetDevice dev, ReadOnlySpan<byte> address)
    {
        int index = -1;
        for (int i = 0; i < dev.McList.Count; i++)
        {
            if (address.SequenceEqual(dev.McList[i]))
            {
                index = i;
                break;
            }
        }

        if (index >= 0)
        {
            dev.McList.RemoveAt(index);
            if (dev.IsUp)
            {
                dev.Ops?.SetRxMode(dev);
            }
        }
    }

    public void DevSetPromiscuity(NetDevice dev, bool on) => SetFlag(dev, NetDeviceFlags.Promisc, on);

    public void DevSetAllMulti(NetDevice dev, bool on) => SetFlag(dev, NetDeviceFlags.AllMulti, on);

    /// <summary>dev_set_mtu: range check, ndo_change_mtu, NETDEV_CHANGEMTU.</summary>
    public int DevSetMtu(NetDevice dev, int mtu)
    {
        if (mtu < dev.MinMtu || mtu > dev.MaxMtu)
        {
            return EInval;
        }

        int result = dev.Ops?.ChangeMtu(dev, mtu) ?? 0;
        if (result == 0)
        {
            dev.Mtu = mtu;
            Notifier?.Invoke(NetdevEvent.ChangeMtu, dev);
        }

        return result;
    }

    /// <summary>dev_set_mac_address.</summary>
    public int DevSetMacAddress(NetDevice dev, ReadOnlySpan<byte> address)
    {
        if (address.Length != NetDevice.AddressLength || (address[0] & 1) != 0 || !address.ContainsAnyExcept((byte)0))
        {
            return -99;   // -EADDRNOTAVAIL
        }

        int result = dev.Ops?.SetMacAddress(dev, address) ?? 0;
        if (result == 0)
        {
            address.CopyTo(dev.DevAddr);
            Notifier?.Invoke(NetdevEvent.ChangeAddr, dev);
        }

        return result;
    }

    /// <summary>dev_get_stats: the core's counters plus the driver's ndo_get_stats64.</summary>
    public static NetDeviceStats DevGetStats(NetDevice dev)
    {
        var stats = new NetDeviceStats();
        dev.Stats.CopyTo(stats);
        dev.Ops?.GetStats64(dev, stats);
        return stats;
    }

    private void SetFlag(NetDevice dev, NetDeviceFlags flag, bool on)
    {
        NetDeviceFlags old = dev.Flags;
        dev.Flags = on ? dev.Flags | flag : dev.Flags & ~flag;
        if (old != dev.Flags && dev.IsUp)
        {
            dev.Ops?.SetRxMode(dev);
        }
    }

    // ---- Softirqs ----

    private void RaiseSoftirq(bool rx)
    {
        if (rx)
        {
            _rxPending = true;
        }
        else
        {
            _txPending = true;
        }

        if (!_softirqTimer.IsPending)
        {
            _softirqTimer.ArmIn(0);
        }
    }

    /// <summary>__do_softirq: NET_TX then NET_RX, restarted while raised again, at most MAX_SOFTIRQ_RESTART rounds.</summary>
    private void RunSoftirqs()
    {
        for (int round = 0; round < MaxSoftirqRestart && (_rxPending || _txPending); round++)
        {
            if (_txPending)
            {
                _txPending = false;
                NetTxAction();
            }

            if (_rxPending)
            {
                _rxPending = false;
                NetRxAction();
            }
        }

        if (_rxPending || _txPending)
        {
            _softirqTimer.ArmIn(0);
        }
    }

    /// <summary>net_rx_action: poll scheduled contexts within netdev_budget; a context that used its weight stays.</summary>
    private void NetRxAction()
    {
        int budget = Budget;
        while (_pollList.Count > 0 && budget > 0)
        {
            Napi napi = _pollList[0];
            _pollList.RemoveAt(0);
            int work = napi.Poll(napi, napi.Weight);
            napi.Polls++;
            budget -= work;
            if (napi.Scheduled && !_pollList.Contains(napi))
            {
                // Used its whole weight (or did not complete): to the back of the list.
                _pollList.Add(napi);
            }
        }

        if (_pollList.Count > 0)
        {
            _rxPending = true;
        }
    }

    private void NetTxAction()
    {
        int count = _txScheduled.Count;
        for (int i = 0; i < count && _txScheduled.Count > 0; i++)
        {
            NetDevice dev = _txScheduled[0];
            _txScheduled.RemoveAt(0);
            QdiscRun(dev);
        }
    }

    // ---- TX watchdog (dev_watchdog, sch_generic.c) ----

    private void StartWatchdog(NetDevice dev)
    {
        if (!_watchdogs.TryGetValue(dev, out IKernelTimer? timer))
        {
            timer = Clock.CreateTimer("dev_watchdog " + dev.Name, () => DevWatchdog(dev));
            _watchdogs[dev] = timer;
        }

        if (!timer.IsPending)
        {
            timer.ArmIn(dev.WatchdogTimeoNs);
        }
    }

    private void StopWatchdog(NetDevice dev)
    {
        if (_watchdogs.TryGetValue(dev, out IKernelTimer? timer))
        {
            timer.Cancel();
        }
    }

    private void DevWatchdog(NetDevice dev)
    {
        if (!dev.IsUp || !dev.Carrier)
        {
            return;
        }

        if (dev.QueueStopped && Clock.Now - dev.TransStart > dev.WatchdogTimeoNs)
        {
            Log.WatchdogTimeout(_logger, dev.Name);
            KernelMessage?.Invoke($"NETDEV WATCHDOG: {dev.Name} (e1000): transmit queue 0 timed out");
            dev.TransStart = Clock.Now;
            dev.Ops?.TxTimeout(dev, 0);
        }

        _watchdogs[dev].ArmIn(dev.WatchdogTimeoNs);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4001, Level = LogLevel.Warning, Message = "NETDEV WATCHDOG: {Netdev}: transmit queue 0 timed out")]
        public static partial void WatchdogTimeout(ILogger logger, string netdev);
    }
}
