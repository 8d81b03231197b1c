using System.Buffers.Binary;
using Emu.Emulator.Machine;
using Emu.Stack.Ipv6;
using Emu.Stack.Wire;

namespace Emu.Tests.Stack;

/// <summary>Address configuration (RFC 4862), router discovery (RFC 4861 §6) and MLDv2 reports (RFC 3810), in virtual time.</summary>
public sealed class AddrconfTests
{
    private static StackNode UpNode(EventScheduler scheduler, out Ipv6Address linkLocal)
    {
        var node = new StackNode(scheduler, 0x01);
        node.Up();
        linkLocal = node.LinkLocal;
        return node;
    }

    [Fact]
    public void LinkLocalFromEui64IsTentativeUntilDadEnds()
    {
        var scheduler = new EventScheduler();
        StackNode node = UpNode(scheduler, out Ipv6Address ll);

        // RFC 4291 App. A: fe80::5054:00ff:fe12:3401 from 52:54:00:12:34:01 (universal/local bit flipped).
        Assert.Equal(Ipv6Address.Parse("fe80::5054:ff:fe12:3401"), ll);
        Inet6Ifaddr ifa = Assert.Single(node.Idev.Addresses);
        Assert.True(ifa.Tentative);
        Assert.True(node.Idev.IsMember(ll.SolicitedNode));   // joined before DAD (§5.4.2)

        scheduler.RunFor(1_000_000_000);   // the probe goes out within MAX_RTR_SOLICITATION_DELAY
        byte[] probe = Assert.Single(node.SentIcmp(Ipv6Stack.IcmpNeighborSolicit));
        var p = new StackNode.Packet(probe);
        Assert.True(p.Source.IsUnspecified);                  // §5.4.2: from the unspecified address
        Assert.Equal(ll.SolicitedNode, p.Destination);
        Assert.Equal(255, p.HopLimit);
        Assert.Equal(ll, Ipv6Address.Read(p.Upper[8..]));
        Assert.Equal(14, p.Upper[24]);                        // a nonce option (RFC 7527), no source link-layer option
        Assert.True(ifa.Tentative);

        scheduler.RunFor(1_000_000_000);   // RetransTimer after the single probe (DupAddrDetectTransmits = 1)
        Assert.True(ifa.Usable);
        Assert.Equal(ll, node.Ip.SelectSource(node.Idev, Ipv6Address.AllNodes));
    }

    [Fact]
    public void OwnProbeLoopedBackIsNotAConflict()
    {
        var scheduler = new EventScheduler();
        StackNode node = UpNode(scheduler, out Ipv6Address ll);
        scheduler.RunFor(1_000_000_000);
        byte[] probe = Assert.Single(node.SentIcmp(Ipv6Stack.IcmpNeighborSolicit));
        node.InjectIpv6(probe, node.Mac);                     // a looping switch echoes it back (RFC 7527 §4.1)
        scheduler.RunFor(1_000_000_000);
        Assert.True(node.Idev.Find(ll)!.Usable);
    }

    [Fact]
    public void NeighborAdvertForATentativeAddressFailsDadAndIsLogged()
    {
        var scheduler = new EventScheduler();
        StackNode node = UpNode(scheduler, out Ipv6Address ll);
        scheduler.RunFor(1_000_000_000);
        node.InjectIpv6(Packets.NeighborAdvert(Packets.PeerLinkLocal, Ipv6Address.AllNodes, ll, Packets.PeerMac, solicited: false, overrideFlag: true));
        scheduler.RunFor(3_000_000_000);

        Inet6Ifaddr ifa = node.Idev.Find(ll)!;
        Assert.True(ifa.DadFailed);
        Assert.False(ifa.Usable);
        Assert.Contains(node.Log, l => l.Contains($"IPv6 duplicate address {ll} used by 52:54:00:aa:bb:cc detected!", StringComparison.Ordinal));

        // §5.4.5: the address is not used: no source for link-local destinations, no answers for it.
        Assert.True(node.Ip.SelectSource(node.Idev, Packets.PeerLinkLocal).IsUnspecified);
        node.InjectIpv6(Packets.EchoRequest(Packets.PeerLinkLocal, ll, 1, 1));
        scheduler.RunFor(1_000_000);
        Assert.Empty(node.SentIcmp(Ipv6Stack.IcmpEchoReply));
        Assert.Equal(1, node.Counter(Snmp6Counter.Ip6InAddrErrors));
    }

    [Fact]
    public void SimultaneousProbeFromAnotherNodeFailsDad()
    {
        var scheduler = new EventScheduler();
        StackNode node = UpNode(scheduler, out Ipv6Address ll);
        node.InjectIpv6(Packets.NeighborSolicit(Ipv6Address.Unspecified, ll.SolicitedNode, ll, sourceMac: null, nonce: 0x0102_0304_0506));
        scheduler.RunFor(3_000_000_000);
        Assert.True(node.Idev.Find(ll)!.DadFailed);
        Assert.Contains(node.Log, l => l.Contains("IPv6 duplicate address", StringComparison.Ordinal));
    }

    [Fact]
    public void ProbeForAnAddressInUseIsDefended()
    {
        var scheduler = new EventScheduler();
        StackNode node = UpNode(scheduler, out Ipv6Address ll);
        scheduler.RunFor(3_000_000_000);
        node.Sent.Clear();
        node.InjectIpv6(Packets.NeighborSolicit(Ipv6Address.Unspecified, ll.SolicitedNode, ll, sourceMac: null, nonce: 0x0102_0304_0506));
        byte[] na = Assert.Single(node.SentIcmp(Ipv6Stack.IcmpNeighborAdvert));
        var p = new StackNode.Packet(na);
        Assert.Equal(Ipv6Address.AllNodes, p.Destination);    // RFC 4861 §7.2.4: to all nodes, not solicited
        Assert.Equal(0x20, p.Upper[4]);                       // override only
        Assert.True(node.Idev.Find(ll)!.Usable);
    }

    [Fact]
    public void RouterSolicitationsAfterDadAtMostThree()
    {
        var scheduler = new EventScheduler();
        StackNode node = UpNode(scheduler, out Ipv6Address ll);
        scheduler.RunFor(30_000_000_000);
        List<byte[]> rs = node.SentIcmp(Ipv6Stack.IcmpRouterSolicit);
        Assert.Equal(Ipv6Stack.MaxRtrSolicitations, rs.Count);
        var p = new StackNode.Packet(rs[0]);
        Assert.Equal(ll, p.Source);
        Assert.Equal(Ipv6Address.AllRouters, p.Destination);
        Assert.Equal(1, p.Upper[8]);                           // source link-layer address option (§4.1)
        Assert.Equal(node.Mac, p.Upper.Slice(10, 6).ToArray());
    }

    [Fact]
    public void MldReportsForJoinedGroupsOnceTheLinkLocalAddressIsUsable()
    {
        var scheduler = new EventScheduler();
        StackNode node = UpNode(scheduler, out Ipv6Address ll);
        scheduler.RunFor(5_000_000_000);
        List<byte[]> reports = node.SentIcmp(Ipv6Stack.IcmpMldv2Report);
        Assert.NotEmpty(reports);
        var p = new StackNode.Packet(reports[0]);
        Assert.Equal(Ipv6Address.AllMldv2Routers, p.Destination);
        Assert.Equal(1, p.HopLimit);                           // RFC 3810 §5: hop limit 1, Router Alert
        Assert.Equal(IpProto.HopByHop, p.NextHeader);
        Assert.Equal(ll, p.Source);
        bool solicitedNodeReported = false;
        foreach (byte[] r in reports)
        {
            ReadOnlySpan<byte> m = new StackNode.Packet(r).Upper;
            int records = BinaryPrimitives.ReadUInt16BigEndian(m[6..]);
            int at = 8;
            for (int i = 0; i < records; i++)
            {
                Ipv6Address group = Ipv6Address.Read(m[(at + 4)..]);
                Assert.NotEqual(Ipv6Address.AllNodes, group);  // §6: never reported for ff02::1
                solicitedNodeReported |= group == ll.SolicitedNode;
                at += 20 + (BinaryPrimitives.ReadUInt16BigEndian(m[(at + 2)..]) * 16) + (m[at + 1] * 4);
            }
        }

        Assert.True(solicitedNodeReported);
    }

    [Fact]
    public void RouterAdvertisementConfiguresAnAddressADefaultRouteAndTheirLifetimes()
    {
        var scheduler = new EventScheduler();
        StackNode node = UpNode(scheduler, out _);
        scheduler.RunFor(3_000_000_000);
        Ipv6Address prefix = Ipv6Address.Parse("2001:db8:1::");
        node.InjectIpv6(Packets.RouterAdvert(Packets.PeerLinkLocal, 1800, prefix, valid: 7300, preferred: 3600), Packets.PeerMac);
        Ipv6Address global = Ipv6Address.Parse("2001:db8:1::5054:ff:fe12:3401");
        Inet6Ifaddr ifa = node.Idev.Find(global)!;
        Assert.NotNull(ifa);
        Assert.True(ifa.Autoconf);
        Assert.True(ifa.Tentative);
        scheduler.RunFor(3_000_000_000);
        Assert.True(ifa.Usable);
        Assert.Equal(global, node.Ip.SelectSource(node.Idev, Ipv6Address.Parse("2001:db8:2::1")));
        Assert.True(node.Ip.Route(Ipv6Address.Parse("2001:db8:9::9"), null, out _, out Ipv6Address nextHop));
        Assert.Equal(Packets.PeerLinkLocal, nextHop);          // off-link: via the default router
        Assert.True(node.Ip.Route(Ipv6Address.Parse("2001:db8:1::77"), null, out _, out nextHop));
        Assert.Equal(Ipv6Address.Parse("2001:db8:1::77"), nextHop);   // on-link prefix: direct
        Assert.Equal(NudState.Stale, node.Ip.NeighLookup(node.Idev, Packets.PeerLinkLocal)!.State);   // from the SLLAO
        Assert.True(node.Ip.NeighLookup(node.Idev, Packets.PeerLinkLocal)!.IsRouter);

        // RFC 4862 §5.5.4: deprecated after the preferred lifetime, removed after the valid one.
        scheduler.RunFor(3600L * 1_000_000_000);
        Assert.True(ifa.Deprecated);
        Assert.Contains(ifa, node.Idev.Addresses);
        scheduler.RunFor(3700L * 1_000_000_000);
        Assert.DoesNotContain(ifa, node.Idev.Addresses);

        // The router's lifetime (1800 s) has ended too: nothing off-link is reachable.
        Assert.False(node.Ip.Route(Ipv6Address.Parse("2001:db8:9::9"), null, out _, out _));
    }

    [Fact]
    public void ShortValidLifetimeInAnUnauthenticatedAdvertIsNotBelievedBelowTwoHours()
    {
        var scheduler = new EventScheduler();
        StackNode node = UpNode(scheduler, out _);
        scheduler.RunFor(3_000_000_000);
        Ipv6Address prefix = Ipv6Address.Parse("2001:db8:1::");
        node.InjectIpv6(Packets.RouterAdvert(Packets.PeerLinkLocal, 1800, prefix, valid: 86400, preferred: 3600), Packets.PeerMac);
        Inet6Ifaddr ifa = node.Idev.Find(Ipv6Address.Parse("2001:db8:1::5054:ff:fe12:3401"))!;

        // RFC 4862 §5.5.3 (e.3): an advertised valid lifetime of 10 s becomes two hours.
        node.InjectIpv6(Packets.RouterAdvert(Packets.PeerLinkLocal, 1800, prefix, valid: 10, preferred: 0), Packets.PeerMac);
        Assert.InRange(ifa.ValidUntil - scheduler.Now, 7199L * 1_000_000_000, 7200L * 1_000_000_000);
        Assert.True(ifa.Deprecated);
        scheduler.RunFor(100L * 1_000_000_000);
        Assert.Contains(ifa, node.Idev.Addresses);
    }

    [Fact]
    public void RouterAdvertisementThatIsNotFromALinkLocalSourceOrHasHopLimitBelow255IsIgnored()
    {
        var scheduler = new EventScheduler();
        StackNode node = UpNode(scheduler, out _);
        scheduler.RunFor(3_000_000_000);
        Ipv6Address prefix = Ipv6Address.Parse("2001:db8:1::");
        byte[] ra = Packets.RouterAdvert(Packets.PeerLinkLocal, 1800, prefix, 7200, 3600);
        ra[7] = 64;   // forwarded by a router on the way: not from this link (§6.1.2)
        node.InjectIpv6(ra, Packets.PeerMac);
        node.InjectIpv6(Packets.RouterAdvert(Ipv6Address.Parse("2001:db8::1"), 1800, prefix, 7200, 3600), Packets.PeerMac);
        Assert.Single(node.Idev.Addresses);
        Assert.Empty(node.Idev.DefaultRouters);
        Assert.Equal(2, node.Counter(Snmp6Counter.Icmp6InErrors));
    }

    [Fact]
    public void MacAddressChangeIsAnnouncedByUnsolicitedNeighborAdverts()
    {
        var scheduler = new EventScheduler();
        StackNode node = UpNode(scheduler, out Ipv6Address ll);
        scheduler.RunFor(3_000_000_000);
        node.Sent.Clear();
        Assert.Equal(0, node.Core.DevSetMacAddress(node.Dev, [0x52, 0x54, 0x00, 0x12, 0x34, 0x99]));
        byte[] na = Assert.Single(node.SentIcmp(Ipv6Stack.IcmpNeighborAdvert));
        var p = new StackNode.Packet(na);
        Assert.Equal(Ipv6Address.AllNodes, p.Destination);
        Assert.Equal(ll, Ipv6Address.Read(p.Upper[8..]));
        Assert.Equal(0x20, p.Upper[4]);
        Assert.Equal([0x52, 0x54, 0x00, 0x12, 0x34, 0x99], p.Upper.Slice(26, 6).ToArray());
    }
}
