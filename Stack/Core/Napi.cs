namespace Emu.Stack.Core;

/// <summary>
/// struct napi_struct: a device's poll context. The driver schedules it from its interrupt handler; the core calls
/// <see cref="Poll"/> with a budget from the NET_RX softirq until the driver completes it (include/linux/netdevice.h).
/// </summary>
public sealed class Napi
{
    /// <summary>NAPI_POLL_WEIGHT.</summary>
    public const int DefaultWeight = 64;

    internal Napi(NetDevice dev, Func<Napi, int, int> poll, int weight)
    {
        Dev = dev;
        Poll = poll;
        Weight = weight;
    }

    public NetDevice Dev { get; }

    /// <summary>The driver's poll: (napi, budget) → work done.</summary>
    public Func<Napi, int, int> Poll { get; }

    public int Weight { get; }

    /// <summary>NAPI_STATE_SCHED: on the poll list or being polled.</summary>
    public bool Scheduled { get; internal set; }

    /// <summary>Cleared by napi_disable; set by napi_enable.</summary>
    public bool Enabled { get; internal set; }

    /// <summary>How many times the driver's poll ran.</summary>
    public long Polls { get; internal set; }
}
