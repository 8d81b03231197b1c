using System.Buffers.Binary;
using Emu.Stack.Core;
using Emu.Stack.Wire;

namespace Emu.Stack.Ipv6;

/// <summary>MLDv2 for a host (RFC 3810): state-change reports on join and leave, answers to queries.</summary>
public sealed partial class Ipv6Stack
{
    public const byte IcmpMldQuery = 130;
    public const byte IcmpMldv2Report = 143;

    /// <summary>RFC 3810 §9.1: the Robustness Variable.</summary>
    public const int MldRobustness = 2;

    /// <summary>RFC 3810 §9.11: Unsolicited Report Interval.</summary>
    public const long UnsolicitedReportIntervalNs = 1_000_000_000;

    private const byte ModeIsExclude = 2;
    private const byte ChangeToInclude = 3;
    private const byte ChangeToExclude = 4;

    /// <summary>RFC 3810 §6: no reports for the all-nodes group or for interface-local (and reserved) scopes.</summary>
    private static bool MldReportable(Ipv6Address group) => group != Ipv6Address.AllNodes && group.MulticastScope >= 2;

    /// <summary>A State Change Report now, and [Robustness Variable] − 1 more within Unsolicited Report Interval (§6.1).</summary>
    private void MldStateChange(Inet6Dev idev, Ipv6Address group, bool join)
    {
        byte record = join ? ChangeToExclude : ChangeToInclude;
        SendMldReport(idev, [group], record);
        for (int i = 1; i < MldRobustness; i++)
        {
            IKernelTimer timer = Clock.CreateTimer("mld " + group, () =>
            {
                if (_devs.ContainsKey(idev.Dev) && idev.IsMember(group) == join)
                {
                    SendMldReport(idev, [group], record);
                }
            });
            timer.ArmIn(1 + RandomBelow(UnsolicitedReportIntervalNs));
        }
    }

    /// <summary>
    /// A Multicast Listener Query (§6.2): answered by a report of the current state after a random delay within the
    /// Maximum Response Delay. One response is pending per interface; a query never makes it later (rule 1), and a
    /// query whose delay ends sooner brings it forward. Queries not from a link-local source with hop limit 1 are
    /// discarded (§5).
    /// </summary>
    private void MldQueryRcv(ReadOnlySpan<byte> m, Inet6Dev idev, Ipv6Address source, byte hopLimit)
    {
        Snmp.Inc(Snmp6Counter.Icmp6InGroupMembQueries);
        if (m.Length < 24 || !source.IsLinkLocal || hopLimit != 1)
        {
            Snmp.Inc(Snmp6Counter.Icmp6InErrors);
            return;
        }

        ushort maxResponseCode = BinaryPrimitives.ReadUInt16BigEndian(m[4..]);

        // §5.1.3: codes from 32768 use a floating-point form; below, the code is milliseconds.
        long maxResponseMs = maxResponseCode < 32768 ? maxResponseCode : ((maxResponseCode & 0x0FFF) | 0x1000) << (((maxResponseCode >> 12) & 0x7) + 3);
        long due = Clock.Now + RandomBelow(Math.Max(1, maxResponseMs) * 1_000_000L);
        idev.MldTimer ??= Clock.CreateTimer("mld report " + idev.Dev.Name, () => MldReportCurrentState(idev));
        if (!idev.MldTimer.IsPending || due < idev.MldResponseDue)
        {
            idev.MldResponseDue = due;
            idev.MldTimer.Arm(due);
        }
    }

    /// <summary>A Current State Report: MODE_IS_EXCLUDE (no sources) for every reportable group joined.</summary>
    private void MldReportCurrentState(Inet6Dev idev)
    {
        if (!_devs.ContainsKey(idev.Dev))
        {
            return;
        }

        var groups = new List<Ipv6Address>();
        foreach (Ipv6Address g in idev.Groups.Keys)
        {
            if (MldReportable(g))
            {
                groups.Add(g);
            }
        }

        if (groups.Count > 0)
        {
            SendMldReport(idev, groups, ModeIsExclude);
        }
    }

    /// <summary>An MLDv2 Report (§5.2) to ff02::16, hop limit 1, with Router Alert, from the link-local address.</summary>
    private void SendMldReport(Inet6Dev idev, IReadOnlyList<Ipv6Address> groups, byte recordType)
    {
        int length = 8 + (groups.Count * 20);
        SkBuff skb = AllocSkb(length);
        Span<byte> m = skb.Put(length);
        m.Clear();
        m[0] = IcmpMldv2Report;
        BinaryPrimitives.WriteUInt16BigEndian(m[6..], (ushort)groups.Count);
        for (int i = 0; i < groups.Count; i++)
        {
            Span<byte> r = m.Slice(8 + (i * 20), 20);
            r[0] = recordType;
            groups[i].Write(r[4..]);
        }

        Ipv6Address source = idev.LinkLocal is { Usable: true } ll ? ll.Address : Ipv6Address.Unspecified;
        Snmp.Inc(Snmp6Counter.Icmp6OutMLDv2Reports);
        IcmpSend(skb, idev, source, Ipv6Address.AllMldv2Routers, 1, routerAlert: true);
    }
}
