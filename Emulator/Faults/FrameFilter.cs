using System.Buffers.Binary;
using System.Globalization;

namespace Emu.Emulator.Faults;

/// <summary>
/// The frame filters of issue 21: EtherType, the IPv6 upper-layer protocol (after extension headers), a TCP/UDP port
/// (source or destination), the frame's length range, and TCP flags (all named set). Matching reads the frame and
/// never throws or allocates; a frame too short for a field does not match.
/// </summary>
public sealed class FrameFilter
{
    private const ushort EtherTypeIpv6 = 0x86DD;
    private const ushort EtherTypeVlan = 0x8100;

    private FrameFilter()
    {
    }

    public int? EtherType { get; private init; }

    public int? Protocol { get; private init; }

    public int? Port { get; private init; }

    public int MinLength { get; private init; }

    public int MaxLength { get; private init; } = int.MaxValue;

    /// <summary>TCP flag bits that must all be set (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, URG 0x20), or 0.</summary>
    public byte TcpFlags { get; private init; }

    /// <summary>The EtherType a frame must have to match (the IPv6 one when proto, port or tcpflags are given), or -1.</summary>
    public int RequiredEtherType => EtherType ?? (Protocol is not null || Port is not null || TcpFlags != 0 ? EtherTypeIpv6 : -1);

    /// <summary>A frame's EtherType as <see cref="Matches"/> reads it (past one 802.1Q tag); -2 for a frame without one.</summary>
    public static int EtherTypeOf(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < 14)
        {
            return -2;
        }

        ushort type = BinaryPrimitives.ReadUInt16BigEndian(frame[12..]);
        return type == EtherTypeVlan && frame.Length >= 18 ? BinaryPrimitives.ReadUInt16BigEndian(frame[16..]) : type;
    }

    public bool Matches(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < MinLength || frame.Length > MaxLength)
        {
            return false;
        }

        if (frame.Length < 14)
        {
            return EtherType is null && Protocol is null && Port is null && TcpFlags == 0;
        }

        int offset = 12;
        ushort type = BinaryPrimitives.ReadUInt16BigEndian(frame[offset..]);
        if (type == EtherTypeVlan && frame.Length >= 18)
        {
            offset += 4;
            type = BinaryPrimitives.ReadUInt16BigEndian(frame[offset..]);
        }

        if (EtherType is { } wanted && type != wanted)
        {
            return false;
        }

        if (Protocol is null && Port is null && TcpFlags == 0)
        {
            return true;
        }

        if (type != EtherTypeIpv6 || !TryUpperLayer(frame[(offset + 2)..], out int next, out int upper))
        {
            return false;
        }

        if (Protocol is { } proto && next != proto)
        {
            return false;
        }

        ReadOnlySpan<byte> l4 = frame[(offset + 2 + upper)..];
        if (Port is { } port)
        {
            if ((next != 6 && next != 17) || l4.Length < 4)
            {
                return false;
            }

            if (BinaryPrimitives.ReadUInt16BigEndian(l4) != port && BinaryPrimitives.ReadUInt16BigEndian(l4[2..]) != port)
            {
                return false;
            }
        }

        if (TcpFlags != 0)
        {
            if (next != 6 || l4.Length < 14 || (l4[13] & TcpFlags) != TcpFlags)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>RFC 8200 §4: walks hop-by-hop, routing, fragment and destination options headers (and AH) to the upper layer.</summary>
    private static bool TryUpperLayer(ReadOnlySpan<byte> packet, out int next, out int offset)
    {
        next = 0;
        offset = 40;
        if (packet.Length < 40 || packet[0] >> 4 != 6)
        {
            return false;
        }

        next = packet[6];
        for (int hops = 0; hops < 16; hops++)
        {
            switch (next)
            {
                case 0 or 43 or 60:
                    if (packet.Length < offset + 2)
                    {
                        return false;
                    }

                    next = packet[offset];
                    offset += (packet[offset + 1] + 1) * 8;
                    break;
                case 44:
                    if (packet.Length < offset + 8)
                    {
                        return false;
                    }

                    next = packet[offset];
                    offset += 8;
                    break;
                case 51:
                    if (packet.Length < offset + 2)
                    {
                        return false;
                    }

                    next = packet[offset];
                    offset += (packet[offset + 1] + 2) * 4;
                    break;
                default:
                    return offset <= packet.Length;
            }
        }

        return false;
    }

    internal static bool TryParse(IReadOnlyDictionary<string, string> keys, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out FrameFilter? filter, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        filter = null;
        int? etherType = null, protocol = null, port = null;
        int min = 0, max = int.MaxValue;
        byte flags = 0;
        foreach ((string key, string value) in keys)
        {
            switch (key)
            {
                case "ethertype":
                    etherType = value == "ipv6" ? EtherTypeIpv6 : FaultSpec.TryParseInteger(value, out long t) && t <= 0xFFFF ? (int)t : -1;
                    if (etherType < 0)
                    {
                        error = $"ethertype='{value}' is not ipv6 or a number up to 0xFFFF";
                        return false;
                    }

                    break;
                case "proto":
                    protocol = value switch { "icmpv6" => 58, "tcp" => 6, "udp" => 17, _ => byte.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out byte n) ? n : -1 };
                    if (protocol < 0)
                    {
                        error = $"proto='{value}' is not icmpv6, tcp, udp or a number up to 255";
                        return false;
                    }

                    break;
                case "port":
                    if (!ushort.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out ushort p))
                    {
                        error = $"port='{value}' is not a port number (0 to 65535)";
                        return false;
                    }

                    port = p;
                    break;
                case "len":
                    string[] range = value.Split('-');
                    if (range.Length != 2 || !int.TryParse(range[0], NumberStyles.None, CultureInfo.InvariantCulture, out min) || !int.TryParse(range[1], NumberStyles.None, CultureInfo.InvariantCulture, out max))
                    {
                        error = $"len='{value}' is not a range MIN-MAX";
                        return false;
                    }

                    if (min > max)
                    {
                        error = $"len='{value}' cannot match: MIN is above MAX";
                        return false;
                    }

                    break;
                case "tcpflags":
                    foreach (char c in value)
                    {
                        byte bit = c switch { 'F' => 0x01, 'S' => 0x02, 'R' => 0x04, 'P' => 0x08, 'A' => 0x10, 'U' => 0x20, _ => 0 };
                        if (bit == 0)
                        {
                            error = $"tcpflags='{value}': '{c}' is not one of S, A, F, R, P, U";
                            return false;
                        }

                        flags |= bit;
                    }

                    if (flags == 0)
                    {
                        error = "tcpflags= names no flag";
                        return false;
                    }

                    break;
            }
        }

        // Filters that cannot match together are an error, not a silent no-op.
        bool ipv6Only = protocol is not null || port is not null || flags != 0;
        if (ipv6Only && etherType is not null && etherType != EtherTypeIpv6)
        {
            error = $"proto, port and tcpflags look inside IPv6: they cannot match ethertype=0x{etherType:x4}";
            return false;
        }

        if (port is not null && protocol is not null && protocol is not (6 or 17))
        {
            error = $"port= needs TCP or UDP: it cannot match proto={protocol}";
            return false;
        }

        if (flags != 0 && protocol is not null && protocol != 6)
        {
            error = $"tcpflags= needs TCP: it cannot match proto={protocol}";
            return false;
        }

        if (max < 14 && (etherType is not null || ipv6Only))
        {
            error = $"len={min}-{max} is shorter than an Ethernet header: the other filters cannot match";
            return false;
        }

        filter = new FrameFilter { EtherType = etherType, Protocol = protocol, Port = port, MinLength = min, MaxLength = max, TcpFlags = flags };
        error = null;
        return true;
    }
}
