using System.Buffers.Binary;
using System.Text;
using Emu.Emulator.Machine;

namespace Emu.Emulator.Wire;

/// <summary>
/// Writes what a port sees to a capture file, timestamped by the virtual clock: pcapng (LINKTYPE_ETHERNET, nanosecond
/// resolution, inbound/outbound flags, dropped frames with a comment naming the counter that dropped them; the pcapng
/// specification, draft-ietf-opsawg-pcapng) or classic pcap. Frames are written as they come; <see cref="Dispose"/>
/// flushes.
/// </summary>
public sealed class PacketCapture : IPacketTap, IDisposable
{
    private const ushort LinkTypeEthernet = 1;
    private const int SnapLength = 262_144;
    private readonly Stream _stream;
    private readonly EventScheduler _clock;
    private readonly byte[] _buffer = new byte[SnapLength + 1024];
    private readonly bool _ownsStream;

    public PacketCapture(Stream stream, EventScheduler clock, CaptureFormat format = CaptureFormat.PcapNg, string interfaceName = "e1000", bool ownsStream = true)
    {
        _stream = stream;
        _clock = clock;
        _ownsStream = ownsStream;
        Format = format;
        if (format == CaptureFormat.PcapNg)
        {
            WriteSectionHeader();
            WriteInterfaceDescription(interfaceName);
        }
        else
        {
            Span<byte> header = stackalloc byte[24];
            BinaryPrimitives.WriteUInt32LittleEndian(header, 0xA1B2_3C4D);   // nanosecond-resolution pcap
            BinaryPrimitives.WriteUInt16LittleEndian(header[4..], 2);
            BinaryPrimitives.WriteUInt16LittleEndian(header[6..], 4);
            BinaryPrimitives.WriteUInt32LittleEndian(header[16..], SnapLength);
            BinaryPrimitives.WriteUInt32LittleEndian(header[20..], LinkTypeEthernet);
            _stream.Write(header);
        }
    }

    public CaptureFormat Format { get; }

    public long FramesWritten { get; private set; }

    /// <summary>Flush the stream after every frame: a live reader of a pipe (<c>--pcap -</c> into Wireshark) sees each frame as it comes.</summary>
    public bool FlushEachFrame { get; init; }

    public static PacketCapture Create(string path, EventScheduler clock, CaptureFormat format = CaptureFormat.PcapNg)
        => new(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read), clock, format, Path.GetFileNameWithoutExtension(path));

    public void Tap(ReadOnlySpan<byte> frame, bool outbound, string? dropReason) => Tap(frame, outbound, dropReason, comment: null);

    /// <summary>A frame with an optional note (the faults that acted on it): pcapng writes it in opt_comment.</summary>
    public void Tap(ReadOnlySpan<byte> frame, bool outbound, string? dropReason, string? comment)
    {
        if (frame.Length > SnapLength)
        {
            frame = frame[..SnapLength];
        }

        ulong now = (ulong)Math.Max(0, _clock.Now);
        if (Format == CaptureFormat.Pcap)
        {
            if (dropReason is not null)
            {
                return;
            }

            Span<byte> record = _buffer.AsSpan(0, 16 + frame.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(record, (uint)(now / 1_000_000_000));
            BinaryPrimitives.WriteUInt32LittleEndian(record[4..], (uint)(now % 1_000_000_000));
            BinaryPrimitives.WriteUInt32LittleEndian(record[8..], (uint)frame.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(record[12..], (uint)frame.Length);
            frame.CopyTo(record[16..]);
            _stream.Write(record);
            FramesWritten++;
            FlushIfStreaming();
            return;
        }

        // Enhanced Packet Block (type 6) with epb_flags (direction) and, for a drop, opt_comment.
        int padded = Align4(frame.Length);
        // opt_comment: "dropped: REASON", the note, or both ("dropped: fault 3 loss" comes as the reason alone).
        const string Dropped = "dropped: ";
        const string Separator = "; ";
        int commentLength = (dropReason is null ? 0 : Dropped.Length + Encoding.UTF8.GetByteCount(dropReason))
            + (dropReason is not null && comment is not null ? Separator.Length : 0)
            + (comment is null ? 0 : Encoding.UTF8.GetByteCount(comment));
        int options = 8 + (commentLength > 0 ? 4 + Align4(commentLength) : 0) + 4;
        int total = 28 + padded + options + 4;
        Span<byte> block = _buffer.AsSpan(0, total);
        block.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(block, 6);
        BinaryPrimitives.WriteUInt32LittleEndian(block[4..], (uint)total);
        BinaryPrimitives.WriteUInt32LittleEndian(block[8..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(block[12..], (uint)(now >> 32));
        BinaryPrimitives.WriteUInt32LittleEndian(block[16..], (uint)now);
        BinaryPrimitives.WriteUInt32LittleEndian(block[20..], (uint)frame.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(block[24..], (uint)frame.Length);
        frame.CopyTo(block[28..]);
        int at = 28 + padded;
        BinaryPrimitives.WriteUInt16LittleEndian(block[at..], 2);          // epb_flags
        BinaryPrimitives.WriteUInt16LittleEndian(block[(at + 2)..], 4);
        BinaryPrimitives.WriteUInt32LittleEndian(block[(at + 4)..], outbound ? 2u : 1u);
        at += 8;
        if (commentLength > 0)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(block[at..], 1);      // opt_comment
            BinaryPrimitives.WriteUInt16LittleEndian(block[(at + 2)..], (ushort)commentLength);
            int c = at + 4;
            if (dropReason is not null)
            {
                c += Encoding.UTF8.GetBytes(Dropped, block[c..]);
                c += Encoding.UTF8.GetBytes(dropReason, block[c..]);
                if (comment is not null)
                {
                    c += Encoding.UTF8.GetBytes(Separator, block[c..]);
                }
            }

            if (comment is not null)
            {
                Encoding.UTF8.GetBytes(comment, block[c..]);
            }

            at += 4 + Align4(commentLength);
        }

        at += 4;                                                            // opt_endofopt
        BinaryPrimitives.WriteUInt32LittleEndian(block[at..], (uint)total);
        _stream.Write(block);
        FramesWritten++;
        FlushIfStreaming();
    }

    public void Dispose()
    {
        _stream.Flush();
        if (_ownsStream)
        {
            _stream.Dispose();
        }
    }

    private static int Align4(int n) => (n + 3) & ~3;

    private void FlushIfStreaming()
    {
        if (FlushEachFrame)
        {
            _stream.Flush();
        }
    }

    private void WriteSectionHeader()
    {
        Span<byte> block = stackalloc byte[28];
        BinaryPrimitives.WriteUInt32LittleEndian(block, 0x0A0D_0D0A);
        BinaryPrimitives.WriteUInt32LittleEndian(block[4..], 28);
        BinaryPrimitives.WriteUInt32LittleEndian(block[8..], 0x1A2B_3C4D);
        BinaryPrimitives.WriteUInt16LittleEndian(block[12..], 1);
        BinaryPrimitives.WriteUInt16LittleEndian(block[14..], 0);
        BinaryPrimitives.WriteInt64LittleEndian(block[16..], -1);
        BinaryPrimitives.WriteUInt32LittleEndian(block[24..], 28);
        _stream.Write(block);
    }

    private void WriteInterfaceDescription(string name)
    {
        byte[] nameBytes = Encoding.UTF8.GetBytes(name);
        int options = 4 + Align4(nameBytes.Length) + 4 + 4 + 4;   // if_name, if_tsresol, end
        int total = 16 + options + 4;
        Span<byte> block = stackalloc byte[total];
        block.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(block, 1);
        BinaryPrimitives.WriteUInt32LittleEndian(block[4..], (uint)total);
        BinaryPrimitives.WriteUInt16LittleEndian(block[8..], LinkTypeEthernet);
        BinaryPrimitives.WriteUInt32LittleEndian(block[12..], SnapLength);
        int at = 16;
        BinaryPrimitives.WriteUInt16LittleEndian(block[at..], 2);          // if_name
        BinaryPrimitives.WriteUInt16LittleEndian(block[(at + 2)..], (ushort)nameBytes.Length);
        nameBytes.CopyTo(block[(at + 4)..]);
        at += 4 + Align4(nameBytes.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(block[at..], 9);          // if_tsresol: 10^-9 s
        BinaryPrimitives.WriteUInt16LittleEndian(block[(at + 2)..], 1);
        block[at + 4] = 9;
        at += 8;
        at += 4;                                                            // opt_endofopt
        BinaryPrimitives.WriteUInt32LittleEndian(block[at..], (uint)total);
        _stream.Write(block);
    }
}
