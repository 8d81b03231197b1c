namespace Emu.Emulator.Pci;

/// <summary>One base address register: its config offset, kind and decoded size (a power of two).</summary>
/// <param name="MinAccessSize">
/// The narrowest access the region's handler takes: a narrower one reaches it widened to this size at the same offset
/// (reads keep the low bytes of the result; writes are zero-extended), as QEMU's memory core treats such a region.
/// </param>
public sealed record PciBar(int Index, int ConfigOffset, PciBarKind Kind, uint Size, int MinAccessSize = 1)
{
    /// <summary>The writable address bits of the BAR (PCI 3.0 §6.2.5.1: low bits hard-wired by size).</summary>
    public uint AddressMask => Kind switch
    {
        PciBarKind.Io => ~(Size - 1) & 0xFFFF_FFFC,
        _ => ~(Size - 1) & 0xFFFF_FFF0,
    };
}
