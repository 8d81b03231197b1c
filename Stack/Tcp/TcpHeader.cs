using System.Buffers.Binary;

namespace Emu.Stack.Tcp;

/// <summary>The fixed TCP header (RFC 9293 §3.1) and its options, as read from a segment. Parsing never throws.</summary>
public struct TcpHeader
{
    public const int MinLength = 20;

    public ushort SourcePort;
    public ushort DestinationPort;
    public uint Seq;
    public uint Ack;
    public int DataOffset;
    public TcpFlags Flags;
    public ushort Window;
    public ushort Urgent;
    public TcpOptions Options;

    public readonly bool Has(TcpFlags flag) => (Flags & flag) != 0;

    /// <summary>Reads a segment's header; false (with the reason) for a short segment, a bad data offset or bad options.</summary>
    public static bool TryParse(ReadOnlySpan<byte> segment, out TcpHeader header, out string? reason)
    {
        header = default;
        reason = null;
        if (segment.Length < MinLength)
        {
            reason = "shorter than a TCP header";
            return false;
        }

        header.SourcePort = BinaryPrimitives.ReadUInt16BigEndian(segment);
        header.DestinationPort = BinaryPrimitives.ReadUInt16BigEndian(segment[2..]);
        header.Seq = BinaryPrimitives.ReadUInt32BigEndian(segment[4..]);
        header.Ack = BinaryPrimitives.ReadUInt32BigEndian(segment[8..]);
        header.DataOffset = (segment[12] >> 4) * 4;
        header.Flags = (TcpFlags)segment[13];
        header.Window = BinaryPrimitives.ReadUInt16BigEndian(segment[14..]);
        header.Urgent = BinaryPrimitives.ReadUInt16BigEndian(segment[18..]);
        if (header.DataOffset < MinLength || header.DataOffset > segment.Length)
        {
            reason = "data offset outside the segment";
            return false;
        }

        if (!TcpOptions.TryParse(segment[MinLength..header.DataOffset], out header.Options))
        {
            reason = "malformed options";
            return false;
        }

        return true;
    }

    /// <summary>Writes the fixed header (checksum 0) with <paramref name="headerLength"/> covering the options.</summary>
    public static void Write(Span<byte> h, ushort sourcePort, ushort destinationPort, uint seq, uint ack, int headerLength, TcpFlags flags, ushort window)
    {
        BinaryPrimitives.WriteUInt16BigEndian(h, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(h[2..], destinationPort);
        BinaryPrimitives.WriteUInt32BigEndian(h[4..], seq);
        BinaryPrimitives.WriteUInt32BigEndian(h[8..], ack);
        h[12] = (byte)((headerLength / 4) << 4);
        h[13] = (byte)flags;
        BinaryPrimitives.WriteUInt16BigEndian(h[14..], window);
        h[16] = 0;
        h[17] = 0;
        h[18] = 0;
        h[19] = 0;
    }
}
