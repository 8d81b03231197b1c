using System.Diagnostics;
using Emu.Emulator.Machine;
using Emu.Stack.Ipv6;
using Emu.Stack.Sockets;
using Emu.Stack.Wire;

namespace Emu.Host.Bench;

/// <summary>
/// <c>emu bench udp</c>: datagrams per second from a UDP socket on one node to a UDP socket on another — sendto,
/// ip6_output, neighbour output, the e1000 driver and device, the in-process wire, the other device, NAPI, ipv6_rcv,
/// udpv6_rcv, the socket queue and recvfrom — and the bytes allocated per datagram. Virtual time moves 100 µs per
/// batch, so interrupt moderation and the stack's timers behave as on a real machine.
/// </summary>
public sealed class UdpBench
{
    public const ushort Port = 9;
    private const int Batch = 32;
    private const long BatchVirtualNs = 100_000;
    private readonly EventScheduler _scheduler;
    private readonly Node _sender;
    private readonly Node _receiver;
    private readonly Socket _tx;
    private readonly DatagramSocket _rx;
    private readonly byte[] _payload;
    private readonly byte[] _buffer = new byte[65536];
    private long _received;
    private long _badPayloads;

    public UdpBench(int payloadLength)
    {
        if (payloadLength is < 1 or > 1452)
        {
            throw new ArgumentOutOfRangeException(nameof(payloadLength), payloadLength, "Payloads are 1 to 1452 bytes (one 1500-byte packet).");
        }

        _payload = new byte[payloadLength];
        for (int i = 0; i < _payload.Length; i++)
        {
            _payload[i] = (byte)i;
        }

        var pair = new NodePair(Ready);
        _scheduler = pair.Scheduler;
        _sender = pair.Sender;
        _receiver = pair.Receiver;
        _receiver.Ipv6.Sockets.Create(SockType.Dgram, IpProto.Udp, out Socket? rx);
        _rx = (DatagramSocket)rx!;
        _rx.ReceiveBuffer = 4 << 20;
        _rx.Bind(new Ipv6EndPoint(Ipv6Address.Unspecified, Port));
        _rx.DataReady = Drain;
        _sender.Ipv6.Sockets.Create(SockType.Dgram, IpProto.Udp, out Socket? tx);
        _tx = tx!;
        Ipv6Address destination = Ipv6Address.LinkLocalFromMac(_receiver.Netdev!.DevAddr);
        _tx.Connect(new Ipv6EndPoint(destination, Port, _sender.Netdev!.IfIndex));

        // Resolve the neighbour before measuring.
        _tx.Send(_payload);
        _scheduler.RunFor(10_000_000);
    }

    public BenchResult Run(long datagrams)
    {
        long batches = (datagrams + Batch - 1) / Batch;
        long receivedBefore = _received;
        long dropsBefore = Drops();
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        long start = Stopwatch.GetTimestamp();
        for (long b = 0; b < batches; b++)
        {
            for (int i = 0; i < Batch; i++)
            {
                _tx.Send(_payload);
            }

            _scheduler.RunFor(BatchVirtualNs);
        }

        _scheduler.RunFor(10 * BatchVirtualNs);
        TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        long received = _received - receivedBefore;
        return new BenchResult(_payload.Length, received, Drops() - dropsBefore + _badPayloads, elapsed, received == 0 ? 0 : (double)allocated / received);
    }

    private static bool Ready(Node node) => node.Netdev!.Carrier && node.Ipv6.Inet6(node.Netdev) is { LinkLocal.Usable: true };

    private void Drain(DatagramSocket socket)
    {
        while (socket.TryReceiveFrom(_buffer, out ReceiveResult r))
        {
            _received++;
            if (r.Length != _payload.Length || _buffer[r.Length - 1] != _payload[^1])
            {
                _badPayloads++;
            }
        }
    }

    private long Drops()
    {
        Snmp6 s = _sender.Ipv6.Snmp;
        Snmp6 r = _receiver.Ipv6.Snmp;
        return (long)(_sender.Netdev!.Stats.TxDropped + _receiver.Netdev!.Stats.RxDropped)
            + _sender.Machine.Nic.Statistics.TotalDrops + _receiver.Machine.Nic.Statistics.TotalDrops
            + s[Snmp6Counter.Ip6OutDiscards] + r[Snmp6Counter.Udp6InErrors] + r[Snmp6Counter.Udp6NoPorts] + r[Snmp6Counter.Ip6InDiscards];
    }
}
