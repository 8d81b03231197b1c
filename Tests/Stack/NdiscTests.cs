using Emu.Emulator.Machine;
using Emu.Stack.Ipv6;
using Emu.Stack.Wire;

namespace Emu.Tests.Stack;

/// <summary>Neighbour discovery (RFC 4861): resolution, the NUD state machine and its timers, message validation.</summary>
public sealed class NdiscTests
{
    private static readonly byte[] Data56 = new byte[56];

    [Fact]
    public void PingResolvesTheNeighbourAndTheReplyComesBack()
    {
        var scheduler = new EventScheduler();
        (StackNode a, StackNode b) = StackNode.Pair(scheduler);
        var replies = new List<ushort>();
        a.Ip.IcmpReceived += (src, dst, type, code, m) =>
        {
            if (type == Ipv6Stack.IcmpEchoReply && src == b.LinkLocal)
            {
                replies.Add((ushort)((m.Span[6] << 8) | m.Span[7]));
            }
        };
        a.Sent.Clear();
        Assert.Equal(0, a.Ip.SendEcho(b.LinkLocal, 1, 1, Data56));

        // §7.2.2: the packet waits, INCOMPLETE, while a multicast NS with our link-layer address goes out.
        Neighbour n = a.Ip.NeighLookup(a.Idev, b.LinkLocal)!;
        Assert.Equal(NudState.Incomplete, n.State);
        var ns = new StackNode.Packet(Assert.Single(a.SentIcmp(Ipv6Stack.IcmpNeighborSolicit)));
        Assert.Equal(b.LinkLocal.SolicitedNode, ns.Destination);
        Assert.Equal(a.LinkLocal, ns.Source);
        Assert.Equal(1, ns.Upper[24]);

        scheduler.RunFor(1_000_000);
        Assert.Equal(NudState.Reachable, n.State);            // a solicited NA (§7.2.5)
        Assert.Equal(b.Mac, n.LinkAddress);
        Assert.Equal([1], replies);
        
        // b learnt a's address from the NS's SLLAO (STALE, §7.2.3), then sent its reply through it: DELAY (§7.3.3).
        Assert.Equal(NudState.Delay, b.Ip.NeighLookup(b.Idev, a.LinkLocal)!.State);
        Assert.Equal(1, b.Counter(Snmp6Counter.Icmp6InEchos));
        Assert.Equal(1, b.Counter(Snmp6Counter.Icmp6OutEchoReplies));
    }

    [Fact]
    public void NudGoesReachableStaleDelayProbeAndBackToReachable()
    {
        var scheduler = new EventScheduler();
        (StackNode a, StackNode b) = StackNode.Pair(scheduler);
        a.Ip.SendEcho(b.LinkLocal, 1, 1, Data56);
        scheduler.RunFor(1_000_000);
        Neighbour n = a.Ip.NeighLookup(a.Idev, b.LinkLocal)!;
        Assert.Equal(NudState.Reachable, n.State);

        // ReachableTime is BaseReachableTime × [0.5, 1.5): at most 45 s.
        Assert.InRange(a.Idev.ReachableTime, 15_000_000_000, 45_000_000_000);
        scheduler.RunFor(a.Idev.ReachableTime);
        Assert.Equal(NudState.Stale, n.State);

        // Sending to a STALE entry: DELAY, and the packet goes at once to the cached address (§7.3.3).
        a.Sent.Clear();
        a.Ip.SendEcho(b.LinkLocal, 1, 2, Data56);
        Assert.Equal(NudState.Delay, n.State);
        Assert.Single(a.SentIcmp(Ipv6Stack.IcmpEchoRequest));

        // No upper-layer confirmation for DELAY_FIRST_PROBE_TIME: PROBE, a unicast NS.
        scheduler.RunFor(Ipv6Stack.DelayFirstProbeTimeNs - 1_000);
        Assert.Equal(NudState.Delay, n.State);
        scheduler.RunFor(1_000);
        Assert.Equal(NudState.Probe, n.State);
        var probe = new StackNode.Packet(Assert.Single(a.SentIcmp(Ipv6Stack.IcmpNeighborSolicit)));
        Assert.Equal(b.LinkLocal, probe.Destination);

        // b answers with a solicited NA: REACHABLE again.
        scheduler.RunFor(1_000_000);
        Assert.Equal(NudState.Reachable, n.State);
    }

    [Fact]
    public void ProbesUnansweredMakeTheEntryFailed()
    {
        var scheduler = new EventScheduler();
        (StackNode a, StackNode b) = StackNode.Pair(scheduler);
        a.Ip.SendEcho(b.LinkLocal, 1, 1, Data56);
        scheduler.RunFor(1_000_000);
        Neighbour n = a.Ip.NeighLookup(a.Idev, b.LinkLocal)!;
        b.Peer = null;   // b goes silent
        scheduler.RunFor(a.Idev.ReachableTime);
        a.Sent.Clear();
        a.Ip.SendEcho(b.LinkLocal, 1, 2, Data56);
        scheduler.RunFor(Ipv6Stack.DelayFirstProbeTimeNs + (3 * Inet6Dev.RetransTimerNs));
        Assert.Equal(NudState.Failed, n.State);
        Assert.Equal(Ipv6Stack.MaxUnicastSolicit, a.SentIcmp(Ipv6Stack.IcmpNeighborSolicit).Count);
    }

    [Fact]
    public void UnresolvableNeighbourFailsAfterThreeSolicitationsAndItsQueueIsBoundedAndCounted()
    {
        var scheduler = new EventScheduler();
        (StackNode a, _) = StackNode.Pair(scheduler);
        Ipv6Address nobody = Ipv6Address.Parse("fe80::1234");
        a.Sent.Clear();
        for (ushort i = 0; i < Neighbour.MaxQueued + 9; i++)
        {
            a.Ip.SendEcho(nobody, 1, i, Data56);
        }

        Neighbour n = a.Ip.NeighLookup(a.Idev, nobody)!;
        Assert.Equal(NudState.Incomplete, n.State);
        Assert.Equal(9, a.Counter(Snmp6Counter.Ip6OutDiscards));   // the oldest made room
        scheduler.RunFor(3 * Inet6Dev.RetransTimerNs);
        Assert.Equal(NudState.Failed, n.State);
        Assert.Equal(Ipv6Stack.MaxMulticastSolicit, a.SentIcmp(Ipv6Stack.IcmpNeighborSolicit).Count);
        Assert.Equal(Neighbour.MaxQueued + 9, a.Counter(Snmp6Counter.Ip6OutDiscards));
        Assert.Empty(a.SentIcmp(Ipv6Stack.IcmpEchoRequest));
    }

    [Fact]
    public void SolicitationWithHopLimitBelow255OrABadChecksumIsDiscarded()
    {
        var scheduler = new EventScheduler();
        (StackNode a, _) = StackNode.Pair(scheduler);
        a.Sent.Clear();
        a.InjectIpv6(Packets.NeighborSolicit(Packets.PeerLinkLocal, a.LinkLocal.SolicitedNode, a.LinkLocal, Packets.PeerMac, hopLimit: 254));
        byte[] bad = Packets.NeighborSolicit(Packets.PeerLinkLocal, a.LinkLocal.SolicitedNode, a.LinkLocal, Packets.PeerMac);
        bad[^1] ^= 0xFF;
        a.InjectIpv6(bad);
        Assert.Empty(a.SentIcmp(Ipv6Stack.IcmpNeighborAdvert));
        Assert.Null(a.Ip.NeighLookup(a.Idev, Packets.PeerLinkLocal));
        Assert.Equal(1, a.Counter(Snmp6Counter.Icmp6InCsumErrors));
        Assert.Equal(2, a.Counter(Snmp6Counter.Icmp6InErrors));

        // A zero-length option makes the message invalid (§4.6).
        byte[] zeroOption = Packets.NeighborSolicit(Packets.PeerLinkLocal, a.LinkLocal.SolicitedNode, a.LinkLocal, [0, 0, 0, 0, 0, 0]);
        zeroOption[40 + 24 + 1] = 0;
        zeroOption[42] = 0;
        zeroOption[43] = 0;
        byte[] message = zeroOption[40..];
        ushort sum = Checksum.Compute(Packets.PeerLinkLocal, a.LinkLocal.SolicitedNode, IpProto.Icmpv6, message);
        zeroOption[42] = (byte)(sum >> 8);
        zeroOption[43] = (byte)sum;
        a.InjectIpv6(zeroOption);
        Assert.Empty(a.SentIcmp(Ipv6Stack.IcmpNeighborAdvert));
        Assert.Equal(3, a.Counter(Snmp6Counter.Icmp6InErrors));
    }

    [Fact]
    public void SolicitationIsAnsweredWithASolicitedOverrideAdvert()
    {
        var scheduler = new EventScheduler();
        (StackNode a, _) = StackNode.Pair(scheduler);
        a.Sent.Clear();
        a.InjectIpv6(Packets.NeighborSolicit(Packets.PeerLinkLocal, a.LinkLocal.SolicitedNode, a.LinkLocal, Packets.PeerMac));
        var na = new StackNode.Packet(Assert.Single(a.SentIcmp(Ipv6Stack.IcmpNeighborAdvert)));
        Assert.Equal(Packets.PeerLinkLocal, na.Destination);
        Assert.Equal(a.LinkLocal, na.Source);
        Assert.Equal(255, na.HopLimit);
        Assert.Equal(0x60, na.Upper[4]);                      // solicited, override
        Assert.Equal(2, na.Upper[24]);                        // target link-layer address
        Assert.Equal(a.Mac, na.Upper.Slice(26, 6).ToArray());
        Assert.Equal(Packets.PeerMac, a.Sent[^1][..6]);        // unicast to the SLLAO's address
    }

    [Fact]
    public void UnsolicitedAdvertCreatesNoEntryAndANewAddressWithoutOverrideOnlyMakesItStale()
    {
        var scheduler = new EventScheduler();
        (StackNode a, StackNode b) = StackNode.Pair(scheduler);
        Ipv6Address stranger = Ipv6Address.Parse("fe80::77");
        a.InjectIpv6(Packets.NeighborAdvert(stranger, Ipv6Address.AllNodes, stranger, Packets.PeerMac, solicited: false, overrideFlag: true));
        Assert.Null(a.Ip.NeighLookup(a.Idev, stranger));      // §7.2.5

        a.Ip.SendEcho(b.LinkLocal, 1, 1, Data56);
        scheduler.RunFor(1_000_000);
        Neighbour n = a.Ip.NeighLookup(a.Idev, b.LinkLocal)!;
        Assert.Equal(NudState.Reachable, n.State);
        a.InjectIpv6(Packets.NeighborAdvert(b.LinkLocal, a.LinkLocal, b.LinkLocal, Packets.PeerMac, solicited: true, overrideFlag: false));
        Assert.Equal(NudState.Stale, n.State);                // §7.2.5: different address, no override
        Assert.Equal(b.Mac, n.LinkAddress);
        a.InjectIpv6(Packets.NeighborAdvert(b.LinkLocal, a.LinkLocal, b.LinkLocal, Packets.PeerMac, solicited: false, overrideFlag: true));
        Assert.Equal(NudState.Stale, n.State);                // override, unsolicited: the new address, STALE
        Assert.Equal(Packets.PeerMac, n.LinkAddress);
    }
}
