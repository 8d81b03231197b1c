using System.Buffers.Binary;
using Emu.Emulator.Machine;
using Emu.Stack.Ipv6;
using Emu.Stack.Sockets;
using Emu.Stack.Udp;
using Emu.Stack.Wire;

namespace Emu.Tests.Stack;

/// <summary>UDP (RFC 768, RFC 8200 §8.1) and the AF_INET6 sockets layer: datagram and raw ICMPv6 sockets, in virtual time.</summary>
public sealed class SocketTests
{
    private static UdpSocket Udp(StackNode node)
    {
        Assert.Equal(0, node.Ip.Sockets.Create(SockType.Dgram, 0, out Socket? s));
        return Assert.IsType<UdpSocket>(s);
    }

    [Fact]
    public void SocketTableServesStreamDatagramAndRawIcmpAndRefusesTheRest()
    {
        var scheduler = new EventScheduler();
        var node = new StackNode(scheduler, 1);
        Assert.Equal(0, node.Ip.Sockets.Create(SockType.Dgram, IpProto.Udp, out Socket? udp));
        Assert.IsType<UdpSocket>(udp);
        Assert.Equal(0, node.Ip.Sockets.Create(SockType.Raw, IpProto.Icmpv6, out Socket? raw));
        Assert.IsType<RawSocket>(raw);
        Assert.Equal(-Errno.EProtoNoSupport, node.Ip.Sockets.Create(SockType.Dgram, IpProto.Tcp, out _));
        Assert.Equal(-Errno.EProtoNoSupport, node.Ip.Sockets.Create(SockType.Raw, 0, out _));
        Assert.Equal(0, node.Ip.Sockets.Create(SockType.Stream, IpProto.Tcp, out Socket? tcp));
        Assert.IsType<Emu.Stack.Tcp.TcpSocket>(tcp);
        Assert.Equal(-Errno.EProtoNoSupport, node.Ip.Sockets.Create(SockType.Stream, IpProto.Udp, out _));
    }

    [Fact]
    public async Task UdpBothWaysBetweenTwoNodes()
    {
        var scheduler = new EventScheduler();
        (StackNode a, StackNode b) = StackNode.Pair(scheduler);
        UdpSocket server = Udp(b);
        Assert.Equal(0, server.Bind(new Ipv6EndPoint(Ipv6Address.Unspecified, 7)));
        UdpSocket client = Udp(a);
        ValueTask<Datagram> atServer = server.ReceiveFromAsync();
        Assert.Equal(5, client.SendTo("hello"u8, new Ipv6EndPoint(b.LinkLocal, 7, a.Dev.IfIndex)));
        Assert.InRange(client.GetSockName().Port, Udp6.EphemeralLow, Udp6.EphemeralHigh);   // autobind
        scheduler.RunFor(1_000_000);
        Assert.True(atServer.IsCompleted);
        Datagram d = await atServer;
        Assert.Equal("hello"u8.ToArray(), d.Span.ToArray());
        Assert.Equal(a.LinkLocal, d.From.Address);
        Assert.Equal(client.GetSockName().Port, d.From.Port);
        Assert.Equal(b.Dev.IfIndex, d.From.ScopeId);           // a link-local sender carries its scope

        // Echo back to the sender.
        Assert.Equal(5, server.SendTo(d.Span, d.From));
        scheduler.RunFor(1_000_000);
        Assert.True(client.TryReceiveFrom(new byte[100], out ReceiveResult r));
        Assert.Equal(5, r.Length);
        Assert.Equal(new Ipv6EndPoint(b.LinkLocal, 7, a.Dev.IfIndex), r.From);
        Assert.Equal(1, b.Counter(Snmp6Counter.Udp6InDatagrams));
        Assert.Equal(1, b.Counter(Snmp6Counter.Udp6OutDatagrams));
    }

    [Fact]
    public void ZeroChecksumBadChecksumAndBadLengthAreDroppedAndCounted()
    {
        var scheduler = new EventScheduler();
        (StackNode a, _) = StackNode.Pair(scheduler);
        UdpSocket s = Udp(a);
        s.Bind(new Ipv6EndPoint(Ipv6Address.Unspecified, 9000));
        a.InjectIpv6(Packets.Udp(Packets.PeerLinkLocal, a.LinkLocal, 1, 9000, [1, 2, 3], zeroChecksum: true));
        byte[] bad = Packets.Udp(Packets.PeerLinkLocal, a.LinkLocal, 1, 9000, [1, 2, 3]);
        bad[^1] ^= 1;
        a.InjectIpv6(bad);
        byte[] longer = Packets.Udp(Packets.PeerLinkLocal, a.LinkLocal, 1, 9000, [1, 2, 3]);
        longer[45] = 200;   // UDP length beyond the packet
        a.InjectIpv6(longer);
        Assert.Equal(0, s.QueuedDatagrams);
        Assert.Equal(3, a.Counter(Snmp6Counter.Udp6InErrors));   // RFC 8200 §8.1: a zero checksum is invalid
        Assert.Equal(1, a.Counter(Snmp6Counter.Udp6InCsumErrors));
    }

    [Fact]
    public void ClosedPortAnswersPortUnreachableButNotForMulticast()
    {
        var scheduler = new EventScheduler();
        (StackNode a, _) = StackNode.Pair(scheduler);
        a.Ip.NeighAddPermanent(a.Idev, Packets.PeerLinkLocal, Packets.PeerMac);
        a.Sent.Clear();
        byte[] datagram = Packets.Udp(Packets.PeerLinkLocal, a.LinkLocal, 1, 9999, [1, 2, 3]);
        a.InjectIpv6(datagram);
        var error = new StackNode.Packet(Assert.Single(a.SentIcmp(Ipv6Stack.IcmpDestUnreachable)));
        Assert.Equal(4, error.Upper[1]);
        Assert.Equal(datagram, error.Upper[8..].ToArray());
        a.InjectIpv6(Packets.Udp(Packets.PeerLinkLocal, Ipv6Address.AllNodes, 1, 9999, [1, 2, 3]));
        Assert.Single(a.SentIcmp(Ipv6Stack.IcmpDestUnreachable));   // RFC 4443 §2.4 (e.3)
        Assert.Equal(2, a.Counter(Snmp6Counter.Udp6NoPorts));
    }

    [Fact]
    public void ReceiveBufferOverflowDropsAndCounts()
    {
        var scheduler = new EventScheduler();
        (StackNode a, StackNode b) = StackNode.Pair(scheduler);
        UdpSocket server = Udp(b);
        server.ReceiveBuffer = 10 * (1000 + DatagramSocket.PerDatagramOverhead);
        server.Bind(new Ipv6EndPoint(Ipv6Address.Unspecified, 7));
        UdpSocket client = Udp(a);
        byte[] payload = new byte[1000];
        for (int i = 0; i < 15; i++)
        {
            client.SendTo(payload, new Ipv6EndPoint(b.LinkLocal, 7));
        }

        scheduler.RunFor(10_000_000);
        Assert.Equal(10, server.QueuedDatagrams);
        Assert.Equal(5, server.Drops);
        Assert.Equal(5, b.Counter(Snmp6Counter.Udp6RcvbufErrors));
        Assert.Equal(10, b.Counter(Snmp6Counter.Udp6InDatagrams));
    }

    [Fact]
    public void BindRulesAndConnectedFiltering()
    {
        var scheduler = new EventScheduler();
        (StackNode a, StackNode b) = StackNode.Pair(scheduler);
        UdpSocket first = Udp(b);
        Assert.Equal(0, first.Bind(new Ipv6EndPoint(Ipv6Address.Unspecified, 5000)));
        Assert.Equal(-Errno.EInval, first.Bind(new Ipv6EndPoint(Ipv6Address.Unspecified, 5001)));
        Assert.Equal(-Errno.EAddrInUse, Udp(b).Bind(new Ipv6EndPoint(b.LinkLocal, 5000)));
        Assert.Equal(-Errno.EAddrNotAvail, Udp(b).Bind(new Ipv6EndPoint(Ipv6Address.Parse("2001:db8::1"), 5002)));

        // A connected socket takes only its peer's datagrams and wins over an unconnected one on the same port.
        UdpSocket connected = Udp(b);
        Assert.Equal(0, connected.Bind(new Ipv6EndPoint(b.LinkLocal, 6000)));
        UdpSocket client = Udp(a);
        client.Bind(new Ipv6EndPoint(Ipv6Address.Unspecified, 4000));
        Assert.Equal(0, connected.Connect(new Ipv6EndPoint(a.LinkLocal, 4000)));
        Assert.Equal(0, connected.GetPeerName(out Ipv6EndPoint peer));
        Assert.Equal(4000, peer.Port);
        client.SendTo([1], new Ipv6EndPoint(b.LinkLocal, 6000));
        UdpSocket other = Udp(a);
        other.SendTo([2], new Ipv6EndPoint(b.LinkLocal, 6000));
        scheduler.RunFor(1_000_000);
        Assert.Equal(1, connected.QueuedDatagrams);
        Assert.Equal(1, b.Counter(Snmp6Counter.Udp6NoPorts));

        connected.Dispose();
        Assert.Equal(0, Udp(b).Bind(new Ipv6EndPoint(b.LinkLocal, 6000)));   // closing frees the port
        Assert.Equal(-Errno.EBadF, connected.SendTo([1], new Ipv6EndPoint(a.LinkLocal, 4000)));
    }

    [Fact]
    public void TruncatedReceiveReportsMsgTrunc()
    {
        var scheduler = new EventScheduler();
        (StackNode a, StackNode b) = StackNode.Pair(scheduler);
        UdpSocket server = Udp(b);
        server.Bind(new Ipv6EndPoint(Ipv6Address.Unspecified, 7));
        Udp(a).SendTo(new byte[100], new Ipv6EndPoint(b.LinkLocal, 7));
        scheduler.RunFor(1_000_000);
        Assert.True(server.TryReceiveFrom(new byte[10], out ReceiveResult r));
        Assert.Equal(10, r.Length);
        Assert.True(r.Truncated);
    }

    [Fact]
    public void LargeDatagramIsFragmentedAndReassembled()
    {
        var scheduler = new EventScheduler();
        (StackNode a, StackNode b) = StackNode.Pair(scheduler);
        UdpSocket server = Udp(b);
        server.Bind(new Ipv6EndPoint(Ipv6Address.Unspecified, 7));
        byte[] payload = new byte[9000];
        Random.Shared.NextBytes(payload);
        Assert.Equal(9000, Udp(a).SendTo(payload, new Ipv6EndPoint(b.LinkLocal, 7)));
        scheduler.RunFor(10_000_000);
        byte[] buffer = new byte[65536];
        Assert.True(server.TryReceiveFrom(buffer, out ReceiveResult r));
        Assert.Equal(payload, buffer[..r.Length]);
        Assert.Equal(7, a.Counter(Snmp6Counter.Ip6FragCreates));
    }

    [Fact]
    public void RawIcmpSocketPingsAndSeesTheReply()
    {
        var scheduler = new EventScheduler();
        (StackNode a, StackNode b) = StackNode.Pair(scheduler);
        Assert.Equal(0, a.Ip.Sockets.Create(SockType.Raw, IpProto.Icmpv6, out Socket? s));
        byte[] request = new byte[8 + 56];
        request[0] = Ipv6Stack.IcmpEchoRequest;
        BinaryPrimitives.WriteUInt16BigEndian(request.AsSpan(4), 0x4242);
        BinaryPrimitives.WriteUInt16BigEndian(request.AsSpan(6), 1);
        Assert.Equal(request.Length, s!.SendTo(request, new Ipv6EndPoint(b.LinkLocal, 0)));
        scheduler.RunFor(1_000_000);
        byte[] buffer = new byte[1500];
        ReceiveResult r = default;
        bool gotReply = false;
        while (((DatagramSocket)s).TryReceiveFrom(buffer, out r))
        {
            if (buffer[0] == Ipv6Stack.IcmpEchoReply)
            {
                gotReply = true;
                break;
            }
        }

        Assert.True(gotReply);
        Assert.Equal(b.LinkLocal, r.From.Address);
        Assert.Equal((0x4242, 1), RawSocket.EchoIds(buffer.AsSpan(0, r.Length)));
        Assert.Equal(1, a.Counter(Snmp6Counter.Icmp6OutEchos));
    }
}
