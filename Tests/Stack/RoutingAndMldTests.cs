using System.Buffers.Binary;
using Emu.Emulator.Machine;
using Emu.Stack.Ipv6;
using Emu.Stack.Wire;

namespace Emu.Tests.Stack;

/// <summary>MLDv2 queries and leaves (RFC 3810), Redirect (RFC 4861 §8), Packet Too Big and path MTU (RFC 8201), cache bounds.</summary>
public sealed class RoutingAndMldTests
{
    private static readonly Ipv6Address Group = Ipv6Address.Parse("ff02::1234");

    private static StackNode Node(EventScheduler scheduler)
    {
        var node = new StackNode(scheduler, 0x01);
        node.Up();
        scheduler.RunFor(5_000_000_000);
        node.Ip.NeighAddPermanent(node.Idev, Packets.PeerLinkLocal, Packets.PeerMac);
        node.Sent.Clear();
        return node;
    }

    private static byte[] Query(Ipv6Address destination, Ipv6Address group, ushort maxResponseMs, Ipv6Address? source = null, byte hopLimit = 1)
    {
        byte[] body = new byte[24];
        BinaryPrimitives.WriteUInt16BigEndian(body, maxResponseMs);
        group.Write(body.AsSpan(4));
        Ipv6Address from = source ?? Packets.PeerLinkLocal;
        byte[] icmp = Packets.IcmpMessage(from, destination, Ipv6Stack.IcmpMldQuery, 0, body);
        byte[] hbh = [IpProto.Icmpv6, 0, 5, 2, 0, 0, 1, 0];   // Router Alert (RFC 2711), PadN
        return Packets.Ipv6(from, destination, IpProto.HopByHop, Packets.Concat(hbh, icmp), hopLimit);
    }

    private static List<Ipv6Address> ReportedGroups(byte[] packet)
    {
        ReadOnlySpan<byte> m = new StackNode.Packet(packet).Upper;
        var groups = new List<Ipv6Address>();
        int at = 8;
        for (int i = 0; i < BinaryPrimitives.ReadUInt16BigEndian(m[6..]); i++)
        {
            groups.Add(Ipv6Address.Read(m[(at + 4)..]));
            at += 20 + (m[at + 1] * 4) + (BinaryPrimitives.ReadUInt16BigEndian(m[(at + 2)..]) * 16);
        }

        return groups;
    }

    [Fact]
    public void GeneralQueryIsAnsweredWithinTheMaximumResponseDelayAndOnlyOnce()
    {
        var scheduler = new EventScheduler();
        StackNode node = Node(scheduler);
        node.Ip.JoinGroup(node.Idev, Group);
        scheduler.RunFor(2_000_000_000);
        node.Sent.Clear();

        node.InjectIpv6(Query(Ipv6Address.AllNodes, Ipv6Address.Unspecified, 1000));
        node.InjectIpv6(Query(Ipv6Address.AllNodes, Ipv6Address.Unspecified, 1000));   // a second one adds no report
        scheduler.RunFor(1_000_000_000);
        byte[] report = Assert.Single(node.SentIcmp(Ipv6Stack.IcmpMldv2Report));
        List<Ipv6Address> groups = ReportedGroups(report);
        Assert.Contains(Group, groups);
        Assert.Contains(node.LinkLocal.SolicitedNode, groups);
        Assert.DoesNotContain(Ipv6Address.AllNodes, groups);
        Assert.Equal(2, new StackNode.Packet(report).Upper[8]);   // MODE_IS_EXCLUDE with no sources: "listening"
    }

    [Fact]
    public void QueryFromAGlobalSourceOrWithHopLimitAbove1IsDiscarded()
    {
        var scheduler = new EventScheduler();
        StackNode node = Node(scheduler);
        node.InjectIpv6(Query(Ipv6Address.AllNodes, Ipv6Address.Unspecified, 100, source: Ipv6Address.Parse("2001:db8::1")));
        node.InjectIpv6(Query(Ipv6Address.AllNodes, Ipv6Address.Unspecified, 100, hopLimit: 2));
        scheduler.RunFor(1_000_000_000);
        Assert.Empty(node.SentIcmp(Ipv6Stack.IcmpMldv2Report));
        Assert.Equal(2, node.Counter(Snmp6Counter.Icmp6InErrors));
    }

    [Fact]
    public void LeavingAGroupIsReportedRobustnessTimes()
    {
        var scheduler = new EventScheduler();
        StackNode node = Node(scheduler);
        node.Ip.JoinGroup(node.Idev, Group);
        scheduler.RunFor(2_000_000_000);
        Assert.Equal(Ipv6Stack.MldRobustness, node.SentIcmp(Ipv6Stack.IcmpMldv2Report).Count);
        node.Sent.Clear();
        node.Ip.LeaveGroup(node.Idev, Group);
        scheduler.RunFor(2_000_000_000);
        List<byte[]> reports = node.SentIcmp(Ipv6Stack.IcmpMldv2Report);
        Assert.Equal(Ipv6Stack.MldRobustness, reports.Count);
        Assert.All(reports, r => Assert.Equal(3, new StackNode.Packet(r).Upper[8]));   // CHANGE_TO_INCLUDE, no sources
        Assert.False(node.Idev.IsMember(Group));
    }

    [Fact]
    public void RedirectFromTheCurrentRouterMovesTheNextHop()
    {
        var scheduler = new EventScheduler();
        StackNode node = Node(scheduler);
        node.InjectIpv6(Packets.RouterAdvert(Packets.PeerLinkLocal, 1800, Ipv6Address.Parse("2001:db8:1::"), 7200, 3600), Packets.PeerMac);
        scheduler.RunFor(2_000_000_000);
        Ipv6Address far = Ipv6Address.Parse("2001:db8:99::1");
        Ipv6Address better = Ipv6Address.Parse("fe80::7");
        byte[] body = new byte[4 + 32 + 8];
        better.Write(body.AsSpan(4));
        far.Write(body.AsSpan(20));
        body[36] = 2;
        body[37] = 1;
        new byte[] { 0x52, 0x54, 0, 0, 0, 7 }.CopyTo(body, 38);

        // From a node that is not our router for that destination: ignored.
        node.InjectIpv6(Packets.Icmp(Ipv6Address.Parse("fe80::99"), node.LinkLocal, Ipv6Stack.IcmpRedirect, 0, body, 255));
        Assert.True(node.Ip.Route(far, null, out _, out Ipv6Address hop));
        Assert.Equal(Packets.PeerLinkLocal, hop);

        node.InjectIpv6(Packets.Icmp(Packets.PeerLinkLocal, node.LinkLocal, Ipv6Stack.IcmpRedirect, 0, body, 255));
        Assert.True(node.Ip.Route(far, null, out _, out hop));
        Assert.Equal(better, hop);
        Assert.Equal(NudState.Stale, node.Ip.NeighLookup(node.Idev, better)!.State);   // from the target link-layer option
        Assert.Equal(2, node.Counter(Snmp6Counter.Icmp6InRedirects));
    }

    [Fact]
    public void PacketTooBigLowersThePathMtuNotBelow1280AndItAgesOut()
    {
        var scheduler = new EventScheduler();
        StackNode node = Node(scheduler);
        byte[] ourPacket = Packets.Ipv6(node.LinkLocal, Packets.PeerLinkLocal, IpProto.Udp, new byte[1400]);
        byte[] body = new byte[4 + ourPacket.Length];
        BinaryPrimitives.WriteUInt32BigEndian(body, 1400);
        ourPacket.CopyTo(body, 4);
        node.InjectIpv6(Packets.Icmp(Packets.PeerLinkLocal, node.LinkLocal, Ipv6Stack.IcmpPacketTooBig, 0, body));
        Assert.Equal(1400, node.Ip.PathMtu(node.Idev, Packets.PeerLinkLocal));

        // UDP to that peer now fragments at 1400.
        node.Ip.Sockets.Create(Emu.Stack.Sockets.SockType.Dgram, 0, out Emu.Stack.Sockets.Socket? s);
        s!.SendTo(new byte[1380], new Emu.Stack.Sockets.Ipv6EndPoint(Packets.PeerLinkLocal, 9));
        Assert.All(node.SentIpv6(p => p.NextHeader == IpProto.Fragment), f => Assert.True(f.Length <= 1400));
        Assert.Equal(2, node.SentIpv6(p => p.NextHeader == IpProto.Fragment).Count);

        BinaryPrimitives.WriteUInt32BigEndian(body, 500);
        node.InjectIpv6(Packets.Icmp(Packets.PeerLinkLocal, node.LinkLocal, Ipv6Stack.IcmpPacketTooBig, 0, body));
        Assert.Equal(Ipv6Stack.MinMtu, node.Ip.PathMtu(node.Idev, Packets.PeerLinkLocal));

        scheduler.RunFor(Ipv6Stack.PathMtuAgeNs);
        Assert.Equal(1500, node.Ip.PathMtu(node.Idev, Packets.PeerLinkLocal));
    }

    [Fact]
    public void PacketTooBigAboutSomeoneElsesPacketIsIgnored()
    {
        var scheduler = new EventScheduler();
        StackNode node = Node(scheduler);
        byte[] theirs = Packets.Ipv6(Ipv6Address.Parse("fe80::66"), Packets.PeerLinkLocal, IpProto.Udp, new byte[100]);
        byte[] body = new byte[4 + theirs.Length];
        BinaryPrimitives.WriteUInt32BigEndian(body, 1280);
        theirs.CopyTo(body, 4);
        node.InjectIpv6(Packets.Icmp(Packets.PeerLinkLocal, node.LinkLocal, Ipv6Stack.IcmpPacketTooBig, 0, body));
        Assert.Equal(1500, node.Ip.PathMtu(node.Idev, Packets.PeerLinkLocal));
    }

    [Fact]
    public void NeighbourCacheIsBoundedAgainstASolicitationFlood()
    {
        var scheduler = new EventScheduler();
        StackNode node = Node(scheduler);
        for (int i = 0; i < 3000; i++)
        {
            var source = new Ipv6Address(0xFE80_0000_0000_0000UL, 0x1000UL + (ulong)i);
            byte[] mac = [0x52, 0x54, 0x01, (byte)(i >> 16), (byte)(i >> 8), (byte)i];
            node.Inject(node.FrameFromPeer(Packets.NeighborSolicit(source, node.LinkLocal.SolicitedNode, node.LinkLocal, mac)));
            if (i % 500 == 0)
            {
                scheduler.RunFor(1_000);
            }
        }

        scheduler.RunFor(1_000_000);
        Assert.InRange(node.Idev.Neighbours.Count, 1, Ipv6Stack.MaxNeighbours);
        Assert.Equal(NudState.Permanent, node.Ip.NeighLookup(node.Idev, Packets.PeerLinkLocal)!.State);   // static entries stay
    }
}
