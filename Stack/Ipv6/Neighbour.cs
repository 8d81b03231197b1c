using Emu.Stack.Core;
using Emu.Stack.Wire;

namespace Emu.Stack.Ipv6;

/// <summary>A neighbour cache entry (RFC 4861 §5.1; Linux struct neighbour).</summary>
public sealed class Neighbour
{
    /// <summary>Packets waiting for address resolution, at most (Linux unres_qlen).</summary>
    public const int MaxQueued = 101;

    internal Neighbour(Ipv6Address address, NetDevice dev)
    {
        Address = address;
        Dev = dev;
    }

    public Ipv6Address Address { get; }

    public NetDevice Dev { get; }

    public NudState State { get; internal set; }

    public byte[]? LinkAddress { get; internal set; }

    public bool IsRouter { get; internal set; }

    /// <summary>Solicitations sent in the current INCOMPLETE or PROBE phase.</summary>
    public int Probes { get; internal set; }

    public long Updated { get; internal set; }

    internal SkBuffHead Queue { get; } = new();

    internal IKernelTimer? Timer { get; set; }

    public override string ToString() => $"{Address} {State} {(LinkAddress is null ? "-" : Convert.ToHexString(LinkAddress))}";
}
