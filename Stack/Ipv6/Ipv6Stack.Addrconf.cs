using Emu.Stack.Core;
using Emu.Stack.Wire;

namespace Emu.Stack.Ipv6;

/// <summary>Stateless address autoconfiguration (RFC 4862): link-local address, DAD, router solicitation, SLAAC.</summary>
public sealed partial class Ipv6Stack
{
    /// <summary>RFC 4861 §10: MAX_RTR_SOLICITATION_DELAY.</summary>
    public const long MaxRtrSolicitationDelayNs = 1_000_000_000;

    /// <summary>RFC 4861 §10: RTR_SOLICITATION_INTERVAL.</summary>
    public const long RtrSolicitationIntervalNs = 4_000_000_000;

    /// <summary>RFC 4861 §10: MAX_RTR_SOLICITATIONS.</summary>
    public const int MaxRtrSolicitations = 3;

    /// <summary>RFC 4862 §5.1: DupAddrDetectTransmits (Linux dad_transmits).</summary>
    public const int DupAddrDetectTransmits = 1;

    /// <summary>Raised when an address finishes DAD (usable) or fails it.</summary>
    public event Action<Inet6Dev, Inet6Ifaddr>? AddressChanged;

    /// <summary>addrconf_dev_config: the EUI-64 link-local address, tentative, with DAD.</summary>
    private void AddrconfDevConfig(Inet6Dev idev)
    {
        Ipv6Address ll = Ipv6Address.LinkLocalFromMac(idev.Dev.DevAddr);
        AddAddress(idev, ll, 64, autoconf: false);
    }

    private Inet6Ifaddr AddAddress(Inet6Dev idev, Ipv6Address address, int prefixLength, bool autoconf)
    {
        var ifa = new Inet6Ifaddr(address, prefixLength, autoconf);
        idev.Addresses.Add(ifa);
        // The solicited-node group is joined before DAD (RFC 4862 §5.4.2).
        JoinGroup(idev, address.SolicitedNode);
        DadStart(idev, ifa);
        return ifa;
    }

    /// <summary>addrconf_dad_start/kick: a random delay in [0, MAX_RTR_SOLICITATION_DELAY), then the probes (§5.4.2).</summary>
    private void DadStart(Inet6Dev idev, Inet6Ifaddr ifa)
    {
        ifa.Tentative = true;
        ifa.DadProbesLeft = DupAddrDetectTransmits;
        ifa.DadNonce = (ulong)_random.NextInt64(1, 1L << 48);
        ifa.DadTimer = Clock.CreateTimer("dad " + ifa.Address, () => DadWork(idev, ifa));
        ifa.DadTimer.ArmIn(RandomBelow(MaxRtrSolicitationDelayNs));
    }

    /// <summary>addrconf_dad_work: send the next probe, or finish when RetransTimer passed after the last one.</summary>
    private void DadWork(Inet6Dev idev, Inet6Ifaddr ifa)
    {
        if (!ifa.Tentative || ifa.DadFailed || !idev.Addresses.Contains(ifa))
        {
            return;
        }

        if (ifa.DadProbesLeft == 0)
        {
            DadCompleted(idev, ifa);
            return;
        }

        ifa.DadProbesLeft--;
        SendNeighborSolicit(idev, ifa.Address, ifa.Address.SolicitedNode, Ipv6Address.Unspecified, includeSllao: false, ifa.DadNonce);
        ifa.DadTimer!.ArmIn(idev.RetransTimer);
    }

    private void DadCompleted(Inet6Dev idev, Inet6Ifaddr ifa)
    {
        ifa.Tentative = false;
        AddressChanged?.Invoke(idev, ifa);
        if (ifa.Address.IsLinkLocal)
        {
            // With a usable link-local address: MLD reports for the groups joined so far (RFC 3810 §5.2.13), and
            // router solicitation after a random delay (RFC 4861 §6.3.7).
            foreach (Ipv6Address group in idev.Groups.Keys)
            {
                if (MldReportable(group))
                {
                    MldStateChange(idev, group, join: true);
                }
            }

            idev.RouterSolicitationsSent = 0;
            idev.RsTimer ??= Clock.CreateTimer("rs " + idev.Dev.Name, () => RsTimer(idev));
            idev.RsTimer.ArmIn(RandomBelow(MaxRtrSolicitationDelayNs));
        }
    }

    private void RsTimer(Inet6Dev idev)
    {
        if (!_devs.ContainsKey(idev.Dev) || idev.DefaultRouters.Count > 0 || idev.RouterSolicitationsSent >= MaxRtrSolicitations)
        {
            return;
        }

        SendRouterSolicit(idev);
        idev.RouterSolicitationsSent++;
        idev.RsTimer!.ArmIn(RtrSolicitationIntervalNs);
    }

    /// <summary>addrconf_dad_failure: the address is unusable and the conflict is logged (RFC 4862 §5.4.5).</summary>
    private void DadFailure(Inet6Dev idev, Inet6Ifaddr ifa, byte[]? by)
    {
        ifa.DadFailed = true;
        ifa.DadTimer?.Cancel();
        string who = by is null ? string.Empty : $" used by {FormatMac(by)}";
        Printk($"IPv6: {idev.Dev.Name}: IPv6 duplicate address {ifa.Address}{who} detected!");
        AddressChanged?.Invoke(idev, ifa);
    }

    /// <summary>addrconf_prefix_rcv for an autonomous /64: create or refresh prefix::EUI-64 with the lifetimes.</summary>
    private void AddrconfPrefix(Inet6Dev idev, Ipv6Address prefix, uint valid, uint preferred)
    {
        var address = new Ipv6Address(prefix.High, Ipv6Address.InterfaceIdFromMac(idev.Dev.DevAddr));
        Inet6Ifaddr? ifa = idev.Find(address);
        if (ifa is null)
        {
            if (valid == 0)
            {
                return;
            }

            ifa = AddAddress(idev, address, 64, autoconf: true);
        }
        else
        {
            // RFC 4862 §5.5.3 (e): a valid lifetime below two hours is not shortened by an unauthenticated RA,
            // unless it is longer than the remaining lifetime.
            long remaining = ifa.ValidUntil == long.MaxValue ? long.MaxValue : ifa.ValidUntil - Clock.Now;
            const long twoHours = 7200L * 1_000_000_000;
            long proposed = valid == uint.MaxValue ? long.MaxValue : valid * 1_000_000_000L;
            if (proposed <= twoHours && proposed <= remaining)
            {
                // (e.2) a remaining lifetime of two hours or less is kept; (e.3) otherwise it becomes two hours.
                valid = (uint)(Math.Min(remaining, twoHours) / 1_000_000_000);
            }
        }

        ifa.ValidUntil = valid == uint.MaxValue ? long.MaxValue : Clock.Now + (valid * 1_000_000_000L);
        ifa.PreferredUntil = preferred == uint.MaxValue ? long.MaxValue : Clock.Now + (preferred * 1_000_000_000L);
        ifa.Deprecated = preferred == 0;
        ScheduleLifetime(idev, ifa);
    }

    private void ScheduleLifetime(Inet6Dev idev, Inet6Ifaddr ifa)
    {
        long next = Math.Min(ifa.PreferredUntil > Clock.Now ? ifa.PreferredUntil : long.MaxValue, ifa.ValidUntil);
        if (next == long.MaxValue)
        {
            ifa.LifetimeTimer?.Cancel();
            return;
        }

        ifa.LifetimeTimer ??= Clock.CreateTimer("lifetime " + ifa.Address, () =>
        {
            if (Clock.Now >= ifa.ValidUntil)
            {
                RemoveAddress(idev, ifa);
            }
            else
            {
                ifa.Deprecated = Clock.Now >= ifa.PreferredUntil;
                ScheduleLifetime(idev, ifa);
            }
        });
        ifa.LifetimeTimer.Arm(next);
    }

    private void RemoveAddress(Inet6Dev idev, Inet6Ifaddr ifa)
    {
        ifa.DadTimer?.Cancel();
        ifa.LifetimeTimer?.Cancel();
        idev.Addresses.Remove(ifa);
        LeaveGroup(idev, ifa.Address.SolicitedNode);
    }

    /// <summary>addrconf_ifdown: addresses, groups and neighbours go with the interface.</summary>
    private void AddrconfIfdown(Inet6Dev idev)
    {
        foreach (Inet6Ifaddr ifa in idev.Addresses.ToArray())
        {
            ifa.DadTimer?.Cancel();
            ifa.LifetimeTimer?.Cancel();
        }

        idev.Addresses.Clear();
        idev.RsTimer?.Cancel();
        idev.MldTimer?.Cancel();
        foreach (Neighbour n in idev.Neighbours.Values)
        {
            n.Timer?.Cancel();
            n.Queue.Purge();
        }

        idev.Neighbours.Clear();
        Span<byte> mac = stackalloc byte[6];
        foreach (Ipv6Address group in idev.Groups.Keys.ToArray())
        {
            group.MulticastMac(mac);
            Net.DevMcDel(idev.Dev, mac);
        }

        idev.Groups.Clear();
    }

    // ---- Groups (ipv6_dev_mc_inc / ipv6_dev_mc_dec) ----

    /// <summary>Joins a group on the interface: the device filter, and an MLD report when the group is reportable.</summary>
    public void JoinGroup(Inet6Dev idev, Ipv6Address group)
    {
        if (idev.Groups.TryGetValue(group, out int users))
        {
            idev.Groups[group] = users + 1;
            return;
        }

        idev.Groups[group] = 1;
        Span<byte> mac = stackalloc byte[6];
        group.MulticastMac(mac);
        Net.DevMcAdd(idev.Dev, mac);
        if (MldReportable(group) && idev.LinkLocal is { Usable: true })
        {
            MldStateChange(idev, group, join: true);
        }
    }

    public void LeaveGroup(Inet6Dev idev, Ipv6Address group)
    {
        if (!idev.Groups.TryGetValue(group, out int users))
        {
            return;
        }

        if (users > 1)
        {
            idev.Groups[group] = users - 1;
            return;
        }

        idev.Groups.Remove(group);
        if (MldReportable(group) && idev.LinkLocal is { Usable: true })
        {
            MldStateChange(idev, group, join: false);
        }

        Span<byte> mac = stackalloc byte[6];
        group.MulticastMac(mac);
        Net.DevMcDel(idev.Dev, mac);
    }
}
