using Emu.Stack.Core;
using Emu.Stack.Wire;

namespace Emu.Stack.Ipv6;

/// <summary>
/// struct inet6_dev: IPv6 state of one interface — addresses, joined groups, neighbour cache, on-link prefixes,
/// default routers and the ND parameters a Router Advertisement may change (RFC 4861 §6.3.2).
/// </summary>
public sealed class Inet6Dev
{
    /// <summary>RFC 4861 §10: BASE_REACHABLE_TIME.</summary>
    public const long BaseReachableTimeNs = 30_000_000_000;

    /// <summary>RFC 4861 §10: RETRANS_TIMER.</summary>
    public const long RetransTimerNs = 1_000_000_000;

    internal Inet6Dev(NetDevice dev)
    {
        Dev = dev;
    }

    public NetDevice Dev { get; }

    public List<Inet6Ifaddr> Addresses { get; } = [];

    /// <summary>Joined groups and their user counts.</summary>
    public Dictionary<Ipv6Address, int> Groups { get; } = [];

    public Dictionary<Ipv6Address, Neighbour> Neighbours { get; } = [];

    /// <summary>On-link prefixes (address, length) with their valid-until time.</summary>
    public List<(Ipv6Address Prefix, int Length, long ValidUntil)> OnLinkPrefixes { get; } = [];

    /// <summary>The default router list (RFC 4861 §6.3.4) with each router's lifetime end.</summary>
    public List<(Ipv6Address Router, long ValidUntil)> DefaultRouters { get; } = [];

    /// <summary>Redirected destinations (RFC 4861 §8.3): destination → the next hop to use instead.</summary>
    public Dictionary<Ipv6Address, Ipv6Address> Redirects { get; } = [];

    /// <summary>Path MTUs learnt from Packet Too Big (RFC 8201): destination → (MTU, expiry).</summary>
    public Dictionary<Ipv6Address, (int Mtu, long Until)> PathMtu { get; } = [];

    public long BaseReachableTime { get; internal set; } = BaseReachableTimeNs;

    /// <summary>ReachableTime: BaseReachableTime randomised in [0.5, 1.5) (RFC 4861 §6.3.2).</summary>
    public long ReachableTime { get; internal set; } = BaseReachableTimeNs;

    public long RetransTimer { get; internal set; } = RetransTimerNs;

    public byte CurHopLimit { get; internal set; } = 64;

    public int Mtu { get; internal set; }

    internal int RouterSolicitationsSent { get; set; }

    internal IKernelTimer? RsTimer { get; set; }

    /// <summary>The pending answer to MLD queries and when it is due.</summary>
    internal IKernelTimer? MldTimer { get; set; }

    internal long MldResponseDue { get; set; }

    public Inet6Ifaddr? LinkLocal
    {
        get
        {
            foreach (Inet6Ifaddr a in Addresses)
            {
                if (a.Address.IsLinkLocal)
                {
                    return a;
                }
            }

            return null;
        }
    }

    public Inet6Ifaddr? Find(Ipv6Address address)
    {
        foreach (Inet6Ifaddr a in Addresses)
        {
            if (a.Address == address)
            {
                return a;
            }
        }

        return null;
    }

    public bool IsMember(Ipv6Address group) => Groups.ContainsKey(group);
}
