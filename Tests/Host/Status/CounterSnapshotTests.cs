using System.Text.Json;
using Emu.Emulator.E1000;
using Emu.Host;
using Emu.Host.Bench;
using Emu.Host.Status;
using Emu.Stack.Ipv6;
using Emu.Stack.Sockets;
using Emu.Stack.Tcp;
using Emu.Stack.Wire;

namespace Emu.Tests.Host.Status;

/// <summary>The counters of <c>--stats-json</c> and <c>--summary json</c>: read without side effects, and equal to their sources.</summary>
public sealed class CounterSnapshotTests
{
    [Fact]
    public void StatisticsListHasEveryCounterOfTheRegisterMapWithSixtyFourBitPairsJoined()
    {
        var names = CounterSnapshot.StatisticsRegisters.Select(r => r.Name).ToHashSet();
        foreach (RegisterInfo row in E1000RegisterMap.Rows)
        {
            if (row.Access == RegisterAccess.Counter)
            {
                Assert.Contains(row.Name, names);
            }
        }

        Assert.Contains("GORC", names);
        Assert.Contains("GOTC", names);
        Assert.Contains("TOR", names);
        Assert.Contains("TOT", names);
        Assert.DoesNotContain("GORCL", names);
        Assert.DoesNotContain("GORCH", names);
    }

    [Fact]
    public void CountersMatchTheRegisterFileTheStackAndTcpAfterTraffic()
    {
        (NodePair pair, TcpSocket client, TcpSocket server) = Connected();
        byte[] data = new byte[100_000];
        byte[] buffer = new byte[65536];
        int sent = 0;
        int read = 0;
        Assert.True(pair.Scheduler.RunUntil(
            () =>
            {
                if (sent < data.Length)
                {
                    sent += Math.Max(0, client.Send(data.AsSpan(sent)));
                }

                int n;
                while ((n = server.Receive(buffer)) > 0)
                {
                    read += n;
                }

                return read == data.Length;
            },
            10_000_000_000));

        Node node = pair.Receiver;
        E1000Device device = node.Machine.Nic;
        uint[] before = device.Registers.ToArray();
        CounterSnapshot snapshot = CounterSnapshot.Capture(new StatusSources(device, node), pair.Scheduler.Now, 1.5, DateTimeOffset.UnixEpoch);
        Assert.Equal(before, device.Registers.ToArray());   // clear-on-read registers untouched

        CounterGroup e1000 = snapshot[CounterSnapshot.Statistics]!;
        Assert.Equal(device[E1000Reg.Gprc], (uint)e1000["GPRC"]);
        Assert.Equal(device[E1000Reg.Gptc], (uint)e1000["GPTC"]);
        Assert.Equal(device[E1000Reg.Tpr], (uint)e1000["TPR"]);
        Assert.Equal(device[E1000Reg.Tpt], (uint)e1000["TPT"]);
        Assert.Equal(device[E1000Reg.Gorcl] | ((ulong)device[E1000Reg.Gorcl + 4] << 32), (ulong)e1000["GORC"]);
        Assert.Equal(device[E1000Reg.Gotcl] | ((ulong)device[E1000Reg.Gotcl + 4] << 32), (ulong)e1000["GOTC"]);
        foreach ((string name, uint low, uint high) in CounterSnapshot.StatisticsRegisters)
        {
            ulong expected = device[low] | (high == 0 ? 0 : (ulong)device[high] << 32);
            Assert.Equal(expected, (ulong)e1000[name]);
        }

        Assert.True(e1000["GPRC"] > 0 || e1000["TPR"] > 0 || device.Statistics.RxDelivered > 0);
        Assert.Equal(device.Statistics.RxDelivered, snapshot.Get(CounterSnapshot.Device, "rx_delivered"));
        Assert.Equal(device.Statistics.TxSent, snapshot.Get(CounterSnapshot.Device, "tx_sent"));
        Assert.True(snapshot.Get(CounterSnapshot.Device, "rx_bytes") > data.Length);
        Assert.True(snapshot.Get(CounterSnapshot.Device, "interrupts") > 0);
        foreach (E1000DropReason reason in Enum.GetValues<E1000DropReason>())
        {
            Assert.Equal(device.Statistics[reason], snapshot.Get(CounterSnapshot.Drops, reason.ToString()));
        }

        foreach ((string name, long value) in node.Ipv6.Snmp.All())
        {
            Assert.Equal(value, snapshot.Get(CounterSnapshot.Snmp, name));
        }

        Assert.True(snapshot.Get(CounterSnapshot.Snmp, nameof(Snmp6Counter.Ip6InReceives)) > 0);
        Assert.Equal(node.Ipv6.Snmp[Snmp6Counter.Ip6InReceives], snapshot.Get(CounterSnapshot.Snmp, "Ip6InReceives"));
        Assert.Equal(node.Ipv6.Snmp[Snmp6Counter.TcpInSegs], snapshot.Get(CounterSnapshot.Snmp, "TcpInSegs"));
        Assert.Equal(1, snapshot.Get(CounterSnapshot.Tcp, "ESTABLISHED"));
        Assert.Equal(1, snapshot.Get(CounterSnapshot.Tcp, "LISTEN"));
        Assert.Equal(1, snapshot.Get(CounterSnapshot.Link, "up"));
        Assert.Equal(1000, snapshot.Get(CounterSnapshot.Link, "speed_mbps"));
        Assert.Equal(256, snapshot.Get(CounterSnapshot.Rings, "rx_descriptors"));
        Assert.Equal(0, snapshot.Get(CounterSnapshot.Faults, "armed"));
        Assert.True(snapshot.Get(CounterSnapshot.NetDevice, "rx_packets") > 0);
        Assert.Equal((long)node.Adapter!.HwStats.Gprc, snapshot.Get(CounterSnapshot.Ethtool, "rx_packets"));
        Assert.Equal((long)node.Adapter!.HwStats.Gorc, snapshot.Get(CounterSnapshot.Ethtool, "rx_bytes"));
        Assert.Equal(snapshot.Groups.Count, snapshot.Groups.Select(g => g.Name).Distinct().Count());
        foreach (CounterGroup group in snapshot.Groups)
        {
            Assert.Equal(group.Counters.Count, group.Counters.Select(c => c.Key).Distinct().Count());
        }
    }

    [Fact]
    public void JsonLineHasTimeAndEveryGroupByName()
    {
        (NodePair pair, _, _) = Connected();
        Node node = pair.Sender;
        CounterSnapshot snapshot = CounterSnapshot.Capture(new StatusSources(node.Machine.Nic, node), pair.Scheduler.Now, 2.25, DateTimeOffset.UnixEpoch);
        string line = StatsJsonWriter.Format(snapshot);
        Assert.DoesNotContain('\n', line);
        using JsonDocument json = JsonDocument.Parse(line);
        JsonElement root = json.RootElement;
        Assert.Equal(pair.Scheduler.Now, root.GetProperty("time").GetProperty("virtual_ns").GetInt64());
        Assert.Equal(2.25, root.GetProperty("time").GetProperty("wall_s").GetDouble());
        Assert.Equal(snapshot.Get(CounterSnapshot.Statistics, "GPRC"), root.GetProperty("e1000").GetProperty("GPRC").GetInt64());
        Assert.True(root.GetProperty("e1000").TryGetProperty("GORC", out _));
        Assert.True(root.GetProperty("e1000").TryGetProperty("MPC", out _));
        Assert.True(root.GetProperty("e1000").TryGetProperty("RNBC", out _));
        Assert.Equal(node.Ipv6.Snmp[Snmp6Counter.Ip6OutRequests], root.GetProperty("snmp6").GetProperty("Ip6OutRequests").GetInt64());
        Assert.True(root.GetProperty("drops").TryGetProperty(nameof(E1000DropReason.RxFiltered), out _));
        Assert.True(root.GetProperty("net_device").TryGetProperty("rx_packets", out _));
        Assert.Equal(1, root.GetProperty("tcp").GetProperty("ESTABLISHED").GetInt64());
        Assert.Equal(0, root.GetProperty("faults").GetProperty("armed").GetInt64());
        Assert.True(root.GetProperty("rings").TryGetProperty("TDH", out _));
    }

    internal static (NodePair Pair, TcpSocket Client, TcpSocket Server) Connected()
    {
        var pair = new NodePair(node => node.Netdev!.Carrier && node.Ipv6.Inet6(node.Netdev) is { LinkLocal.Usable: true });
        pair.Receiver.Ipv6.Sockets.Create(SockType.Stream, IpProto.Tcp, out Socket? l);
        var listener = (TcpSocket)l!;
        Assert.Equal(0, listener.Bind(new Ipv6EndPoint(Ipv6Address.Unspecified, 5001)));
        Assert.Equal(0, listener.Listen(4));
        pair.Sender.Ipv6.Sockets.Create(SockType.Stream, IpProto.Tcp, out Socket? c);
        var client = (TcpSocket)c!;
        Ipv6Address destination = Ipv6Address.LinkLocalFromMac(pair.Receiver.Netdev!.DevAddr);
        Assert.Equal(-Errno.EInProgress, client.Connect(new Ipv6EndPoint(destination, 5001, pair.Sender.Netdev!.IfIndex)));
        TcpSocket? server = null;
        Assert.True(pair.Scheduler.RunUntil(() => listener.TryAccept(out server), 10_000_000_000));
        Assert.True(pair.Scheduler.RunUntil(() => client.State == TcpState.Established, 10_000_000_000));
        return (pair, client, server!);
    }
}
