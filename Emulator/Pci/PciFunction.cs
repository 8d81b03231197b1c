namespace Emu.Emulator.Pci;

/// <summary>
/// A PCI function on the bus: configuration space, BARs decoded from it, and one INTx pin. Subclasses implement the
/// BAR accesses; the bus decides whether an access reaches them (COMMAND.IO/MEM, the BAR's programmed base).
/// </summary>
public abstract class PciFunction
{
    private readonly List<PciBar> _bars = [];

    protected PciFunction(string name)
    {
        Name = name;
    }

    public string Name { get; }

    public PciConfigSpace Config { get; } = new();

    public IReadOnlyList<PciBar> Bars => _bars;

    /// <summary>The level the function drives on its INTx pin (before COMMAND.INTX_DISABLE).</summary>
    public virtual bool IntxLevel => false;

    /// <summary>INTA = 1 … INTD = 4, 0 for none (config 0x3D).</summary>
    public int InterruptPin => Config.GetByte(PciConfigSpace.InterruptPin);

    public ushort Command => Config.GetWord(PciConfigSpace.Command);

    public bool BusMasterEnabled => (Command & PciConfigSpace.CommandBusMaster) != 0;

    protected PciBar AddBar(int index, PciBarKind kind, uint size, int minAccessSize = 1)
    {
        int offset = kind == PciBarKind.ExpansionRom ? PciConfigSpace.ExpansionRom : PciConfigSpace.Bar0 + (4 * index);
        var bar = new PciBar(index, offset, kind, size, minAccessSize);
        _bars.Add(bar);
        switch (kind)
        {
            case PciBarKind.Io:
                Config.SetDword(offset, 0x1);
                Config.SetWriteMask(offset, 4, bar.AddressMask);
                break;
            case PciBarKind.ExpansionRom:
                Config.SetDword(offset, 0);
                Config.SetWriteMask(offset, 4, (~(size - 1) & 0xFFFF_F800) | 0x1);
                break;
            default:
                Config.SetDword(offset, 0);
                Config.SetWriteMask(offset, 4, bar.AddressMask);
                break;
        }

        return bar;
    }

    /// <summary>
    /// The bus address a BAR decodes, or null when it decodes nothing: its COMMAND enable bit is clear, the base is 0,
    /// or the range reaches the top of the 32-bit space (a 32-bit BAR; QEMU's pci_bar_address applies the same rules).
    /// </summary>
    public ulong? BarAddress(PciBar bar)
    {
        uint raw = Config.GetDword(bar.ConfigOffset);
        ushort command = Command;
        ulong address;
        switch (bar.Kind)
        {
            case PciBarKind.Io:
                if ((command & PciConfigSpace.CommandIo) == 0)
                {
                    return null;
                }

                address = raw & bar.AddressMask;
                if (address == 0 || address + bar.Size > 0x1_0000)
                {
                    return null;
                }

                return address;
            case PciBarKind.ExpansionRom:
                if ((command & PciConfigSpace.CommandMemory) == 0 || (raw & 1) == 0)
                {
                    return null;
                }

                address = raw & ~(bar.Size - 1) & 0xFFFF_F800;
                break;
            default:
                if ((command & PciConfigSpace.CommandMemory) == 0)
                {
                    return null;
                }

                address = raw & bar.AddressMask;
                break;
        }

        // A 32-bit BAR whose last byte reaches 0xFFFFFFFF is not decoded (QEMU's pci_bar_address).
        if (address == 0 || address + bar.Size >= 0x1_0000_0000)
        {
            return null;
        }

        return address;
    }

    /// <summary>A guest configuration write (already through the masks); subclasses react to what changed.</summary>
    public virtual void ConfigWrite(int offset, int size, uint value) => Config.Write(offset, size, value);

    public virtual uint ConfigRead(int offset, int size) => Config.Read(offset, size);

    /// <summary>A read of <paramref name="size"/> (1, 2, 4 or 8) bytes at an offset into a BAR.</summary>
    public virtual ulong BarRead(PciBar bar, ulong offset, int size) => 0;

    public virtual void BarWrite(PciBar bar, ulong offset, int size, ulong value)
    {
    }

    /// <summary>The PCI reset (RST#): COMMAND, STATUS, BARs, interrupt line and cache line to their reset state.</summary>
    public virtual void PciReset()
    {
        Config.SetWord(PciConfigSpace.Command, 0);
        Config.SetWord(PciConfigSpace.Status, (ushort)(Config.GetWord(PciConfigSpace.Status) & ~0xF908 & 0xFFFF));
        Config.SetByte(PciConfigSpace.CacheLineSize, 0);
        Config.SetByte(PciConfigSpace.InterruptLine, 0);
        foreach (PciBar bar in _bars)
        {
            Config.SetDword(bar.ConfigOffset, bar.Kind == PciBarKind.Io ? 1u : 0u);
        }
    }
}
