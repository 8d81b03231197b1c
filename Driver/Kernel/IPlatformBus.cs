namespace Emu.Driver.Kernel;

/// <summary>
/// Everything a guest kernel reaches of the machine: port I/O, physical memory accesses (MMIO or RAM) of 1–8 bytes,
/// guest RAM for DMA, and the interrupt inputs. A driver touches a device only through this (and never holds a
/// reference to a device model), so a test can run it over a bus that records every access.
/// </summary>
public interface IPlatformBus
{
    uint In(ushort port, int size);

    void Out(ushort port, int size, uint value);

    ulong Read(ulong address, int size);

    void Write(ulong address, int size, ulong value);

    /// <summary>Guest RAM, for the DMA API (coherent rings and streaming buffers).</summary>
    bool TryReadRam(ulong address, Span<byte> destination);

    bool TryWriteRam(ulong address, ReadOnlySpan<byte> source);

    ulong RamSize { get; }

    /// <summary>Raised with (gsi, level) when an interrupt input changes.</summary>
    event Action<int, bool>? InterruptChanged;

    bool InterruptLevel(int gsi);
}
