using Emu.Driver.E1000;
using Emu.Emulator.E1000;
using Emu.Emulator.Wire;
using Emu.Stack.Core;
using Emu.Stack.Tcp;

namespace Emu.Host.Status;

/// <summary>
/// Every counter of a run at one instant, in groups, in a fixed order: the link, the e1000's statistics registers by
/// the manual's names (64-bit pairs joined: GORC, GOTC, TOR, TOT), its rings, Emu's own device counters and drops by
/// <see cref="E1000DropReason"/>, the netdev's socket counters, the node's net_device stats, its driver's ethtool -S
/// statistics (accumulated at the driver's last e1000_update_stats), SNMP (Linux's names) and
/// TCP connections by state, and fault firings. The registers come from the raw register file: reading them through
/// <see cref="E1000Device.ReadRegister"/> would clear them (§13.7) under the driver's feet.
/// </summary>
public sealed class CounterSnapshot
{
    public const string Link = "link";
    public const string Statistics = "e1000";
    public const string Rings = "rings";
    public const string Device = "emu";
    public const string Drops = "drops";
    public const string Netdev = "netdev";
    public const string NetDevice = "net_device";
    public const string Ethtool = "ethtool";
    public const string Snmp = "snmp6";
    public const string Tcp = "tcp";
    public const string Faults = "faults";

    public const string Checks = "checks";

    /// <summary>Linux's names of the TCP states (/proc/net/tcp, ss), indexed by <see cref="TcpState"/>.</summary>
    private static readonly string[] s_tcpStateNames =
        ["CLOSE", "LISTEN", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT1", "FIN_WAIT2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT"];

    private static readonly (string Name, uint Low, uint High)[] s_statistics = BuildStatisticsList();

    private CounterSnapshot(long virtualNs, double wallSeconds, DateTimeOffset utc, IReadOnlyList<CounterGroup> groups)
    {
        VirtualNs = virtualNs;
        WallSeconds = wallSeconds;
        Utc = utc;
        Groups = groups;
    }

    /// <summary>The virtual clock, in nanoseconds.</summary>
    public long VirtualNs { get; }

    /// <summary>Wall-clock seconds since the run started.</summary>
    public double WallSeconds { get; }

    public DateTimeOffset Utc { get; }

    public IReadOnlyList<CounterGroup> Groups { get; }

    /// <summary>The group named <paramref name="name"/>, or null when this run has none (no node, no netdev).</summary>
    public CounterGroup? this[string name] => Groups.FirstOrDefault(g => g.Name == name);

    /// <summary>A counter's value, 0 when its group or the counter is absent.</summary>
    public long Get(string group, string name) => this[group]?[name] ?? 0;

    /// <summary>The statistics registers, by name, with the byte offsets of their low and (for 64-bit ones) high dwords.</summary>
    public static IReadOnlyList<(string Name, uint Low, uint High)> StatisticsRegisters => s_statistics;

    /// <summary>Reads every counter of <paramref name="sources"/> without side effects (on the loop thread).</summary>
    public static CounterSnapshot Capture(StatusSources sources, long virtualNs, double wallSeconds, DateTimeOffset utc)
    {
        E1000Device device = sources.Device;
        var groups = new List<CounterGroup>(10);

        uint status = device[E1000Reg.Status];
        uint speedBits = (status >> 6) & 3;
        groups.Add(new CounterGroup(Link,
        [
            new("up", (status & E1000Bits.StatusLu) != 0 ? 1 : 0),
            new("carrier", device.Carrier ? 1 : 0),
            new("speed_mbps", speedBits == 0 ? 10 : speedBits == 1 ? 100 : 1000),
            new("full_duplex", (status & E1000Bits.StatusFd) != 0 ? 1 : 0),
        ]));

        var statistics = new List<KeyValuePair<string, long>>(s_statistics.Length);
        foreach ((string name, uint low, uint high) in s_statistics)
        {
            ulong value = device[low];
            if (high != 0)
            {
                value |= (ulong)device[high] << 32;
            }

            statistics.Add(new(name, (long)value));
        }

        groups.Add(new CounterGroup(Statistics, statistics));
        groups.Add(new CounterGroup(Rings, RingCounters(device)));

        E1000Statistics emu = device.Statistics;
        groups.Add(new CounterGroup(Device,
        [
            new("rx_delivered", emu.RxDelivered),
            new("rx_bytes", emu.RxBytes),
            new("tx_sent", emu.TxSent),
            new("tx_bytes", emu.TxBytes),
            new("interrupts", emu.InterruptsAsserted),
            new("dropped", emu.TotalDrops),
            new("halted", device.Halted ? 1 : 0),
        ]));
        groups.Add(new CounterGroup(Drops, Enum.GetValues<E1000DropReason>().Select(r => new KeyValuePair<string, long>(r.ToString(), emu[r])).ToList()));

        if (sources.Netdev is { } netdev)
        {
            groups.Add(new CounterGroup(Netdev,
            [
                new("frames_in", netdev.FramesIn),
                new("frames_out", netdev.FramesOut),
                new("dropped_not_connected", netdev.DroppedNotConnected),
                new("dropped_send_error", netdev.DroppedSendError),
                new("dropped_send_queue_full", netdev.DroppedSendQueueFull),
                new("bad_length_closures", netdev.BadLengthClosures),
                new("empty_datagrams", netdev.EmptyDatagrams),
                new("connections", netdev.Connections),
            ]));
        }

        if (sources.Node is { } node)
        {
            if (node.Netdev is { } dev)
            {
                groups.Add(new CounterGroup(NetDevice, NetDeviceCounters(NetCore.DevGetStats(dev))));
                if (dev.EthtoolOps is E1000Ethtool ethtool)
                {
                    groups.Add(new CounterGroup(Ethtool, ethtool.PeekStats(dev).Select(c => new KeyValuePair<string, long>(c.Name, (long)c.Value)).ToList()));
                }
            }

            groups.Add(new CounterGroup(Snmp, node.Ipv6.Snmp.All().Select(c => new KeyValuePair<string, long>(c.Name, c.Value)).ToList()));
            Span<int> states = stackalloc int[s_tcpStateNames.Length];
            node.Ipv6.Tcp.CountByState(states);
            var tcp = new List<KeyValuePair<string, long>>(s_tcpStateNames.Length + 1);
            int total = 0;
            for (int i = 0; i < states.Length; i++)
            {
                tcp.Add(new(s_tcpStateNames[i], states[i]));
                total += states[i];
            }

            tcp.Add(new("sockets", total));
            groups.Add(new CounterGroup(Tcp, tcp));
        }

        IFaultSource faults = sources.Faults ?? NoFaults.Instance;
        var firings = new List<KeyValuePair<string, long>> { new("armed", faults.Armed) };
        long fired = 0;
        foreach (KeyValuePair<string, long> firing in faults.Firings)
        {
            firings.Add(firing);
            fired += firing.Value;
        }

        firings.Insert(1, new("fired", fired));
        groups.Add(new CounterGroup(Faults, firings));
        if (sources.Checks is { } checks)
        {
            // --check: the warnings so far, by rule (every rule listed, 0 where it never fired).
            var rules = new List<KeyValuePair<string, long>> { new("warnings", checks.Total) };
            foreach (Emu.Emulator.Instruments.CheckRule rule in Emu.Emulator.Instruments.CheckRules.All)
            {
                rules.Add(new(rule.Id, checks.Counts.TryGetValue(rule, out long n) ? n : 0));
            }

            groups.Add(new CounterGroup(Checks, rules));
        }
        return new CounterSnapshot(virtualNs, wallSeconds, utc, groups);
    }

    private static List<KeyValuePair<string, long>> RingCounters(E1000Device device)
    {
        // A ring of RDLEN/16 descriptors: the device owns those from head up to (not including) tail (§3.2.6, §3.4).
        static (long Size, long Owned) Ring(E1000Device d, uint len, uint head, uint tail)
        {
            long size = d[len] / 16;
            long owned = size == 0 ? 0 : ((d[tail] % size) - (d[head] % size) + size) % size;
            return (size, owned);
        }

        (long rxSize, long rxOwned) = Ring(device, E1000Reg.Rdlen, E1000Reg.Rdh, E1000Reg.Rdt);
        (long txSize, long txOwned) = Ring(device, E1000Reg.Tdlen, E1000Reg.Tdh, E1000Reg.Tdt);
        return
        [
            new("RDLEN", device[E1000Reg.Rdlen]),
            new("RDH", device[E1000Reg.Rdh]),
            new("RDT", device[E1000Reg.Rdt]),
            new("rx_descriptors", rxSize),
            new("rx_free_for_device", rxOwned),
            new("TDLEN", device[E1000Reg.Tdlen]),
            new("TDH", device[E1000Reg.Tdh]),
            new("TDT", device[E1000Reg.Tdt]),
            new("tx_descriptors", txSize),
            new("tx_queued", txOwned),
        ];
    }

    private static List<KeyValuePair<string, long>> NetDeviceCounters(NetDeviceStats s) =>
    [
        new("rx_packets", (long)s.RxPackets),
        new("tx_packets", (long)s.TxPackets),
        new("rx_bytes", (long)s.RxBytes),
        new("tx_bytes", (long)s.TxBytes),
        new("rx_errors", (long)s.RxErrors),
        new("tx_errors", (long)s.TxErrors),
        new("rx_dropped", (long)s.RxDropped),
        new("tx_dropped", (long)s.TxDropped),
        new("multicast", (long)s.Multicast),
        new("collisions", (long)s.Collisions),
        new("rx_length_errors", (long)s.RxLengthErrors),
        new("rx_over_errors", (long)s.RxOverErrors),
        new("rx_crc_errors", (long)s.RxCrcErrors),
        new("rx_frame_errors", (long)s.RxFrameErrors),
        new("rx_fifo_errors", (long)s.RxFifoErrors),
        new("rx_missed_errors", (long)s.RxMissedErrors),
        new("tx_aborted_errors", (long)s.TxAbortedErrors),
        new("tx_carrier_errors", (long)s.TxCarrierErrors),
        new("tx_fifo_errors", (long)s.TxFifoErrors),
        new("tx_heartbeat_errors", (long)s.TxHeartbeatErrors),
        new("tx_window_errors", (long)s.TxWindowErrors),
        new("rx_nohandler", (long)s.RxNoHandler),
    ];

    private static (string, uint, uint)[] BuildStatisticsList()
    {
        // Every counter row of the register map, in offset order; a 64-bit pair (xxxL, xxxH) becomes one counter xxx.
        var list = new List<(string, uint, uint)>();
        foreach (RegisterInfo row in E1000RegisterMap.Rows.OrderBy(r => r.Offset))
        {
            switch (row.Access)
            {
                case RegisterAccess.Counter:
                    list.Add((row.Name, row.Offset, 0));
                    break;
                case RegisterAccess.CounterLow:
                    list.Add((row.Name[..^1], row.Offset, row.Offset + 4));
                    break;
            }
        }

        return [.. list];
    }
}
