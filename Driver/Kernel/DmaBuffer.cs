namespace Emu.Driver.Kernel;

/// <summary>A region of guest RAM a device can DMA to: its bus address and size.</summary>
public readonly record struct DmaBuffer(ulong Address, int Size)
{
    public bool IsValid => Size > 0;
}
