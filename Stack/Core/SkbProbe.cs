namespace Emu.Stack.Core;

/// <summary>
/// Where sk_buffs cross the net core, named as Linux's tracepoints (net_dev_queue, net_dev_xmit, netif_rx,
/// netif_receive_skb, kfree_skb with its drop reason), for <c>--trace skb</c>. Null on the core when off.
/// </summary>
public abstract class SkbProbe
{
    /// <summary>A tracepoint hit: its name, the device, the skb's length and protocol, and a detail or drop reason.</summary>
    public abstract void Event(string tracepoint, NetDevice? dev, int length, ushort protocol, string? detail);
}
