namespace Emu.Stack.Core;

/// <summary>dev->flags (include/uapi/linux/if.h).</summary>
[Flags]
public enum NetDeviceFlags : uint
{
    None = 0,
    Up = 1 << 0,
    Broadcast = 1 << 1,
    Running = 1 << 6,
    Promisc = 1 << 8,
    AllMulti = 1 << 9,
    Multicast = 1 << 12,
    LowerUp = 1 << 16,
}
