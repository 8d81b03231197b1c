using System.Buffers.Binary;

namespace Emu.Stack.Wire;

/// <summary>The fixed IPv6 header (RFC 8200 §3), read in place; <see cref="TryRead"/> never throws.</summary>
public readonly ref struct Ipv6Header
{
    public const int Length = 40;
    private readonly ReadOnlySpan<byte> _bytes;

    private Ipv6Header(ReadOnlySpan<byte> bytes) => _bytes = bytes;

    public static bool TryRead(ReadOnlySpan<byte> packet, out Ipv6Header header, out Ipv6Drop reason)
    {
        header = default;
        if (packet.Length < Length)
        {
            reason = Ipv6Drop.Truncated;
            return false;
        }

        if (packet[0] >> 4 != 6)
        {
            reason = Ipv6Drop.BadVersion;
            return false;
        }

        header = new Ipv6Header(packet[..Length]);
        reason = Ipv6Drop.None;
        return true;
    }

    public byte TrafficClass => (byte)((BinaryPrimitives.ReadUInt16BigEndian(_bytes) >> 4) & 0xFF);

    public uint FlowLabel => BinaryPrimitives.ReadUInt32BigEndian(_bytes) & 0xF_FFFF;

    public ushort PayloadLength => BinaryPrimitives.ReadUInt16BigEndian(_bytes[4..]);

    public byte NextHeader => _bytes[6];

    public byte HopLimit => _bytes[7];

    public Ipv6Address Source => Ipv6Address.Read(_bytes[8..]);

    public Ipv6Address Destination => Ipv6Address.Read(_bytes[24..]);

    /// <summary>Writes a header (version 6, traffic class 0, the given 20-bit flow label).</summary>
    public static void Write(Span<byte> destination, int payloadLength, byte nextHeader, byte hopLimit, Ipv6Address source, Ipv6Address dest, uint flowLabel = 0)
    {
        BinaryPrimitives.WriteUInt32BigEndian(destination, 0x6000_0000 | (flowLabel & 0xF_FFFF));
        BinaryPrimitives.WriteUInt16BigEndian(destination[4..], (ushort)payloadLength);
        destination[6] = nextHeader;
        destination[7] = hopLimit;
        source.Write(destination[8..]);
        dest.Write(destination[24..]);
    }
}

/// <summary>Why an IPv6 packet was dropped on input; each maps to the SNMP counter that counts it.</summary>
public enum Ipv6Drop
{
    None,
    Truncated,
    BadVersion,
    HeaderError,
    AddressError,
    UnknownProtocol,
    TooBig,
    Discard,
}

/// <summary>IPv6 next-header values (IANA protocol numbers).</summary>
public static class IpProto
{
    public const byte HopByHop = 0;
    public const byte Tcp = 6;
    public const byte Udp = 17;
    public const byte Routing = 43;
    public const byte Fragment = 44;
    public const byte Icmpv6 = 58;
    public const byte NoNext = 59;
    public const byte DestOptions = 60;
}
