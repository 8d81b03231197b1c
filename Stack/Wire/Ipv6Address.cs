using System.Buffers.Binary;
using System.Net;

namespace Emu.Stack.Wire;

/// <summary>An IPv6 address as a value (RFC 4291), comparable and hashable without allocation.</summary>
public readonly record struct Ipv6Address(ulong High, ulong Low)
{
    public static readonly Ipv6Address Unspecified = default;
    public static readonly Ipv6Address Loopback = new(0, 1);

    /// <summary>ff02::1, all nodes (RFC 4291 §2.7.1).</summary>
    public static readonly Ipv6Address AllNodes = Parse("ff02::1");

    /// <summary>ff02::2, all routers.</summary>
    public static readonly Ipv6Address AllRouters = Parse("ff02::2");

    /// <summary>ff02::16, all MLDv2-capable routers (RFC 3810 §5.2.14).</summary>
    public static readonly Ipv6Address AllMldv2Routers = Parse("ff02::16");

    public static Ipv6Address Read(ReadOnlySpan<byte> bytes) => new(BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]));

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, High);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], Low);
    }

    public static Ipv6Address Parse(string text)
    {
        IPAddress address = IPAddress.Parse(text);
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        return Read(bytes);
    }

    public static bool TryParse(string text, out Ipv6Address address)
    {
        address = default;
        int percent = text.IndexOf('%', StringComparison.Ordinal);
        if (percent >= 0)
        {
            text = text[..percent];
        }

        if (!IPAddress.TryParse(text, out IPAddress? ip) || ip.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[16];
        ip.TryWriteBytes(bytes, out _);
        address = Read(bytes);
        return true;
    }

    public bool IsUnspecified => High == 0 && Low == 0;

    public bool IsLoopback => High == 0 && Low == 1;

    public bool IsMulticast => (High >> 56) == 0xFF;

    /// <summary>fe80::/10.</summary>
    public bool IsLinkLocal => (High >> 54) == (0xFE80UL >> 6);

    /// <summary>The multicast scope (RFC 4291 §2.7): 1 interface, 2 link, 5 site, 0xE global.</summary>
    public int MulticastScope => (int)((High >> 48) & 0xF);

    /// <summary>ff02::1:ffXX:XXXX for this address (RFC 4291 §2.7.1).</summary>
    public Ipv6Address SolicitedNode => new(0xFF02_0000_0000_0000UL, 0x0000_0001_FF00_0000UL | (Low & 0xFF_FFFF));

    /// <summary>The Ethernet multicast address for an IPv6 multicast group: 33:33 and the low 32 bits (RFC 2464 §7).</summary>
    public void MulticastMac(Span<byte> mac)
    {
        mac[0] = 0x33;
        mac[1] = 0x33;
        BinaryPrimitives.WriteUInt32BigEndian(mac[2..], (uint)Low);
    }

    /// <summary>fe80::/64 with the modified EUI-64 interface identifier of a MAC (RFC 4291 Appendix A).</summary>
    public static Ipv6Address LinkLocalFromMac(ReadOnlySpan<byte> mac) => new(0xFE80_0000_0000_0000UL, InterfaceIdFromMac(mac));

    public static ulong InterfaceIdFromMac(ReadOnlySpan<byte> mac)
        => ((ulong)(mac[0] ^ 0x02) << 56) | ((ulong)mac[1] << 48) | ((ulong)mac[2] << 40) | (0xFFUL << 32) | (0xFEUL << 24)
           | ((ulong)mac[3] << 16) | ((ulong)mac[4] << 8) | mac[5];

    public bool MatchesPrefix(Ipv6Address prefix, int length)
    {
        if (length <= 0)
        {
            return true;
        }

        if (length <= 64)
        {
            ulong mask = length == 64 ? ulong.MaxValue : ~(ulong.MaxValue >> length);
            return (High & mask) == (prefix.High & mask);
        }

        ulong lowMask = length >= 128 ? ulong.MaxValue : ~(ulong.MaxValue >> (length - 64));
        return High == prefix.High && (Low & lowMask) == (prefix.Low & lowMask);
    }

    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[16];
        Write(bytes);
        return new IPAddress(bytes).ToString();
    }
}
