using System.Buffers.Binary;
using Emu.Stack.Core;
using Emu.Stack.Wire;

namespace Emu.Stack.Ipv6;

/// <summary>Neighbour discovery (RFC 4861): NS/NA/RS/RA, the neighbour cache and its NUD state machine.</summary>
public sealed partial class Ipv6Stack
{
    /// <summary>RFC 4861 §10: MAX_MULTICAST_SOLICIT.</summary>
    public const int MaxMulticastSolicit = 3;

    /// <summary>RFC 4861 §10: MAX_UNICAST_SOLICIT.</summary>
    public const int MaxUnicastSolicit = 3;

    /// <summary>RFC 4861 §10: DELAY_FIRST_PROBE_TIME.</summary>
    public const long DelayFirstProbeTimeNs = 5_000_000_000;

    public const byte IcmpRouterSolicit = 133;
    public const byte IcmpRouterAdvert = 134;
    public const byte IcmpNeighborSolicit = 135;
    public const byte IcmpNeighborAdvert = 136;
    public const byte IcmpRedirect = 137;

    private const byte OptSourceLinkAddress = 1;
    private const byte OptTargetLinkAddress = 2;
    private const byte OptPrefixInfo = 3;
    private const byte OptMtu = 5;
    private const byte OptNonce = 14;

    /// <summary>The neighbour cache entry for an address on an interface, if any.</summary>
    public Neighbour? NeighLookup(Inet6Dev idev, Ipv6Address address) => idev.Neighbours.GetValueOrDefault(address);

    /// <summary>Neighbour cache entries per interface at most (Linux gc_thresh3).</summary>
    public const int MaxNeighbours = 1024;

    /// <summary>
    /// neigh_create: a new entry, or null when the cache is full and nothing can be evicted (FAILED, then STALE
    /// entries go first, as Linux's forced garbage collection does).
    /// </summary>
    private Neighbour? NeighCreate(Inet6Dev idev, Ipv6Address address)
    {
        if (idev.Neighbours.Count >= MaxNeighbours)
        {
            Neighbour? victim = null;
            foreach (Neighbour n in idev.Neighbours.Values)
            {
                if (n.State is NudState.Failed or NudState.None || (n.State == NudState.Stale && victim is null))
                {
                    victim = n;
                    if (n.State is NudState.Failed or NudState.None)
                    {
                        break;
                    }
                }
            }

            if (victim is null)
            {
                Snmp.Inc(Snmp6Counter.Ip6OutDiscards);
                return null;
            }

            victim.Timer?.Cancel();
            Snmp.Add(Snmp6Counter.Ip6OutDiscards, victim.Queue.Purge());
            idev.Neighbours.Remove(victim.Address);
        }

        var created = new Neighbour(address, idev.Dev);
        idev.Neighbours[address] = created;
        return created;
    }

    /// <summary>A static entry (ip neigh replace ... nud permanent): never probed, never expires.</summary>
    public void NeighAddPermanent(Inet6Dev idev, Ipv6Address address, ReadOnlySpan<byte> linkAddress)
    {
        if (!idev.Neighbours.TryGetValue(address, out Neighbour? n))
        {
            n = NeighCreate(idev, address);
            if (n is null)
            {
                return;
            }
        }

        n.LinkAddress = linkAddress.ToArray();
        SetState(idev, n, NudState.Permanent, 0);
        FlushQueue(idev, n);
    }

    // ---- Output through the cache (neigh_resolve_output) ----

    private int NeighOutput(SkBuff skb, Inet6Dev idev, Ipv6Address nextHop)
    {
        if (!idev.Neighbours.TryGetValue(nextHop, out Neighbour? n))
        {
            n = NeighCreate(idev, nextHop);
            if (n is null)
            {
                skb.Free();
                return -105;   // -ENOBUFS
            }
        }

        switch (n.State)
        {
            case NudState.Reachable:
            case NudState.Delay:
            case NudState.Probe:
            case NudState.Permanent:
                return DevHardHeaderXmit(skb, idev.Dev, n.LinkAddress);
            case NudState.Stale:
                // RFC 4861 §7.3.3: sending to a STALE entry starts the DELAY_FIRST_PROBE_TIME wait.
                SetState(idev, n, NudState.Delay, DelayFirstProbeTimeNs);
                return DevHardHeaderXmit(skb, idev.Dev, n.LinkAddress);
            case NudState.Incomplete:
                Enqueue(n, skb);
                return 0;
            default:
                // NONE or FAILED: start address resolution (§7.2.2): multicast NS now, every RetransTimer.
                Enqueue(n, skb);
                n.Probes = 0;
                SetState(idev, n, NudState.Incomplete, idev.RetransTimer);
                SendNeighborSolicit(idev, nextHop, nextHop.SolicitedNode, SelectSource(idev, nextHop), includeSllao: true);
                n.Probes++;
                return 0;
        }
    }

    private void Enqueue(Neighbour n, SkBuff skb)
    {
        if (n.Queue.QLen >= Neighbour.MaxQueued)
        {
            // The oldest packet makes room (Linux drops from the head of arp_queue).
            n.Queue.Dequeue()?.Free();
            Snmp.Inc(Snmp6Counter.Ip6OutDiscards);
        }

        n.Queue.EnqueueTail(skb);
    }

    private void SetState(Inet6Dev idev, Neighbour n, NudState state, long timerNs)
    {
        n.State = state;
        n.Updated = Clock.Now;
        n.Timer ??= Clock.CreateTimer("neigh " + n.Address, () => NeighTimer(idev, n));
        if (timerNs > 0)
        {
            n.Timer.ArmIn(timerNs);
        }
        else
        {
            n.Timer.Cancel();
        }
    }

    /// <summary>neigh_timer_handler: the NUD state machine's timed transitions (RFC 4861 §7.3.3, Appendix C).</summary>
    private void NeighTimer(Inet6Dev idev, Neighbour n)
    {
        switch (n.State)
        {
            case NudState.Reachable:
                SetState(idev, n, NudState.Stale, 0);
                break;
            case NudState.Delay:
                n.Probes = 0;
                SetState(idev, n, NudState.Probe, idev.RetransTimer);
                SendNeighborSolicit(idev, n.Address, n.Address, SelectSource(idev, n.Address), includeSllao: true);
                n.Probes++;
                break;
            case NudState.Probe:
            case NudState.Incomplete:
                int max = n.State == NudState.Probe ? MaxUnicastSolicit : MaxMulticastSolicit;
                if (n.Probes >= max)
                {
                    // Resolution failed: the queued packets are lost (§7.2.2; counted).
                    Snmp.Add(Snmp6Counter.Ip6OutDiscards, n.Queue.Purge());
                    SetState(idev, n, NudState.Failed, 0);
                    break;
                }

                Ipv6Address dest = n.State == NudState.Probe ? n.Address : n.Address.SolicitedNode;
                SendNeighborSolicit(idev, n.Address, dest, SelectSource(idev, n.Address), includeSllao: true);
                n.Probes++;
                n.Timer!.ArmIn(idev.RetransTimer);
                break;
        }
    }

    /// <summary>Records a neighbour's link-layer address from an NS/RS/RA source option: STALE unless unchanged (§7.2.3).</summary>
    private void UpdateFromSllao(Inet6Dev idev, Ipv6Address address, ReadOnlySpan<byte> lladdr, bool isRouter)
    {
        if (!idev.Neighbours.TryGetValue(address, out Neighbour? n))
        {
            n = NeighCreate(idev, address);
            if (n is null)
            {
                return;
            }
        }

        if (isRouter)
        {
            n.IsRouter = true;
        }

        if (n.State == NudState.Permanent)
        {
            return;   // a static entry is not overridden by what the network says
        }

        if (n.LinkAddress is null || !lladdr.SequenceEqual(n.LinkAddress) || n.State is NudState.None or NudState.Incomplete or NudState.Failed)
        {
            n.LinkAddress = lladdr.ToArray();
            SetState(idev, n, NudState.Stale, 0);
            FlushQueue(idev, n);
        }
    }

    private void FlushQueue(Inet6Dev idev, Neighbour n)
    {
        while (n.Queue.Dequeue() is { } queued)
        {
            DevHardHeaderXmit(queued, idev.Dev, n.LinkAddress);
        }
    }

    // ---- Receive (ndisc_rcv) ----

    private void NdiscRcv(SkBuff skb, Inet6Dev idev, Ipv6Address source, Ipv6Address destination, byte hopLimit)
    {
        ReadOnlySpan<byte> m = skb.DataSpan;

        // RFC 4861 §7.1.1 / §6.1.2: hop limit 255 (not forwarded) and code 0, or the message is discarded.
        if (hopLimit != 255 || m[1] != 0)
        {
            Drop(skb, Snmp6Counter.Icmp6InErrors);
            return;
        }

        switch (m[0])
        {
            case IcmpNeighborSolicit:
                Snmp.Inc(Snmp6Counter.Icmp6InNeighborSolicits);
                RecvNeighborSolicit(m, idev, source, destination);
                break;
            case IcmpNeighborAdvert:
                Snmp.Inc(Snmp6Counter.Icmp6InNeighborAdvertisements);
                RecvNeighborAdvert(m, idev, destination);
                break;
            case IcmpRouterSolicit:
                Snmp.Inc(Snmp6Counter.Icmp6InRouterSolicits);   // a host ignores them (§6.2.6)
                break;
            case IcmpRouterAdvert:
                Snmp.Inc(Snmp6Counter.Icmp6InRouterAdvertisements);
                RecvRouterAdvert(m, idev, source);
                break;
            case IcmpRedirect:
                Snmp.Inc(Snmp6Counter.Icmp6InRedirects);
                RecvRedirect(m, idev, source);
                break;
        }

        skb.Free();
    }

    /// <summary>Options after a fixed part: (type, the whole option). A zero length makes the message invalid (§4.6).</summary>
    private static bool TryOptions(ReadOnlySpan<byte> options, out int sllao, out int tllao, out int nonce)
    {
        sllao = tllao = nonce = -1;
        int i = 0;
        while (i + 2 <= options.Length)
        {
            int length = options[i + 1] * 8;
            if (length == 0 || i + length > options.Length)
            {
                return false;
            }

            switch (options[i])
            {
                case OptSourceLinkAddress:
                    sllao = i;
                    break;
                case OptTargetLinkAddress:
                    tllao = i;
                    break;
                case OptNonce:
                    nonce = i;
                    break;
            }

            i += length;
        }

        return true;
    }

    /// <summary>ndisc_recv_ns (RFC 4861 §7.2.3, RFC 4862 §5.4.3).</summary>
    private void RecvNeighborSolicit(ReadOnlySpan<byte> m, Inet6Dev idev, Ipv6Address source, Ipv6Address destination)
    {
        if (m.Length < 24)
        {
            Snmp.Inc(Snmp6Counter.Icmp6InErrors);
            return;
        }

        Ipv6Address target = Ipv6Address.Read(m[8..]);
        if (target.IsMulticast || !TryOptions(m[24..], out int sllao, out _, out int nonce))
        {
            Snmp.Inc(Snmp6Counter.Icmp6InErrors);
            return;
        }

        bool dad = source.IsUnspecified;
        if (dad && (destination != target.SolicitedNode || sllao >= 0))
        {
            // §7.1.1: a DAD NS goes to the solicited-node group and carries no source link-layer option.
            Snmp.Inc(Snmp6Counter.Icmp6InErrors);
            return;
        }

        Inet6Ifaddr? ours = idev.Find(target);
        if (ours is null)
        {
            return;
        }

        if (ours.Tentative)
        {
            if (!dad)
            {
                return;   // RFC 4862 §5.4.3: ignore resolution for a tentative address
            }

            ulong theirNonce = nonce >= 0 && m[24 + nonce + 1] == 1 ? ReadNonce(m.Slice(24 + nonce + 2, 6)) : 0;
            if (theirNonce != 0 && theirNonce == ours.DadNonce)
            {
                return;   // our own probe looped back (RFC 7527)
            }

            DadFailure(idev, ours, null);
            return;
        }

        if (!ours.Usable)
        {
            return;
        }

        if (dad)
        {
            // Someone else is probing our address: defend it (§7.2.4) with an NA to all nodes.
            SendNeighborAdvert(idev, target, Ipv6Address.AllNodes, solicited: false, overrideFlag: true);
            return;
        }

        if (sllao >= 0)
        {
            UpdateFromSllao(idev, source, m.Slice(24 + sllao + 2, 6), isRouter: false);
        }

        SendNeighborAdvert(idev, target, source, solicited: true, overrideFlag: true);
    }

    /// <summary>ndisc_recv_na (RFC 4861 §7.2.5, §7.2.6).</summary>
    private void RecvNeighborAdvert(ReadOnlySpan<byte> m, Inet6Dev idev, Ipv6Address destination)
    {
        if (m.Length < 24)
        {
            Snmp.Inc(Snmp6Counter.Icmp6InErrors);
            return;
        }

        bool router = (m[4] & 0x80) != 0;
        bool solicited = (m[4] & 0x40) != 0;
        bool overrideFlag = (m[4] & 0x20) != 0;
        Ipv6Address target = Ipv6Address.Read(m[8..]);
        if (target.IsMulticast || (solicited && destination.IsMulticast) || !TryOptions(m[24..], out _, out int tllao, out _))
        {
            Snmp.Inc(Snmp6Counter.Icmp6InErrors);
            return;
        }

        byte[]? lladdr = tllao >= 0 ? m.Slice(24 + tllao + 2, 6).ToArray() : null;
        if (idev.Find(target) is { } ours)
        {
            if (ours.Tentative)
            {
                DadFailure(idev, ours, lladdr);
            }
            else if (lladdr is not null && !lladdr.AsSpan().SequenceEqual(idev.Dev.DevAddr))
            {
                Printk($"IPv6: {idev.Dev.Name}: duplicate address {target} used by {FormatMac(lladdr)} detected!");
            }

            return;
        }

        if (!idev.Neighbours.TryGetValue(target, out Neighbour? n) || n.State is NudState.None or NudState.Permanent)
        {
            return;   // §7.2.5: an unsolicited NA creates no entry
        }

        n.IsRouter = router;
        if (n.State == NudState.Incomplete)
        {
            if (lladdr is null)
            {
                return;
            }

            n.LinkAddress = lladdr;
            SetState(idev, n, solicited ? NudState.Reachable : NudState.Stale, solicited ? idev.ReachableTime : 0);
            FlushQueue(idev, n);
            return;
        }

        bool different = lladdr is not null && (n.LinkAddress is null || !lladdr.AsSpan().SequenceEqual(n.LinkAddress));
        if (!overrideFlag && different)
        {
            if (n.State == NudState.Reachable)
            {
                SetState(idev, n, NudState.Stale, 0);
            }

            return;
        }

        if (different)
        {
            n.LinkAddress = lladdr;
        }

        if (solicited)
        {
            SetState(idev, n, NudState.Reachable, idev.ReachableTime);
        }
        else if (different)
        {
            SetState(idev, n, NudState.Stale, 0);
        }
    }

    /// <summary>ndisc_router_discovery (RFC 4861 §6.3.4, RFC 4862 §5.5.3).</summary>
    private void RecvRouterAdvert(ReadOnlySpan<byte> m, Inet6Dev idev, Ipv6Address source)
    {
        if (m.Length < 16 || !source.IsLinkLocal)
        {
            Snmp.Inc(Snmp6Counter.Icmp6InErrors);
            return;
        }

        byte curHopLimit = m[4];
        ushort routerLifetime = BinaryPrimitives.ReadUInt16BigEndian(m[6..]);
        uint reachable = BinaryPrimitives.ReadUInt32BigEndian(m[8..]);
        uint retrans = BinaryPrimitives.ReadUInt32BigEndian(m[12..]);
        if (!TryOptions(m[16..], out int sllao, out _, out _))
        {
            Snmp.Inc(Snmp6Counter.Icmp6InErrors);
            return;
        }

        if (curHopLimit != 0)
        {
            idev.CurHopLimit = curHopLimit;
        }

        if (reachable != 0 && reachable * 1_000_000L != idev.BaseReachableTime)
        {
            idev.BaseReachableTime = reachable * 1_000_000L;
            idev.ReachableTime = RandomReachableTime(idev.BaseReachableTime);
        }

        if (retrans != 0)
        {
            idev.RetransTimer = retrans * 1_000_000L;
        }

        idev.DefaultRouters.RemoveAll(r => r.Router == source);
        if (routerLifetime != 0)
        {
            idev.DefaultRouters.Add((source, Clock.Now + (routerLifetime * 1_000_000_000L)));
        }

        if (sllao >= 0)
        {
            UpdateFromSllao(idev, source, m.Slice(16 + sllao + 2, 6), isRouter: true);
        }

        ReadOnlySpan<byte> options = m[16..];
        for (int i = 0; i + 2 <= options.Length && options[i + 1] != 0; i += options[i + 1] * 8)
        {
            ReadOnlySpan<byte> o = options.Slice(i, Math.Min(options[i + 1] * 8, options.Length - i));
            if (o[0] == OptMtu && o.Length >= 8)
            {
                uint mtu = BinaryPrimitives.ReadUInt32BigEndian(o[4..]);
                if (mtu >= MinMtu && mtu <= idev.Dev.Mtu)
                {
                    idev.Mtu = (int)mtu;
                }
            }
            else if (o[0] == OptPrefixInfo && o.Length >= 32)
            {
                PrefixInformation(idev, o);
            }
        }
    }

    /// <summary>
    /// ndisc_redirect_rcv (RFC 4861 §8.1, §8.3): from the current first-hop router for the destination, to a target that
    /// is a link-local router or the destination itself (on-link); later packets to the destination go to the target.
    /// </summary>
    private void RecvRedirect(ReadOnlySpan<byte> m, Inet6Dev idev, Ipv6Address source)
    {
        if (m.Length < 40 || !source.IsLinkLocal)
        {
            Snmp.Inc(Snmp6Counter.Icmp6InErrors);
            return;
        }

        Ipv6Address target = Ipv6Address.Read(m[8..]);
        Ipv6Address destination = Ipv6Address.Read(m[24..]);
        if (destination.IsMulticast || (!target.IsLinkLocal && target != destination) || !TryOptions(m[40..], out _, out int tllao, out _))
        {
            Snmp.Inc(Snmp6Counter.Icmp6InErrors);
            return;
        }

        if (!Route(destination, idev.Dev, out _, out Ipv6Address firstHop) || firstHop != source || destination.IsLinkLocal)
        {
            Snmp.Inc(Snmp6Counter.Icmp6InErrors);   // not from the router we use for that destination
            return;
        }

        if (idev.Redirects.Count >= MaxNeighbours && !idev.Redirects.ContainsKey(destination))
        {
            idev.Redirects.Clear();   // a flood of redirects: forget them all, the routers will tell again
        }

        idev.Redirects[destination] = target;
        if (tllao >= 0)
        {
            UpdateFromSllao(idev, target, m.Slice(40 + tllao + 2, 6), isRouter: target != destination);
        }
    }

    /// <summary>A Prefix Information option: on-link (L) and autonomous (A) address configuration (RFC 4862 §5.5.3).</summary>
    private void PrefixInformation(Inet6Dev idev, ReadOnlySpan<byte> o)
    {
        int length = o[2];
        bool onLink = (o[3] & 0x80) != 0;
        bool autonomous = (o[3] & 0x40) != 0;
        uint valid = BinaryPrimitives.ReadUInt32BigEndian(o[4..]);
        uint preferred = BinaryPrimitives.ReadUInt32BigEndian(o[8..]);
        Ipv6Address prefix = Ipv6Address.Read(o[16..]);
        if (prefix.IsLinkLocal || preferred > valid || length > 128)
        {
            return;   // §5.5.3 (b), (c)
        }

        long validUntil = valid == uint.MaxValue ? long.MaxValue : Clock.Now + (valid * 1_000_000_000L);
        if (onLink)
        {
            idev.OnLinkPrefixes.RemoveAll(p => p.Prefix == prefix && p.Length == length);
            if (valid != 0)
            {
                idev.OnLinkPrefixes.Add((prefix, length, validUntil));
            }
        }

        if (autonomous && length == 64)
        {
            AddrconfPrefix(idev, prefix, valid, preferred);
        }
    }

    // ---- Sending ----

    /// <summary>ndisc_send_ns: to the solicited-node group (resolution, DAD) or the neighbour (NUD probes).</summary>
    internal void SendNeighborSolicit(Inet6Dev idev, Ipv6Address target, Ipv6Address destination, Ipv6Address source, bool includeSllao, ulong nonce = 0)
    {
        bool sllao = includeSllao && !source.IsUnspecified;
        int length = 24 + (sllao ? 8 : 0) + (nonce != 0 ? 8 : 0);
        SkBuff skb = AllocSkb(length);
        Span<byte> m = skb.Put(length);
        m.Clear();
        m[0] = IcmpNeighborSolicit;
        target.Write(m[8..]);
        int at = 24;
        if (sllao)
        {
            m[at] = OptSourceLinkAddress;
            m[at + 1] = 1;
            idev.Dev.DevAddr.CopyTo(m[(at + 2)..]);
            at += 8;
        }

        if (nonce != 0)
        {
            m[at] = OptNonce;
            m[at + 1] = 1;
            WriteNonce(m.Slice(at + 2, 6), nonce);
        }

        Snmp.Inc(Snmp6Counter.Icmp6OutNeighborSolicits);
        IcmpSend(skb, idev, source, destination, 255);
    }

    /// <summary>ndisc_send_na with the target link-layer address (§7.2.4).</summary>
    private void SendNeighborAdvert(Inet6Dev idev, Ipv6Address target, Ipv6Address destination, bool solicited, bool overrideFlag)
    {
        SkBuff skb = AllocSkb(32);
        Span<byte> m = skb.Put(32);
        m.Clear();
        m[0] = IcmpNeighborAdvert;
        m[4] = (byte)((solicited ? 0x40 : 0) | (overrideFlag ? 0x20 : 0));
        target.Write(m[8..]);
        m[24] = OptTargetLinkAddress;
        m[25] = 1;
        idev.Dev.DevAddr.CopyTo(m[26..]);
        Snmp.Inc(Snmp6Counter.Icmp6OutNeighborAdvertisements);
        IcmpSend(skb, idev, target, destination, 255);
    }

    /// <summary>ndisc_send_rs: to all routers, with our link-layer address when the source is not unspecified (§6.3.7).</summary>
    private void SendRouterSolicit(Inet6Dev idev)
    {
        Ipv6Address source = idev.LinkLocal is { Usable: true } ll ? ll.Address : Ipv6Address.Unspecified;
        int length = 8 + (source.IsUnspecified ? 0 : 8);
        SkBuff skb = AllocSkb(length);
        Span<byte> m = skb.Put(length);
        m.Clear();
        m[0] = IcmpRouterSolicit;
        if (!source.IsUnspecified)
        {
            m[8] = OptSourceLinkAddress;
            m[9] = 1;
            idev.Dev.DevAddr.CopyTo(m[10..]);
        }

        Snmp.Inc(Snmp6Counter.Icmp6OutRouterSolicits);
        IcmpSend(skb, idev, source, Ipv6Address.AllRouters, 255);
    }

    private static ulong ReadNonce(ReadOnlySpan<byte> b) => ((ulong)BinaryPrimitives.ReadUInt16BigEndian(b) << 32) | BinaryPrimitives.ReadUInt32BigEndian(b[2..]);

    private static void WriteNonce(Span<byte> b, ulong nonce)
    {
        BinaryPrimitives.WriteUInt16BigEndian(b, (ushort)(nonce >> 32));
        BinaryPrimitives.WriteUInt32BigEndian(b[2..], (uint)nonce);
    }

    internal static string FormatMac(ReadOnlySpan<byte> mac) => $"{mac[0]:x2}:{mac[1]:x2}:{mac[2]:x2}:{mac[3]:x2}:{mac[4]:x2}:{mac[5]:x2}";
}
