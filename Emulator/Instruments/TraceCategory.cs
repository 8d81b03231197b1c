namespace Emu.Emulator.Instruments;

/// <summary>What <c>--trace</c> can show; one flag a category.</summary>
[Flags]
public enum TraceCategory
{
    None = 0,

    /// <summary>Register reads and writes, decoded (§13.4).</summary>
    Regs = 1 << 0,

    /// <summary>EEPROM words read through EERD or Microwire (§5.3).</summary>
    Eeprom = 1 << 1,

    /// <summary>PHY registers read and written through MDIC (§13.4.7).</summary>
    Phy = 1 << 2,

    /// <summary>Transmit and receive descriptors as the device consumes and writes them back (§3.2, §3.3).</summary>
    Desc = 1 << 3,

    /// <summary>Every DMA transfer into or out of guest memory.</summary>
    Dma = 1 << 4,

    /// <summary>INTx edges with the causes behind them (§13.4.17).</summary>
    Irq = 1 << 5,

    /// <summary>Frames at the device's port, in and out, and those dropped.</summary>
    Wire = 1 << 6,

    /// <summary>sk_buffs through the driver and the net core (dev_queue_xmit, netif_receive_skb, drops).</summary>
    Skb = 1 << 7,

    /// <summary>TCP state changes, retransmissions and congestion events.</summary>
    Tcp = 1 << 8,

    All = Regs | Eeprom | Phy | Desc | Dma | Irq | Wire | Skb | Tcp,
}

/// <summary>Parses the <c>--trace</c> list.</summary>
public static class TraceCategories
{
    public const string Names = "regs, eeprom, phy, desc, dma, irq, wire, skb, tcp, all";

    public static bool TryParse(string text, out TraceCategory categories, out string? error)
    {
        categories = TraceCategory.None;
        error = null;
        foreach (string raw in text.Split(','))
        {
            string name = raw.Trim().ToLowerInvariant();
            TraceCategory? one = name switch
            {
                "regs" => TraceCategory.Regs,
                "eeprom" => TraceCategory.Eeprom,
                "phy" => TraceCategory.Phy,
                "desc" => TraceCategory.Desc,
                "dma" => TraceCategory.Dma,
                "irq" => TraceCategory.Irq,
                "wire" => TraceCategory.Wire,
                "skb" => TraceCategory.Skb,
                "tcp" => TraceCategory.Tcp,
                "all" => TraceCategory.All,
                _ => null,
            };
            if (one is null)
            {
                error = name.Length == 0 ? $"an empty name in the list (the names: {Names})" : $"'{name}' is not a trace category (the names: {Names})";
                categories = TraceCategory.None;
                return false;
            }

            categories |= one.Value;
        }

        return true;
    }
}
