using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Emu.Stack.Wire;

/// <summary>The Internet checksum (RFC 1071) and the IPv6 pseudo-header sum (RFC 8200 §8.1).</summary>
public static class Checksum
{
    /// <summary>Adds bytes as big-endian 16-bit words to a running sum (folded to 16 bits).</summary>
    public static uint Add(uint sum, ReadOnlySpan<byte> data)
    {
        ulong accumulator = 0;
        ReadOnlySpan<uint> words = MemoryMarshal.Cast<byte, uint>(data);
        foreach (uint w in words)
        {
            accumulator += w;
        }

        int i = words.Length * 4;
        for (; i + 1 < data.Length; i += 2)
        {
            accumulator += BinaryPrimitives.ReadUInt16LittleEndian(data[i..]);
        }

        if (i < data.Length)
        {
            accumulator += data[i];
        }

        while (accumulator > 0xFFFF)
        {
            accumulator = (accumulator & 0xFFFF) + (accumulator >> 16);
        }

        return Fold(sum + BinaryPrimitives.ReverseEndianness((ushort)accumulator));
    }

    public static uint Fold(uint sum)
    {
        while (sum > 0xFFFF)
        {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }

        return sum;
    }

    /// <summary>The pseudo-header: source, destination, upper-layer length, next header.</summary>
    public static uint PseudoHeader(Ipv6Address source, Ipv6Address destination, int length, byte nextHeader)
    {
        Span<byte> p = stackalloc byte[40];
        source.Write(p);
        destination.Write(p[16..]);
        BinaryPrimitives.WriteUInt32BigEndian(p[32..], (uint)length);
        p[36] = 0;
        p[37] = 0;
        p[38] = 0;
        p[39] = nextHeader;
        return Add(0, p);
    }

    /// <summary>The checksum field value for an upper-layer message (its checksum field zeroed).</summary>
    public static ushort Compute(Ipv6Address source, Ipv6Address destination, byte nextHeader, ReadOnlySpan<byte> message)
        => (ushort)~Fold(Add(PseudoHeader(source, destination, message.Length, nextHeader), message));

    /// <summary>True when a received message's checksum (included) verifies.</summary>
    public static bool Verify(Ipv6Address source, Ipv6Address destination, byte nextHeader, ReadOnlySpan<byte> message)
        => Add(PseudoHeader(source, destination, message.Length, nextHeader), message) == 0xFFFF;
}
