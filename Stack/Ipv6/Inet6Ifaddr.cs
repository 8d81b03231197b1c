using Emu.Stack.Core;
using Emu.Stack.Wire;

namespace Emu.Stack.Ipv6;

/// <summary>struct inet6_ifaddr: one address on an interface, with its DAD state and lifetimes (RFC 4862).</summary>
public sealed class Inet6Ifaddr
{
    internal Inet6Ifaddr(Ipv6Address address, int prefixLength, bool autoconf)
    {
        Address = address;
        PrefixLength = prefixLength;
        Autoconf = autoconf;
    }

    public Ipv6Address Address { get; }

    public int PrefixLength { get; }

    public bool Autoconf { get; }

    /// <summary>IFA_F_TENTATIVE: DAD has not finished; the address is not used (RFC 4862 §5.4).</summary>
    public bool Tentative { get; internal set; } = true;

    /// <summary>IFA_F_DADFAILED: another node has it.</summary>
    public bool DadFailed { get; internal set; }

    /// <summary>Past its preferred lifetime: still valid, not chosen as a source (RFC 4862 §5.5.4).</summary>
    public bool Deprecated { get; internal set; }

    /// <summary>Absolute virtual-time deadlines (long.MaxValue: infinite).</summary>
    public long ValidUntil { get; internal set; } = long.MaxValue;

    public long PreferredUntil { get; internal set; } = long.MaxValue;

    internal ulong DadNonce { get; set; }

    internal int DadProbesLeft { get; set; }

    internal IKernelTimer? DadTimer { get; set; }

    internal IKernelTimer? LifetimeTimer { get; set; }

    public bool Usable => !Tentative && !DadFailed;

    public override string ToString() => $"{Address}/{PrefixLength}{(Tentative ? " tentative" : string.Empty)}{(DadFailed ? " dadfailed" : string.Empty)}";
}
