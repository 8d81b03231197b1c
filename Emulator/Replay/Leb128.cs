namespace Emu.Emulator.Replay;

/// <summary>Unsigned LEB128, as the trace format stores times and lengths.</summary>
public static class Leb128
{
    public static int Write(Span<byte> destination, ulong value)
    {
        int i = 0;
        while (value >= 0x80)
        {
            destination[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        destination[i++] = (byte)value;
        return i;
    }

    /// <summary>Reads one value; false when the bytes end first or it runs past 64 bits.</summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out ulong value, out int length)
    {
        value = 0;
        length = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (length >= source.Length)
            {
                return false;
            }

            byte b = source[length++];
            if (shift == 63 && b > 1)
            {
                return false;
            }

            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return true;
            }
        }

        return false;
    }
}
