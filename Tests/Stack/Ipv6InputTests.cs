using System.Buffers.Binary;
using Emu.Emulator.Machine;
using Emu.Stack.Ipv6;
using Emu.Stack.Wire;

namespace Emu.Tests.Stack;

/// <summary>ipv6_rcv and ip6_input (RFC 8200, RFC 5095), ICMPv6 errors (RFC 4443) and reassembly (RFC 8200 §4.5, RFC 5722, RFC 6946, RFC 7112).</summary>
public sealed class Ipv6InputTests
{
    private static StackNode Node(EventScheduler scheduler)
    {
        var node = new StackNode(scheduler, 0x01);
        node.Up();
        scheduler.RunFor(3_000_000_000);
        node.Sent.Clear();

        // The peer's address is a static entry, so replies go out without resolution however long a test runs.
        node.Ip.NeighAddPermanent(node.Idev, Packets.PeerLinkLocal, Packets.PeerMac);
        return node;
    }

    private static List<byte[]> Errors(StackNode node) => node.SentIpv6(p => p.UpperProtocol == IpProto.Icmpv6 && p.Upper[0] < 128);

    private static (byte Type, byte Code, uint Info, byte[] Invoking) Error(StackNode node)
    {
        List<byte[]> errors = Errors(node);
        var p = new StackNode.Packet(Assert.Single(errors));
        Assert.Equal(Packets.PeerLinkLocal, p.Destination);
        Assert.True(Checksum.Verify(p.Source, p.Destination, IpProto.Icmpv6, p.Upper));
        return (p.Upper[0], p.Upper[1], BinaryPrimitives.ReadUInt32BigEndian(p.Upper[4..]), p.Upper[8..].ToArray());
    }

    [Fact]
    public void EchoRequestIsAnsweredWithTheSameIdentifierSequenceAndData()
    {
        var scheduler = new EventScheduler();
        StackNode node = Node(scheduler);
        byte[] request = Packets.EchoRequest(Packets.PeerLinkLocal, node.LinkLocal, 0x1234, 7, 56);
        node.InjectIpv6(request, Packets.PeerMac);
        var reply = new StackNode.Packet(Assert.Single(node.SentIcmp(Ipv6Stack.IcmpEchoReply)));
        Assert.Equal(node.LinkLocal, reply.Source);
        Assert.Equal(Packets.PeerLinkLocal, reply.Destination);
        Assert.Equal(64, reply.HopLimit);
        Assert.Equal(request.AsSpan(44).ToArray(), reply.Upper[4..].ToArray());
        Assert.True(Checksum.Verify(reply.Source, reply.Destination, IpProto.Icmpv6, reply.Upper));
    }

    [Fact]
    public void EchoToAllNodesIsAnsweredFromAUnicastAddress()
    {
        var scheduler = new EventScheduler();
        StackNode node = Node(scheduler);
        long multicastBefore = node.Counter(Snmp6Counter.Ip6InMcastPkts);
        node.InjectIpv6(Packets.EchoRequest(Packets.PeerLinkLocal, Ipv6Address.AllNodes, 1, 1), Packets.PeerMac);
        var reply = new StackNode.Packet(Assert.Single(node.SentIcmp(Ipv6Stack.IcmpEchoReply)));
        Assert.Equal(node.LinkLocal, reply.Source);            // RFC 4443 §4.2
        Assert.Equal(multicastBefore + 1, node.Counter(Snmp6Counter.Ip6InMcastPkts));
    }

    [Theory]
    [InlineData("version", Snmp6Counter.Ip6InHdrErrors)]
    [InlineData("truncated", Snmp6Counter.Ip6InTruncatedPkts)]
    [InlineData("multicast-source", Snmp6Counter.Ip6InHdrErrors)]
    [InlineData("loopback-destination", Snmp6Counter.Ip6InAddrErrors)]
    [InlineData("not-ours", Snmp6Counter.Ip6InAddrErrors)]
    [InlineData("group-not-joined", Snmp6Counter.Ip6InDiscards)]
    [InlineData("short", Snmp6Counter.Ip6InHdrErrors)]
    public void MalformedOrMisaddressedPacketsAreDroppedUnderTheirCounter(string fault, Snmp6Counter counter)
    {
        var scheduler = new EventScheduler();
        StackNode node = Node(scheduler);
        byte[] p = Packets.EchoRequest(Packets.PeerLinkLocal, node.LinkLocal, 1, 1);
        switch (fault)
        {
            case "version":
                p[0] = 0x40;
                break;
            case "truncated":
                p[5] += 1;
                break;
            case "multicast-source":
                Ipv6Address.AllNodes.Write(p.AsSpan(8));
                break;
            case "loopback-destination":
                Ipv6Address.Loopback.Write(p.AsSpan(24));
                break;
            case "not-ours":
                Ipv6Address.Parse("fe80::9").Write(p.AsSpan(24));
                break;
            case "group-not-joined":
                p = Packets.EchoRequest(Packets.PeerLinkLocal, Ipv6Address.Parse("ff02::1234"), 1, 1);
                break;
            case "short":
                p = p[..30];
                break;
        }

        long before = node.Counter(counter);
        node.Inject(node.FrameFromPeer(p));
        scheduler.RunFor(1_000);
        Assert.Equal(before + 1, node.Counter(counter));
        Assert.Empty(node.Sent);
    }

    [Fact]
    public void UnknownNextHeaderGetsParameterProblemPointingAtIt()
    {
        var scheduler = new EventScheduler();
        StackNode node = Node(scheduler);
        byte[] p = Packets.Ipv6(Packets.PeerLinkLocal, node.LinkLocal, 253, new byte[16]);
        node.InjectIpv6(p, Packets.PeerMac);
        (byte type, byte code, uint pointer, byte[] invoking) = Error(node);
        Assert.Equal((Ipv6Stack.IcmpParameterProblem, 1, 6u), (type, code, pointer));   // RFC 8200 §4, RFC 4443 §3.4
        Assert.Equal(p, invoking);
        Assert.Equal(1, node.Counter(Snmp6Counter.Ip6InUnknownProtos));
    }

    [Theory]
    [InlineData(0x1E, false, false)]   // 00: skip the option, deliver
    [InlineData(0x5E, true, false)]    // 01: discard silently
    [InlineData(0x9E, true, true)]     // 10: discard, Parameter Problem code 2 (even to multicast)
    [InlineData(0xDE, true, true)]     // 11: discard, Parameter Problem code 2 unless the destination was multicast
    public void UnknownOptionsActByTheirHighBits(byte optionType, bool discarded, bool error)
    {
        var scheduler = new EventScheduler();
        StackNode node = Node(scheduler);
        byte[] echo = Packets.IcmpMessage(Packets.PeerLinkLocal, node.LinkLocal, 128, 0, Packets.EchoBody(1, 1, 8));
        byte[] p = Packets.Ipv6(Packets.PeerLinkLocal, node.LinkLocal, IpProto.DestOptions, Packets.Concat(Packets.OptionsHeader(IpProto.Icmpv6, optionType), echo));
        node.InjectIpv6(p, Packets.PeerMac);
        Assert.Equal(discarded, node.SentIcmp(Ipv6Stack.IcmpEchoReply).Count == 0);
        if (error)
        {
            (byte type, byte code, uint pointer, _) = Error(node);
            Assert.Equal((Ipv6Stack.IcmpParameterProblem, 2, 42u), (type, code, pointer));   // the option's type byte
        }
        else
        {
            Assert.Empty(node.SentIpv6(q => q.UpperProtocol == IpProto.Icmpv6 && q.Upper[0] < 128));
        }
    }

    [Theory]
    [InlineData(0x9E, true)]
    [InlineData(0xDE, false)]
    public void UnknownOptionInAMulticastPacketAnswersOnlyFor10(byte optionType, bool error)
    {
        var scheduler = new EventScheduler();
        StackNode node = Node(scheduler);
        byte[] echo = Packets.IcmpMessage(Packets.PeerLinkLocal, Ipv6Address.AllNodes, 128, 0, Packets.EchoBody(1, 1, 8));
        byte[] p = Packets.Ipv6(Packets.PeerLinkLocal, Ipv6Address.AllNodes, IpProto.HopByHop, Packets.Concat(Packets.OptionsHeader(IpProto.Icmpv6, optionType), echo));
        node.InjectIpv6(p, Packets.PeerMac);
        Assert.Empty(node.SentIcmp(Ipv6Stack.IcmpEchoReply));
        Assert.Equal(error ? 1 : 0, node.SentIcmp(Ipv6Stack.IcmpParameterProblem).Count);
    }

    [Theory]
    [InlineData(0, 0, true)]    // type 0 (RFC 5095) with Segments Left 0: ignored like any unknown type
    [InlineData(0, 1, false)]   // Segments Left non-zero: Parameter Problem at the Routing Type
    [InlineData(200, 0, true)]
    [InlineData(200, 3, false)]
    public void RoutingHeaderOfAnUnrecognisedType(byte routingType, byte segmentsLeft, bool delivered)
    {
        var scheduler = new EventScheduler();
        StackNode node = Node(scheduler);
        byte[] echo = Packets.IcmpMessage(Packets.PeerLinkLocal, node.LinkLocal, 128, 0, Packets.EchoBody(1, 1, 8));
        byte[] rh = new byte[24];
        rh[0] = IpProto.Icmpv6;
        rh[1] = 2;
        rh[2] = routingType;
        rh[3] = segmentsLeft;
        node.InjectIpv6(Packets.Ipv6(Packets.PeerLinkLocal, node.LinkLocal, IpProto.Routing, Packets.Concat(rh, echo)), Packets.PeerMac);
        Assert.Equal(delivered, node.SentIcmp(Ipv6Stack.IcmpEchoReply).Count == 1);
        if (!delivered)
        {
            (byte type, byte code, uint pointer, _) = Error(node);
            Assert.Equal((Ipv6Stack.IcmpParameterProblem, 0, 42u), (type, code, pointer));
        }
    }

    [Fact]
    public void NoErrorAboutAnError()
    {
        var scheduler = new EventScheduler();
        StackNode node = Node(scheduler);

        // A Destination Unreachable carried in a destination options header with an "11" unknown option.
        byte[] unreach = Packets.IcmpMessage(Packets.PeerLinkLocal, node.LinkLocal, 1, 4, new byte[52]);
        byte[] p = Packets.Ipv6(Packets.PeerLinkLocal, node.LinkLocal, IpProto.DestOptions, Packets.Concat(Packets.OptionsHeader(IpProto.Icmpv6, 0xDE), unreach));
        node.InjectIpv6(p, Packets.PeerMac);
        Assert.Empty(node.Sent);                                // RFC 4443 §2.4 (e.1)
    }

    [Fact]
    public void ErrorsAreRateLimitedByATokenBucket()
    {
        var scheduler = new EventScheduler();
        StackNode node = Node(scheduler);
        for (int i = 0; i < 80; i++)
        {
            node.Inject(node.FrameFromPeer(Packets.Udp(Packets.PeerLinkLocal, node.LinkLocal, 5000, 9, [1, 2, 3])));
        }

        scheduler.RunFor(1_000);
        Assert.Equal(Ipv6Stack.IcmpBurst, node.SentIcmp(Ipv6Stack.IcmpDestUnreachable).Count);
        Assert.Equal(80 - Ipv6Stack.IcmpBurst, node.Counter(Snmp6Counter.Icmp6OutRateLimited));
        Assert.Equal(80, node.Counter(Snmp6Counter.Udp6NoPorts));

        // §2.4 (f): the bucket refills with time.
        scheduler.RunFor(1_000_000_000);
        node.InjectIpv6(Packets.Udp(Packets.PeerLinkLocal, node.LinkLocal, 5000, 9, [1, 2, 3]), Packets.PeerMac);
        Assert.Equal(Ipv6Stack.IcmpBurst + 1, node.SentIcmp(Ipv6Stack.IcmpDestUnreachable).Count);
    }


    // ---- Fragments ----

    [Fact]
    public void FragmentedEchoOutOfOrderIsReassembledAndTheReplyFragmented()
    {
        var scheduler = new EventScheduler();
        StackNode node = Node(scheduler);
        byte[] echo = Packets.IcmpMessage(Packets.PeerLinkLocal, node.LinkLocal, 128, 0, Packets.EchoBody(9, 1, 4000));
        List<byte[]> fragments = Packets.Fragments(Packets.PeerLinkLocal, node.LinkLocal, IpProto.Icmpv6, 0xabcdef, echo, 1448);
        Assert.Equal(3, fragments.Count);
        node.InjectIpv6(fragments[2], Packets.PeerMac);
        node.InjectIpv6(fragments[0], Packets.PeerMac);
        Assert.Empty(node.Sent);
        node.InjectIpv6(fragments[1], Packets.PeerMac);
        Assert.Equal(1, node.Counter(Snmp6Counter.Ip6ReasmOKs));
        Assert.Equal(3, node.Counter(Snmp6Counter.Ip6ReasmReqds));

        // 4008 bytes of ICMPv6 over a 1500-byte MTU: three fragments of at most 1500 bytes, one identification.
        List<byte[]> reply = node.SentIpv6(p => p.NextHeader == IpProto.Fragment);
        Assert.Equal(3, reply.Count);
        Assert.All(reply, f => Assert.True(f.Length <= 1500));
        uint id = BinaryPrimitives.ReadUInt32BigEndian(reply[0].AsSpan(44));
        Assert.All(reply, f => Assert.Equal(id, BinaryPrimitives.ReadUInt32BigEndian(f.AsSpan(44))));
        byte[] whole = Reassemble(reply);
        Assert.Equal(129, whole[0]);
        Assert.Equal(echo.AsSpan(4).ToArray(), whole.AsSpan(4).ToArray());
        Assert.True(Checksum.Verify(node.LinkLocal, Packets.PeerLinkLocal, IpProto.Icmpv6, whole));
        Assert.Equal(1, node.Counter(Snmp6Counter.Ip6FragOKs));
        Assert.Equal(3, node.Counter(Snmp6Counter.Ip6FragCreates));
    }

    private static byte[] Reassemble(List<byte[]> fragments)
    {
        var data = new SortedDictionary<int, byte[]>();
        foreach (byte[] f in fragments)
        {
            data[BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(42)) & 0xFFF8] = f[48..];
        }

        return data.Values.SelectMany(d => d).ToArray();
    }

    [Fact]
    public void OverlappingFragmentsDropTheWholeDatagram()
    {
        var scheduler = new EventScheduler();
        StackNode node = Node(scheduler);
        byte[] echo = Packets.IcmpMessage(Packets.PeerLinkLocal, node.LinkLocal, 128, 0, Packets.EchoBody(9, 1, 2000));
        List<byte[]> fragments = Packets.Fragments(Packets.PeerLinkLocal, node.LinkLocal, IpProto.Icmpv6, 77, echo, 1024);
        byte[] overlap = Packets.Fragment(Packets.PeerLinkLocal, node.LinkLocal, IpProto.Icmpv6, 77, 1016, more: true, new byte[16]);
        node.InjectIpv6(fragments[0], Packets.PeerMac);
        node.InjectIpv6(overlap, Packets.PeerMac);
        node.InjectIpv6(fragments[1], Packets.PeerMac);
        Assert.Empty(node.Sent);                                  // RFC 5722: silently
        Assert.True(node.Counter(Snmp6Counter.Ip6ReasmFails) >= 1);
        Assert.Equal(0, node.Counter(Snmp6Counter.Ip6ReasmOKs));
        scheduler.RunFor(Ipv6Stack.ReassemblyTimeoutNs);
        Assert.Empty(node.SentIcmp(Ipv6Stack.IcmpEchoReply));
    }

    [Fact]
    public void ExactDuplicateFragmentIsDroppedAloneAndTheDatagramCompletes()
    {
        var scheduler = new EventScheduler();
        StackNode node = Node(scheduler);
        byte[] echo = Packets.IcmpMessage(Packets.PeerLinkLocal, node.LinkLocal, 128, 0, Packets.EchoBody(9, 1, 2000));
        List<byte[]> fragments = Packets.Fragments(Packets.PeerLinkLocal, node.LinkLocal, IpProto.Icmpv6, 78, echo, 1024);
        node.InjectIpv6(fragments[0], Packets.PeerMac);
        node.InjectIpv6(fragments[0], Packets.PeerMac);
        node.InjectIpv6(fragments[1], Packets.PeerMac);
        Assert.Equal(1, node.Counter(Snmp6Counter.Ip6InDiscards));
        Assert.Equal(2, node.SentIpv6(p => p.NextHeader == IpProto.Fragment).Count);   // the 2008-byte reply, fragmented
        Assert.Equal(1, node.Counter(Snmp6Counter.Ip6ReasmOKs));
    }

    [Fact]
    public void IncompleteDatagramTimesOutAfter60SecondsWithTimeExceeded()
    {
        var scheduler = new EventScheduler();
        StackNode node = Node(scheduler);
        byte[] echo = Packets.IcmpMessage(Packets.PeerLinkLocal, node.LinkLocal, 128, 0, Packets.EchoBody(9, 1, 2000));
        List<byte[]> fragments = Packets.Fragments(Packets.PeerLinkLocal, node.LinkLocal, IpProto.Icmpv6, 79, echo, 1024);
        node.InjectIpv6(fragments[0], Packets.PeerMac);
        scheduler.RunFor(Ipv6Stack.ReassemblyTimeoutNs - 1_000_000);
        Assert.Empty(Errors(node));
        scheduler.RunFor(1_000_000);
        (byte type, byte code, _, byte[] invoking) = Error(node);
        Assert.Equal((Ipv6Stack.IcmpTimeExceeded, 1), (type, code));   // RFC 8200 §4.5: code 1, about the first fragment
        Assert.Equal(fragments[0], invoking);
        Assert.Equal(1, node.Counter(Snmp6Counter.Ip6ReasmTimeout));

        // The late second fragment starts a new queue and never completes anything.
        node.InjectIpv6(fragments[1], Packets.PeerMac);
        Assert.Empty(node.SentIcmp(Ipv6Stack.IcmpEchoReply));
    }

    [Fact]
    public void TimeoutWithoutTheFirstFragmentSendsNothing()
    {
        var scheduler = new EventScheduler();
        StackNode node = Node(scheduler);
        byte[] echo = Packets.IcmpMessage(Packets.PeerLinkLocal, node.LinkLocal, 128, 0, Packets.EchoBody(9, 1, 2000));
        node.InjectIpv6(Packets.Fragments(Packets.PeerLinkLocal, node.LinkLocal, IpProto.Icmpv6, 80, echo, 1024)[1], Packets.PeerMac);
        scheduler.RunFor(Ipv6Stack.ReassemblyTimeoutNs);
        Assert.Empty(Errors(node));
        Assert.Equal(1, node.Counter(Snmp6Counter.Ip6ReasmTimeout));
    }

    [Fact]
    public void AtomicFragmentIsProcessedAtOnce()
    {
        var scheduler = new EventScheduler();
        StackNode node = Node(scheduler);
        byte[] echo = Packets.IcmpMessage(Packets.PeerLinkLocal, node.LinkLocal, 128, 0, Packets.EchoBody(9, 1, 32));
        node.InjectIpv6(Packets.Fragment(Packets.PeerLinkLocal, node.LinkLocal, IpProto.Icmpv6, 81, 0, more: false, echo), Packets.PeerMac);
        Assert.Single(node.SentIcmp(Ipv6Stack.IcmpEchoReply));   // RFC 6946
    }

    [Fact]
    public void FirstFragmentWithoutTheUpperLayerHeaderIsRefused()
    {
        var scheduler = new EventScheduler();
        StackNode node = Node(scheduler);
        byte[] udp = Packets.UdpMessage(Packets.PeerLinkLocal, node.LinkLocal, 1, 2, new byte[100]);
        node.InjectIpv6(Packets.Fragment(Packets.PeerLinkLocal, node.LinkLocal, IpProto.Udp, 82, 0, more: true, udp.AsSpan(0, 0)), Packets.PeerMac);
        (byte type, byte code, _, _) = Error(node);
        Assert.Equal((Ipv6Stack.IcmpParameterProblem, 3), (type, code));   // RFC 7112 §5
    }

    [Fact]
    public void NonFinalFragmentNotAMultipleOfEightIsAParameterProblem()
    {
        var scheduler = new EventScheduler();
        StackNode node = Node(scheduler);
        byte[] echo = Packets.IcmpMessage(Packets.PeerLinkLocal, node.LinkLocal, 128, 0, Packets.EchoBody(9, 1, 100));
        node.InjectIpv6(Packets.Fragment(Packets.PeerLinkLocal, node.LinkLocal, IpProto.Icmpv6, 83, 0, more: true, echo.AsSpan(0, 50)), Packets.PeerMac);
        (byte type, byte code, uint pointer, _) = Error(node);
        Assert.Equal((Ipv6Stack.IcmpParameterProblem, 0, 4u), (type, code, pointer));   // RFC 8200 §4.5: the Payload Length
    }

    [Fact]
    public void ReassemblyMemoryIsCapped()
    {
        var scheduler = new EventScheduler();
        StackNode node = Node(scheduler);
        byte[] data = new byte[1024];
        for (uint id = 1; id < 6000; id++)
        {
            node.Inject(node.FrameFromPeer(Packets.Fragment(Packets.PeerLinkLocal, node.LinkLocal, IpProto.Icmpv6, id, 8, more: true, data)));
            if (id % 500 == 0)
            {
                scheduler.RunFor(1_000);
            }
        }

        scheduler.RunFor(1_000);
        Assert.True(node.Counter(Snmp6Counter.Ip6ReasmFails) > 0);
        Assert.InRange(node.Counter(Snmp6Counter.Ip6ReasmReqds) - node.Counter(Snmp6Counter.Ip6ReasmFails), 1, (Ipv6Stack.ReassemblyMemoryLimit / 1024) + 1);
    }
}
