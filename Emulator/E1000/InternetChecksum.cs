using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Emu.Emulator.E1000;

/// <summary>
/// The 16-bit one's-complement sum of RFC 1071, as the 8254x checksum offloads compute it. The sum is independent of
/// byte order (RFC 1071 §2(B)), so it adds 32-bit little-endian chunks into a 64-bit accumulator and swaps at the end.
/// </summary>
public static class InternetChecksum
{
    /// <summary>Adds <paramref name="data"/> as big-endian 16-bit words (an odd last byte is the high byte) to a running sum.</summary>
    public static uint Add(uint sum, ReadOnlySpan<byte> data)
    {
        ulong accumulator = 0;
        int i = 0;
        ReadOnlySpan<uint> words = MemoryMarshal.Cast<byte, uint>(data);
        foreach (uint w in words)
        {
            accumulator += w;
        }

        i = words.Length * 4;
        for (; i + 1 < data.Length; i += 2)
        {
            accumulator += BinaryPrimitives.ReadUInt16LittleEndian(data[i..]);
        }

        if (i < data.Length)
        {
            accumulator += data[i];
        }

        // Fold to 16 bits in little-endian order, then swap to the network order the caller's sum uses.
        while (accumulator > 0xFFFF)
        {
            accumulator = (accumulator & 0xFFFF) + (accumulator >> 16);
        }

        uint swapped = BinaryPrimitives.ReverseEndianness((ushort)accumulator);
        return Fold(sum + swapped);
    }

    /// <summary>Folds carries into 16 bits.</summary>
    public static uint Fold(uint sum)
    {
        while (sum > 0xFFFF)
        {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }

        return sum;
    }

    /// <summary>The checksum field value: the complement of the folded sum.</summary>
    public static ushort Finish(uint sum) => (ushort)~Fold(sum);
}
