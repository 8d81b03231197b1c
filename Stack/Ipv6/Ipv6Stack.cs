using System.Buffers.Binary;
using Emu.Stack.Core;
using Emu.Stack.Wire;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Emu.Stack.Ipv6;

/// <summary>
/// IPv6 for one node, after Linux net/ipv6 and the seed's call chain: ipv6_rcv → ip6_input → the upper layers, and
/// ip6_output → neighbour → dev_queue_xmit. Behaviour follows RFC 8200 (with RFC 5095, 5722, 6946, 7112), RFC 4443,
/// RFC 4861, RFC 4862 and RFC 3810; each decision cites its section. Parsers never throw; every dropped packet is
/// counted in a Linux-named SNMP counter.
/// </summary>
public sealed partial class Ipv6Stack
{
    /// <summary>ETH_P_IPV6.</summary>
    public const ushort EthPIpv6 = 0x86DD;

    /// <summary>RFC 8200 §5: the minimum link MTU.</summary>
    public const int MinMtu = 1280;

    /// <summary>Headroom for the Ethernet and IPv6 headers, a fragment header and a hop-by-hop header.</summary>
    public const int Headroom = 16 + 40 + 8 + 8 + SkBuff.NetSkbPad;

    private readonly Dictionary<NetDevice, Inet6Dev> _devs = [];
    private readonly ILogger _logger;
    private readonly Random _random;
    private readonly ulong _flowKey;
    private readonly Dictionary<byte, Action<SkBuff, Inet6Dev, Ipv6Address, Ipv6Address, bool>> _upperProtocols = [];

    public Ipv6Stack(NetCore net, ILogger? logger = null, int seed = 1)
    {
        Net = net;
        Clock = net.Clock;
        _logger = logger ?? NullLogger.Instance;
        _random = new Random(seed);
        _flowKey = (ulong)_random.NextInt64();
        Udp = new Udp.Udp6(this);
        Tcp = new Tcp.Tcp6(this, _random);
        Sockets = new Sockets.Inet6Sockets(this);
        net.DevAddPack(EthPIpv6, Ipv6Rcv);
        net.Notifier += OnNetdevEvent;
        _icmpTokens = IcmpBurst;
        _icmpRefill = Clock.Now;
    }

    public NetCore Net { get; }

    public IKernelClock Clock { get; }

    public Snmp6 Snmp { get; } = new();

    public Udp.Udp6 Udp { get; }

    public Tcp.Tcp6 Tcp { get; }

    /// <summary>The socket(AF_INET6, ...) table of this node.</summary>
    public Sockets.Inet6Sockets Sockets { get; }

    /// <summary>Open raw ICMPv6 sockets (raw_v6_hashinfo).</summary>
    internal List<Sockets.RawSocket> RawSockets { get; } = [];

    /// <summary>printk for this stack's messages (the node's kernel log).</summary>
    public Action<string>? KernelMessage { get; set; }

    /// <summary>Raised for every ICMPv6 message received and accepted (ping, raw sockets, tests).</summary>
    public event Action<Ipv6Address, Ipv6Address, byte, byte, ReadOnlyMemory<byte>>? IcmpReceived;

    public Inet6Dev? Inet6(NetDevice dev) => _devs.GetValueOrDefault(dev);

    public IEnumerable<Inet6Dev> Interfaces => _devs.Values;

    public int InterfaceCount => _devs.Count;

    /// <summary>The IPv6-enabled device with this ifindex (a scope id), if any.</summary>
    public NetDevice? DevByIndex(int ifindex)
    {
        foreach (Inet6Dev d in _devs.Values)
        {
            if (d.Dev.IfIndex == ifindex)
            {
                return d.Dev;
            }
        }

        return null;
    }

    /// <summary>True when the address is assigned to one of this node's interfaces (tentative or not).</summary>
    public bool IsLocalAddress(Ipv6Address address)
    {
        foreach (Inet6Dev d in _devs.Values)
        {
            if (d.Find(address) is not null)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Registers an upper-layer protocol handler (inet6_add_protocol): (skb at its header, dev, src, dst, multicast).</summary>
    public void AddProtocol(byte protocol, Action<SkBuff, Inet6Dev, Ipv6Address, Ipv6Address, bool> handler) => _upperProtocols[protocol] = handler;

    private void Printk(string message) => KernelMessage?.Invoke(message);

    internal long RandomBelow(long limitNs) => limitNs <= 0 ? 0 : _random.NextInt64(limitNs);

    // ---- Device events (addrconf_notify) ----

    private void OnNetdevEvent(NetdevEvent e, NetDevice dev)
    {
        switch (e)
        {
            case NetdevEvent.Up:
                if (dev.Mtu < MinMtu)
                {
                    return;   // ipv6_add_dev refuses links below 1280
                }

                Inet6Dev idev = GetOrAddDev(dev);
                JoinGroup(idev, Ipv6Address.AllNodes);
                if (dev.Carrier)
                {
                    AddrconfDevConfig(idev);
                }
                else
                {
                    Printk($"IPv6: ADDRCONF(NETDEV_UP): {dev.Name}: link is not ready");
                }

                break;
            case NetdevEvent.Change:
                if (dev.IsUp && dev.Carrier && _devs.TryGetValue(dev, out Inet6Dev? changed) && changed.LinkLocal is null)
                {
                    Printk($"IPv6: ADDRCONF(NETDEV_CHANGE): {dev.Name}: link becomes ready");
                    AddrconfDevConfig(changed);
                }

                break;
            case NetdevEvent.Down:
            case NetdevEvent.Unregister:
                if (_devs.Remove(dev, out Inet6Dev? gone))
                {
                    AddrconfIfdown(gone);
                }

                break;
            case NetdevEvent.ChangeAddr:
                if (_devs.TryGetValue(dev, out Inet6Dev? moved))
                {
                    // RFC 4861 §7.2.6: a new link-layer address is announced by unsolicited NAs (override set) to
                    // all nodes, so that neighbours' caches follow.
                    foreach (Inet6Ifaddr ifa in moved.Addresses)
                    {
                        if (ifa.Usable)
                        {
                            SendNeighborAdvert(moved, ifa.Address, Ipv6Address.AllNodes, solicited: false, overrideFlag: true);
                        }
                    }
                }

                break;
            case NetdevEvent.ChangeMtu:
                if (_devs.TryGetValue(dev, out Inet6Dev? mtuDev))
                {
                    mtuDev.Mtu = dev.Mtu;
                }

                break;
        }
    }

    private Inet6Dev GetOrAddDev(NetDevice dev)
    {
        if (!_devs.TryGetValue(dev, out Inet6Dev? idev))
        {
            idev = new Inet6Dev(dev) { Mtu = dev.Mtu };
            idev.ReachableTime = RandomReachableTime(idev.BaseReachableTime);
            _devs[dev] = idev;
        }

        return idev;
    }

    /// <summary>RFC 4861 §6.3.2: ReachableTime uniformly in [MIN_RANDOM_FACTOR, MAX_RANDOM_FACTOR) × BaseReachableTime.</summary>
    internal long RandomReachableTime(long baseTime) => (baseTime / 2) + RandomBelow(baseTime);

    // ---- Receive (ipv6_rcv, ip6_rcv_core) ----

    private void Ipv6Rcv(SkBuff skb, NetDevice dev)
    {
        Snmp.Inc(Snmp6Counter.Ip6InReceives);
        if (skb.PktType == PacketType.OtherHost || !_devs.TryGetValue(dev, out Inet6Dev? idev))
        {
            Drop(skb, Snmp6Counter.Ip6InDiscards);
            return;
        }

        if (!Ipv6Header.TryRead(skb.DataSpan, out Ipv6Header header, out Ipv6Drop reason))
        {
            Drop(skb, reason == Ipv6Drop.Truncated && skb.Len < Ipv6Header.Length ? Snmp6Counter.Ip6InHdrErrors : Snmp6Counter.Ip6InHdrErrors);
            return;
        }

        Ipv6Address source = header.Source;
        Ipv6Address destination = header.Destination;
        int payloadLength = header.PayloadLength;
        byte nextHeader = header.NextHeader;

        // RFC 4291 §2.7: a multicast address is never a source; scope 0 is reserved; scope 1 never leaves a node.
        if (source.IsMulticast)
        {
            Drop(skb, Snmp6Counter.Ip6InHdrErrors);
            return;
        }

        if (source.IsLoopback || destination.IsLoopback || (destination.IsMulticast && destination.MulticastScope is 0 or 1))
        {
            Drop(skb, Snmp6Counter.Ip6InAddrErrors);
            return;
        }

        if (payloadLength + Ipv6Header.Length > skb.Len)
        {
            Drop(skb, Snmp6Counter.Ip6InTruncatedPkts);
            return;
        }

        skb.Trim(payloadLength + Ipv6Header.Length);
        skb.NetworkHeader = skb.Data;

        // Is it for us? A host delivers its own unicast addresses and the groups it joined; it forwards nothing.
        bool multicast = destination.IsMulticast;
        if (multicast)
        {
            Snmp.Inc(Snmp6Counter.Ip6InMcastPkts);
            if (!idev.IsMember(destination))
            {
                Drop(skb, Snmp6Counter.Ip6InDiscards);
                return;
            }
        }
        else
        {
            Inet6Ifaddr? local = idev.Find(destination);
            // RFC 4862 §5.4: a tentative address accepts only the NS/NA of duplicate address detection.
            bool dadProbe = local is { Tentative: true } && nextHeader == IpProto.Icmpv6 && skb.Len > Ipv6Header.Length
                && skb.DataSpan[Ipv6Header.Length] is IcmpNeighborSolicit or IcmpNeighborAdvert;
            if (local is null || (!local.Usable && !dadProbe))
            {
                Drop(skb, Snmp6Counter.Ip6InAddrErrors);
                return;
            }
        }

        skb.Pull(Ipv6Header.Length);
        int offset = Ipv6Header.Length;
        if (nextHeader == IpProto.HopByHop)
        {
            // RFC 8200 §4.3: only directly after the IPv6 header.
            if (!ProcessOptions(skb, idev, source, destination, multicast, offset, out nextHeader, out int used))
            {
                return;
            }

            skb.Pull(used);
            offset += used;
        }

        Ip6Input(skb, idev, source, destination, multicast, nextHeader, offset);
    }

    /// <summary>
    /// ip6_input: extension headers in order (RFC 8200 §4.1), then the upper layer. <paramref name="offset"/> is
    /// where the current header lies from the start of the IPv6 header (for Parameter Problem pointers).
    /// </summary>
    internal void Ip6Input(SkBuff skb, Inet6Dev idev, Ipv6Address source, Ipv6Address destination, bool multicast, byte nextHeader, int offset)
    {
        for (int hops = 0; hops < 16; hops++)
        {
            switch (nextHeader)
            {
                case IpProto.HopByHop:
                    // RFC 8200 §4.1: a hop-by-hop header anywhere but first.
                    ParameterProblem(skb, idev, 1, offset - 8, source, destination, multicast, forceEvenIfMulticast: false);
                    Drop(skb, Snmp6Counter.Ip6InUnknownProtos);
                    return;
                case IpProto.DestOptions:
                    {
                        if (!ProcessOptions(skb, idev, source, destination, multicast, offset, out nextHeader, out int used))
                        {
                            return;
                        }

                        skb.Pull(used);
                        offset += used;
                        continue;
                    }

                case IpProto.Routing:
                    {
                        ReadOnlySpan<byte> h = skb.DataSpan;
                        if (h.Length < 8 || h.Length < (h[1] + 1) * 8)
                        {
                            Drop(skb, Snmp6Counter.Ip6InHdrErrors);
                            return;
                        }

                        // RFC 5095 §3 / RFC 8200 §4.4: type 0 (deprecated) and unknown types are ignored when
                        // Segments Left is 0; otherwise Parameter Problem code 0 at the Routing Type field.
                        if (h[3] != 0)
                        {
                            ParameterProblem(skb, idev, 0, offset + 2, source, destination, multicast, forceEvenIfMulticast: false);
                            Drop(skb, Snmp6Counter.Ip6InHdrErrors);
                            return;
                        }

                        nextHeader = h[0];
                        int used = (h[1] + 1) * 8;
                        skb.Pull(used);
                        offset += used;
                        continue;
                    }

                case IpProto.Fragment:
                    Reassemble(skb, idev, source, destination, multicast, offset);
                    return;
                case IpProto.NoNext:
                    // RFC 8200 §4.7: nothing follows; the packet is consumed.
                    Snmp.Inc(Snmp6Counter.Ip6InDelivers);
                    skb.Free();
                    return;
                case IpProto.Icmpv6:
                    Snmp.Inc(Snmp6Counter.Ip6InDelivers);
                    skb.TransportHeader = skb.Data;
                    IcmpRcv(skb, idev, source, destination, multicast);
                    return;
                case IpProto.Udp:
                    Snmp.Inc(Snmp6Counter.Ip6InDelivers);
                    skb.TransportHeader = skb.Data;
                    Udp.Rcv(skb, idev, source, destination, multicast);
                    return;
                case IpProto.Tcp:
                    Snmp.Inc(Snmp6Counter.Ip6InDelivers);
                    skb.TransportHeader = skb.Data;
                    Tcp.Rcv(skb, idev, source, destination, multicast);
                    return;
                default:
                    if (_upperProtocols.TryGetValue(nextHeader, out var handler))
                    {
                        Snmp.Inc(Snmp6Counter.Ip6InDelivers);
                        skb.TransportHeader = skb.Data;
                        handler(skb, idev, source, destination, multicast);
                        return;
                    }

                    // RFC 8200 §4: an unrecognised Next Header: Parameter Problem code 1 at that field.
                    Snmp.Inc(Snmp6Counter.Ip6InUnknownProtos);
                    ParameterProblem(skb, idev, 1, NextHeaderFieldOffset(offset), source, destination, multicast, forceEvenIfMulticast: false);
                    skb.Free();
                    return;
            }
        }

        Drop(skb, Snmp6Counter.Ip6InHdrErrors);
    }

    private static int NextHeaderFieldOffset(int offset) => offset == Ipv6Header.Length ? 6 : offset - 8;

    /// <summary>
    /// Hop-by-hop and destination options (RFC 8200 §4.2): Pad1/PadN, Router Alert; an unknown option acts by the
    /// two high bits of its type: skip, discard, discard with Parameter Problem (code 2), or the same unless the
    /// destination was multicast.
    /// </summary>
    private bool ProcessOptions(SkBuff skb, Inet6Dev idev, Ipv6Address source, Ipv6Address destination, bool multicast, int offset, out byte nextHeader, out int length)
    {
        ReadOnlySpan<byte> h = skb.DataSpan;
        nextHeader = 0;
        length = 0;
        if (h.Length < 8 || h.Length < (h[1] + 1) * 8)
        {
            Drop(skb, Snmp6Counter.Ip6InHdrErrors);
            return false;
        }

        nextHeader = h[0];
        length = (h[1] + 1) * 8;
        int i = 2;
        while (i < length)
        {
            byte type = h[i];
            if (type == 0)
            {
                i++;
                continue;
            }

            if (i + 1 >= length || i + 2 + h[i + 1] > length)
            {
                ParameterProblem(skb, idev, 0, offset + i, source, destination, multicast, forceEvenIfMulticast: false);
                Drop(skb, Snmp6Counter.Ip6InHdrErrors);
                return false;
            }

            if (type != 1 && type != 5)
            {
                switch (type >> 6)
                {
                    case 0:
                        break;
                    case 1:
                        Drop(skb, Snmp6Counter.Ip6InHdrErrors);
                        return false;
                    case 2:
                        ParameterProblem(skb, idev, 2, offset + i, source, destination, multicast, forceEvenIfMulticast: true);
                        Drop(skb, Snmp6Counter.Ip6InHdrErrors);
                        return false;
                    default:
                        ParameterProblem(skb, idev, 2, offset + i, source, destination, multicast, forceEvenIfMulticast: false);
                        Drop(skb, Snmp6Counter.Ip6InHdrErrors);
                        return false;
                }
            }

            i += 2 + h[i + 1];
        }

        return true;
    }

    internal void Drop(SkBuff skb, Snmp6Counter counter)
    {
        Snmp.Inc(counter);
        skb.Free();
    }

    // ---- Output (ip6_xmit, ip6_output, ip6_finish_output2) ----

    /// <summary>An skb ready for an upper-layer payload: headroom for every header below it.</summary>
    public static SkBuff AllocSkb(int payloadLength)
    {
        SkBuff skb = SkBuff.Alloc(payloadLength + Headroom);
        skb.Reserve(Headroom);
        return skb;
    }

    /// <summary>
    /// Sends an upper-layer message (skb data = its header): routes it, picks the source when unspecified
    /// (RFC 6724), adds the IPv6 header, fragments above the path MTU (RFC 8200 §4.5), resolves the next hop and
    /// queues it on the device. Returns 0 or a negative errno.
    /// </summary>
    public int Ip6Xmit(SkBuff skb, Ipv6Address source, Ipv6Address destination, byte nextHeader, NetDevice? oif = null, int hopLimit = -1, bool routerAlert = false, bool fixedSource = false)
    {
        if (!Route(destination, oif, out Inet6Dev? idev, out Ipv6Address nextHop))
        {
            Snmp.Inc(Snmp6Counter.Ip6OutNoRoutes);
            skb.Free();
            return -101;   // -ENETUNREACH
        }

        if (source.IsUnspecified && !fixedSource)
        {
            source = SelectSource(idev!, destination);
        }

        if (routerAlert)
        {
            // RFC 2711 Router Alert in a hop-by-hop header (MLD, RFC 3810 §5).
            Span<byte> hbh = skb.Push(8);
            hbh[0] = nextHeader;
            hbh[1] = 0;
            hbh[2] = 5;
            hbh[3] = 2;
            hbh[4] = 0;
            hbh[5] = 0;
            hbh[6] = 1;   // PadN
            hbh[7] = 0;
            nextHeader = IpProto.HopByHop;
        }

        byte hops = (byte)(hopLimit >= 0 ? hopLimit : destination.IsMulticast ? 1 : idev!.CurHopLimit);

        // RFC 6437 §3: a pseudo-random label per flow, from a keyed hash (Linux's auto_flowlabels); neighbour
        // discovery and MLD, link-local control traffic, keep label 0 as Linux's ndisc/mld do.
        uint flowLabel = hops == 255 || routerAlert ? 0 : FlowLabel(source, destination, nextHeader, skb.DataSpan);
        Snmp.Inc(Snmp6Counter.Ip6OutRequests);
        if (skb.Len + Ipv6Header.Length > PathMtu(idev!, destination) && skb.GsoSize == 0)
        {
            if (skb.IpSummed == ChecksumState.Partial)
            {
                ChecksumHelp(skb);   // skb_checksum_help: fragments cannot be checksummed by the device
            }

            return Fragment(skb, idev!, source, destination, nextHeader, hops, nextHop, flowLabel);
        }

        Ipv6Header.Write(skb.Push(Ipv6Header.Length), skb.Len - Ipv6Header.Length, nextHeader, hops, source, destination, flowLabel);
        skb.NetworkHeader = skb.Data;
        return Ip6FinishOutput(skb, idev!, destination, nextHop);
    }

    /// <summary>The MTU towards a destination: the link's, or less where a Packet Too Big said so and has not aged out.</summary>
    public int PathMtu(Inet6Dev idev, Ipv6Address destination)
    {
        if (idev.PathMtu.TryGetValue(destination, out (int Mtu, long Until) p))
        {
            if (p.Until > Clock.Now)
            {
                return Math.Min(p.Mtu, idev.Mtu);
            }

            idev.PathMtu.Remove(destination);
        }

        return idev.Mtu;
    }

    /// <summary>A non-zero 20-bit label from the flow's addresses, protocol and ports (or ICMP type) under this node's secret key.</summary>
    private uint FlowLabel(Ipv6Address source, Ipv6Address destination, byte nextHeader, ReadOnlySpan<byte> upper)
    {
        ulong h = _flowKey;
        h = Mix(h, source.High);
        h = Mix(h, source.Low);
        h = Mix(h, destination.High);
        h = Mix(h, destination.Low);
        ulong ports = nextHeader is IpProto.Udp or IpProto.Tcp && upper.Length >= 4 ? BinaryPrimitives.ReadUInt32BigEndian(upper) : upper.Length >= 1 ? upper[0] : 0u;
        h = Mix(h, ((ulong)nextHeader << 32) | ports);
        uint label = (uint)(h ^ (h >> 32)) & 0xF_FFFF;
        return label == 0 ? 1 : label;

        static ulong Mix(ulong h, ulong v)
        {
            h ^= v;
            h *= 0x9E37_79B9_7F4A_7C15UL;
            return h ^ (h >> 29);
        }
    }

    private int Ip6FinishOutput(SkBuff skb, Inet6Dev idev, Ipv6Address destination, Ipv6Address nextHop)
    {
        if (destination.IsMulticast)
        {
            Snmp.Inc(Snmp6Counter.Ip6OutMcastPkts);
            if (idev.IsMember(destination))
            {
                // IPV6_MULTICAST_LOOP (on by default): our own listeners get a copy.
                SkBuff loop = skb.Copy();
                loop.Dev = idev.Dev;
                loop.PktType = PacketType.Loopback;
                LoopbackDeliver(loop, idev);
            }

            Span<byte> mac = stackalloc byte[6];
            destination.MulticastMac(mac);
            return DevHardHeaderXmit(skb, idev.Dev, mac);
        }

        if (idev.Find(destination) is not null)
        {
            // To ourselves: the loopback path.
            skb.Dev = idev.Dev;
            skb.PktType = PacketType.Loopback;
            LoopbackDeliver(skb, idev);
            return 0;
        }

        return NeighOutput(skb, idev, nextHop);
    }

    private void LoopbackDeliver(SkBuff skb, Inet6Dev idev)
    {
        if (skb.IpSummed == ChecksumState.Partial)
        {
            skb.IpSummed = ChecksumState.Unnecessary;   // never left the node: nothing to verify
        }

        Ipv6Header.TryRead(skb.DataSpan, out Ipv6Header header, out _);
        Ipv6Address source = header.Source;
        Ipv6Address destination = header.Destination;
        byte nextHeader = header.NextHeader;
        skb.NetworkHeader = skb.Data;
        skb.Pull(Ipv6Header.Length);
        Snmp.Inc(Snmp6Counter.Ip6InReceives);
        if (nextHeader == IpProto.HopByHop && skb.Len >= 8)
        {
            nextHeader = skb.DataSpan[0];
            skb.Pull((skb.DataSpan[1] + 1) * 8);
        }

        Ip6Input(skb, idev, source, destination, destination.IsMulticast, nextHeader, Ipv6Header.Length);
    }

    /// <summary>Completes a CHECKSUM_PARTIAL skb in software (skb data at the upper-layer header).</summary>
    private static void ChecksumHelp(SkBuff skb)
    {
        Span<byte> upper = skb.Buffer.AsSpan(skb.TransportHeader, skb.Tail - skb.TransportHeader);
        int field = skb.CsumOffset;
        ushort sum = (ushort)~Checksum.Fold(Checksum.Add(0, upper));
        BinaryPrimitives.WriteUInt16BigEndian(upper[field..], sum == 0 && field == 6 ? (ushort)0xFFFF : sum);
        skb.IpSummed = ChecksumState.None;
    }

    /// <summary>dev_hard_header + dev_queue_xmit: the Ethernet header, then the device's queue.</summary>
    internal int DevHardHeaderXmit(SkBuff skb, NetDevice dev, ReadOnlySpan<byte> destinationMac)
    {
        Span<byte> eth = skb.Push(14);
        destinationMac.CopyTo(eth);
        dev.DevAddr.CopyTo(eth[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(eth[12..], EthPIpv6);
        if (skb.IpSummed == ChecksumState.Partial)
        {
            skb.CsumStart = skb.TransportHeader - skb.Data;
        }

        skb.Dev = dev;
        skb.Protocol = EthPIpv6;
        return Net.DevQueueXmit(skb);
    }

    /// <summary>
    /// The routing decision for a host: link-local and multicast destinations need the interface (the only one, or
    /// <paramref name="oif"/>); on-link prefixes are direct; anything else goes to a default router (RFC 4861 §5.2).
    /// </summary>
    public bool Route(Ipv6Address destination, NetDevice? oif, out Inet6Dev? idev, out Ipv6Address nextHop)
    {
        nextHop = destination;
        idev = null;
        if (destination.IsLinkLocal || destination.IsMulticast)
        {
            // On the link named by oif, or on the only (first) one.
            if (oif is not null)
            {
                idev = Inet6(oif);
                return idev is not null;
            }

            foreach (Inet6Dev d in _devs.Values)
            {
                idev = d;
                return true;
            }

            return false;
        }

        foreach (Inet6Dev d in _devs.Values)
        {
            if (oif is not null && d.Dev != oif)
            {
                continue;
            }

            foreach ((Ipv6Address prefix, int length, long until) in d.OnLinkPrefixes)
            {
                if (until > Clock.Now && destination.MatchesPrefix(prefix, length))
                {
                    idev = d;
                    return true;
                }
            }

            foreach (Inet6Ifaddr a in d.Addresses)
            {
                if (destination == a.Address)
                {
                    idev = d;
                    return true;
                }
            }
        }

        foreach (Inet6Dev d in _devs.Values)
        {
            if (oif is not null && d.Dev != oif)
            {
                continue;
            }

            if (d.Redirects.TryGetValue(destination, out Ipv6Address redirected))
            {
                idev = d;
                nextHop = redirected;
                return true;
            }

            foreach ((Ipv6Address router, long until) in d.DefaultRouters)
            {
                if (until > Clock.Now)
                {
                    idev = d;
                    nextHop = router;
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>RFC 6724 §5, reduced to what a host with one interface needs: same scope first, preferred over deprecated.</summary>
    public Ipv6Address SelectSource(Inet6Dev idev, Ipv6Address destination)
    {
        bool wantLinkLocal = destination.IsLinkLocal || (destination.IsMulticast && destination.MulticastScope <= 2);
        Inet6Ifaddr? best = null;
        foreach (Inet6Ifaddr a in idev.Addresses)
        {
            if (!a.Usable)
            {
                continue;
            }

            if (best is null
                || (a.Address.IsLinkLocal == wantLinkLocal && best.Address.IsLinkLocal != wantLinkLocal)
                || (a.Address.IsLinkLocal == best.Address.IsLinkLocal && best.Deprecated && !a.Deprecated))
            {
                best = a;
            }
        }

        return best?.Address ?? Ipv6Address.Unspecified;
    }
}
