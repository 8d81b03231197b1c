using Emu.Emulator.Machine;
using Emu.Stack.Ipv6;
using Emu.Stack.Wire;

namespace Emu.Tests.Stack;

/// <summary>
/// Malformed input of every kind into the stack: mutated and truncated versions of valid packets (echo, fragments,
/// NDISC, MLD, UDP, extension headers, and the frames of the Linux capture). Nothing throws, and no packet vanishes
/// silently: each one moves a counter besides Ip6InReceives — delivered, or dropped under a named reason.
/// </summary>
public sealed class StackFuzzTests
{
    private static readonly Snmp6Counter[] Outcomes =
    [
        Snmp6Counter.Ip6InHdrErrors, Snmp6Counter.Ip6InAddrErrors, Snmp6Counter.Ip6InDiscards, Snmp6Counter.Ip6InTruncatedPkts,
        Snmp6Counter.Ip6InUnknownProtos, Snmp6Counter.Ip6InDelivers, Snmp6Counter.Ip6ReasmReqds, Snmp6Counter.Ip6InNoRoutes,
    ];

    private static long OutcomeSum(StackNode node) => Outcomes.Sum(c => node.Counter(c));

    private static List<byte[]> Seeds(StackNode node)
    {
        Ipv6Address us = node.LinkLocal;
        Ipv6Address peer = Packets.PeerLinkLocal;
        byte[] echo = Packets.IcmpMessage(peer, us, 128, 0, Packets.EchoBody(1, 1, 3000));
        var seeds = new List<byte[]>
        {
            Packets.EchoRequest(peer, us, 1, 1),
            Packets.EchoRequest(peer, Ipv6Address.AllNodes, 1, 1),
            Packets.Udp(peer, us, 1000, 7, new byte[40]),
            Packets.NeighborSolicit(peer, us.SolicitedNode, us, Packets.PeerMac),
            Packets.NeighborAdvert(peer, us, peer, Packets.PeerMac, solicited: true, overrideFlag: true),
            Packets.RouterAdvert(peer, 1800, Ipv6Address.Parse("2001:db8::"), 7200, 3600, mtu: 1400),
            Packets.Ipv6(peer, us, IpProto.DestOptions, Packets.Concat(Packets.OptionsHeader(IpProto.Icmpv6, 0x1E), Packets.IcmpMessage(peer, us, 128, 0, Packets.EchoBody(1, 1, 8)))),
            Packets.Ipv6(peer, us, IpProto.HopByHop, Packets.Concat(Packets.OptionsHeader(IpProto.Routing, 0x05), new byte[] { IpProto.NoNext, 0, 0, 0, 0, 0, 0, 0 })),
        };
        seeds.AddRange(Packets.Fragments(peer, us, IpProto.Icmpv6, 5, echo, 1024));
        foreach ((_, byte[] frame) in CaptureReplayTests.ReadPcap(CaptureReplayTests.CapturePath()).Take(120))
        {
            if (frame.Length > 54 && frame[12] == 0x86 && frame[13] == 0xDD)
            {
                seeds.Add(frame[14..]);
            }
        }

        return seeds;
    }

    [Fact]
    public void MutatedPacketsNeverThrowAndAreAllAccountedFor()
    {
        var scheduler = new EventScheduler();
        var node = new StackNode(scheduler, 0x01);
        node.Up();
        scheduler.RunFor(3_000_000_000);
        node.Ip.NeighAddPermanent(node.Idev, Packets.PeerLinkLocal, Packets.PeerMac);
        List<byte[]> seeds = Seeds(node);
        var random = new Random(20261125);
        for (int i = 0; i < 30_000; i++)
        {
            byte[] packet = (byte[])seeds[random.Next(seeds.Count)].Clone();
            switch (random.Next(4))
            {
                case 0:
                    for (int k = random.Next(1, 6); k > 0; k--)
                    {
                        packet[random.Next(packet.Length)] = (byte)random.Next(256);
                    }

                    break;
                case 1:
                    packet = packet[..random.Next(0, packet.Length)];
                    break;
                case 2:
                    // Header fields that matter most: payload length, next header, hop limit, first extension bytes.
                    int field = random.Next(4);
                    int at = field switch { 0 => 4 + random.Next(2), 1 => 6, 2 => 7, _ => Math.Min(packet.Length - 1, 40 + random.Next(8)) };
                    packet[at] = (byte)random.Next(256);
                    break;
                default:
                    Array.Resize(ref packet, packet.Length + random.Next(1, 64));
                    break;
            }

            long before = OutcomeSum(node);
            long receivedBefore = node.Counter(Snmp6Counter.Ip6InReceives);
            node.Inject(node.FrameFromPeer(packet));
            scheduler.RunFor(1_000);
            if (node.Counter(Snmp6Counter.Ip6InReceives) > receivedBefore)
            {
                Assert.True(OutcomeSum(node) > before, $"packet {i} ({Convert.ToHexString(packet)}) left no trace in the counters");
            }

            if (i % 1000 == 0)
            {
                scheduler.RunFor(61_000_000_000);   // let reassembly queues and timers run out
            }
        }

        Assert.True(node.Counter(Snmp6Counter.Ip6InReceives) >= 30_000);   // every frame reached ipv6_rcv (and our own loopback copies)
    }
}
