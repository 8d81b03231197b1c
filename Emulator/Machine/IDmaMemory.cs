namespace Emu.Emulator.Machine;

/// <summary>
/// What a bus-master device reaches by DMA: guest physical memory on the in-process machine, a client's mapped regions
/// under vfio-user. An access outside it returns false; the device counts the error.
/// </summary>
public interface IDmaMemory
{
    bool TryRead(ulong address, Span<byte> destination);

    bool TryWrite(ulong address, ReadOnlySpan<byte> source);
}
