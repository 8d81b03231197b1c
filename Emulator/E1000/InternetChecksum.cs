using System.Buffers.Binary;

namespace Emu.Emulator.E1000;

/// <summary>The 16-bit one's-complement sum of RFC 1071, as the 8254x checksum offloads compute it.</summary>
public static class InternetChecksum
{
    /// <summary>Adds <paramref name="data"/> as big-endian 16-bit words (an odd last byte is the high byte) to a running sum.</summary>
    public static uint Add(uint sum, ReadOnlySpan<byte> data)
    {
        int i = 0;
        for (; i + 1 < data.Length; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
        }

        if (i < data.Length)
        {
            sum += (uint)data[i] << 8;
        }

        return Fold(sum);
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
