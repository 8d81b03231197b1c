namespace Emu.Driver.Kernel;

/// <summary>An ioremap'd memory BAR: readl/writel at offsets from its bus address (include/asm-generic/io.h).</summary>
public sealed class IoMem(IPlatformBus bus, ulong baseAddress, ulong length)
{
    public ulong BaseAddress { get; } = baseAddress;

    public ulong Length { get; } = length;

    public uint Readl(uint offset) => (uint)bus.Read(BaseAddress + offset, 4);

    public void Writel(uint offset, uint value) => bus.Write(BaseAddress + offset, 4, value);

    public ushort Readw(uint offset) => (ushort)bus.Read(BaseAddress + offset, 2);

    public byte Readb(uint offset) => (byte)bus.Read(BaseAddress + offset, 1);
}
