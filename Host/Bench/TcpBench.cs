using System.Diagnostics;
using Emu.Stack.Core;
using Emu.Stack.Ipv6;
using Emu.Stack.Sockets;
using Emu.Stack.Tcp;
using Emu.Stack.Wire;

namespace Emu.Host.Bench;

/// <summary>
/// <c>emu bench tcp</c>: goodput of one TCP connection between two whole nodes on an in-process wire (MTU 1500),
/// with the e1000's TSO or without, and bytes allocated per segment. Virtual time moves 20 µs per round.
/// </summary>
public sealed class TcpBench
{
    private const long RoundVirtualNs = 20_000;
    private readonly NodePair _pair;
    private readonly TcpSocket _client;
    private readonly TcpSocket _server;
    private readonly byte[] _chunk = new byte[256 * 1024];
    private readonly byte[] _buffer = new byte[1 << 20];

    public TcpBench(bool tso)
    {
        Tso = tso;
        _pair = new NodePair(node => node.Netdev!.Carrier && node.Ipv6.Inet6(node.Netdev) is { LinkLocal.Usable: true });
        if (!tso)
        {
            _pair.Sender.Netdev!.Features &= ~(NetDeviceFeatures.Tso | NetDeviceFeatures.Tso6);
        }

        // ethtool -G rx 1024 on the receiver: TSO bursts arrive all at once on a wire with no line rate.
        _pair.Receiver.Netdev!.EthtoolOps!.SetRingParam(_pair.Receiver.Netdev, 1024, 256);
        _pair.Receiver.Ipv6.Sockets.Create(SockType.Stream, IpProto.Tcp, out Socket? l);
        var listener = (TcpSocket)l!;
        listener.Bind(new Ipv6EndPoint(Ipv6Address.Unspecified, 5001));
        listener.Listen(1);
        _pair.Sender.Ipv6.Sockets.Create(SockType.Stream, IpProto.Tcp, out Socket? c);
        _client = (TcpSocket)c!;
        _client.SendBufferSize = 4 << 20;
        _client.Connect(new Ipv6EndPoint(Ipv6Address.LinkLocalFromMac(_pair.Receiver.Netdev!.DevAddr), 5001, _pair.Sender.Netdev!.IfIndex));
        TcpSocket? server = null;
        if (!_pair.Scheduler.RunUntil(() => listener.TryAccept(out server), 10_000_000_000))
        {
            throw new InvalidOperationException("the connection did not come up");
        }

        _server = server!;
        new Random(1).NextBytes(_chunk);
    }

    public bool Tso { get; }

    /// <summary>Moves <paramref name="bytes"/> through the connection; returns goodput and allocation per segment.</summary>
    public TcpBenchResult Run(long bytes)
    {
        long received = 0;
        long segmentsBefore = _pair.Sender.Ipv6.Snmp[Snmp6Counter.TcpOutSegs] + _pair.Receiver.Ipv6.Snmp[Snmp6Counter.TcpOutSegs];
        long retransBefore = _pair.Sender.Ipv6.Snmp[Snmp6Counter.TcpRetransSegs];
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        long start = Stopwatch.GetTimestamp();
        long offset = 0;
        while (received < bytes)
        {
            while (_client.SendSpace > 0)
            {
                int n = _client.Send(_chunk.AsSpan((int)(offset % _chunk.Length), Math.Min(_chunk.Length - (int)(offset % _chunk.Length), _client.SendSpace)));
                if (n <= 0)
                {
                    break;
                }

                offset += n;
            }

            _pair.Scheduler.RunFor(RoundVirtualNs);
            int r;
            while ((r = _server.Receive(_buffer)) > 0)
            {
                received += r;
            }
        }

        TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        long segments = _pair.Sender.Ipv6.Snmp[Snmp6Counter.TcpOutSegs] + _pair.Receiver.Ipv6.Snmp[Snmp6Counter.TcpOutSegs] - segmentsBefore;
        return new TcpBenchResult(Tso, received, elapsed, segments == 0 ? 0 : (double)allocated / segments, _pair.Sender.Ipv6.Snmp[Snmp6Counter.TcpRetransSegs] - retransBefore);
    }
}

public sealed record TcpBenchResult(bool Tso, long Bytes, TimeSpan Elapsed, double BytesAllocatedPerSegment, long Retransmissions)
{
    public double GigabitsPerSecond => Bytes * 8 / Elapsed.TotalSeconds / 1e9;
}
