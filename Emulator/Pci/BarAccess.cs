namespace Emu.Emulator.Pci;

/// <summary>
/// An access to a BAR, split and widened as QEMU's memory core does it, so that a device sees the same accesses whether
/// it sits on the in-process bus or behind vfio-user: pieces of at most 4 bytes, no wider than the offset's alignment,
/// and pieces narrower than the region's minimum access size widened at the same offset.
/// </summary>
public static class BarAccess
{
    /// <summary>QEMU's memory_access_size: at most 4 bytes, no more than the address's alignment, a power of two.</summary>
    public static int ChunkSize(ulong address, int remaining)
    {
        int max = 4;
        ulong alignment = address & (~address + 1);
        if (alignment != 0 && alignment < (ulong)max)
        {
            max = (int)alignment;
        }

        int size = Math.Min(remaining, max);
        return size >= 4 ? 4 : size >= 2 ? 2 : 1;
    }

    public static ulong Mask(int size) => size >= 8 ? ulong.MaxValue : (1UL << (8 * size)) - 1;

    /// <summary>One piece (from <see cref="ChunkSize"/>) of a read.</summary>
    public static ulong ReadPiece(PciFunction function, PciBar bar, ulong offset, int size)
        => size < bar.MinAccessSize
            ? function.BarRead(bar, offset, bar.MinAccessSize) & Mask(size)
            : function.BarRead(bar, offset, size);

    /// <summary>One piece (from <see cref="ChunkSize"/>) of a write.</summary>
    public static void WritePiece(PciFunction function, PciBar bar, ulong offset, int size, ulong value)
    {
        if (size < bar.MinAccessSize)
        {
            function.BarWrite(bar, offset, bar.MinAccessSize, value & Mask(size));
        }
        else
        {
            function.BarWrite(bar, offset, size, value);
        }
    }

    /// <summary>A read of <paramref name="destination"/>.Length bytes at <paramref name="offset"/> into the BAR.</summary>
    public static void Read(PciFunction function, PciBar bar, ulong offset, Span<byte> destination)
    {
        int done = 0;
        while (done < destination.Length)
        {
            ulong at = offset + (ulong)done;
            int chunk = ChunkSize(at, destination.Length - done);
            ulong value = ReadPiece(function, bar, at, chunk);
            for (int i = 0; i < chunk; i++)
            {
                destination[done + i] = (byte)(value >> (8 * i));
            }

            done += chunk;
        }
    }

    /// <summary>A write of <paramref name="source"/> at <paramref name="offset"/> into the BAR.</summary>
    public static void Write(PciFunction function, PciBar bar, ulong offset, ReadOnlySpan<byte> source)
    {
        int done = 0;
        while (done < source.Length)
        {
            ulong at = offset + (ulong)done;
            int chunk = ChunkSize(at, source.Length - done);
            ulong value = 0;
            for (int i = 0; i < chunk; i++)
            {
                value |= (ulong)source[done + i] << (8 * i);
            }

            WritePiece(function, bar, at, chunk, value);
            done += chunk;
        }
    }
}
