namespace Emu.Driver.E1000;

/// <summary>The module parameters of e1000_param.c, with their defaults, plus the seed's napi=off receive path.</summary>
public sealed record E1000Options
{
    public int TxDescriptors { get; init; } = E1000Adapter.DefaultDescriptors;

    public int RxDescriptors { get; init; } = E1000Adapter.DefaultDescriptors;

    /// <summary>TxIntDelay (TIDV), 1.024 µs units.</summary>
    public uint TxIntDelay { get; init; } = 8;

    /// <summary>TxAbsIntDelay (TADV).</summary>
    public uint TxAbsIntDelay { get; init; } = 32;

    /// <summary>RxIntDelay (RDTR).</summary>
    public uint RxIntDelay { get; init; }

    /// <summary>RxAbsIntDelay (RADV).</summary>
    public uint RxAbsIntDelay { get; init; } = 8;

    /// <summary>InterruptThrottleRate in interrupts/s (ITR = 10^9 / (rate × 256)); 0 turns throttling off.</summary>
    public int InterruptThrottleRate { get; init; } = 20_000;

    /// <summary>copybreak: frames shorter than this are copied into a small skb and the buffer is reused.</summary>
    public int Copybreak { get; init; } = 256;

    public bool RxChecksum { get; init; } = true;

    /// <summary>napi=off: the interrupt handler cleans the receive ring itself and hands each skb to netif_rx.</summary>
    public bool Napi { get; init; } = true;
}
