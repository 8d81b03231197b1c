namespace Emu.Stack.Ipv6;

/// <summary>Neighbour Unreachability Detection states (RFC 4861 §7.3.2; Linux NUD_* values).</summary>
[Flags]
public enum NudState
{
    None = 0,
    Incomplete = 0x01,
    Reachable = 0x02,
    Stale = 0x04,
    Delay = 0x08,
    Probe = 0x10,
    Failed = 0x20,
    NoArp = 0x40,
    Permanent = 0x80,
}
