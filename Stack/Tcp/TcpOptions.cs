using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Emu.Stack.Tcp;

/// <summary>Up to four SACK blocks (RFC 2018 §3), left and right edges interleaved.</summary>
[InlineArray(8)]
public struct SackEdges
{
    private uint _element;
}

/// <summary>
/// The TCP options Emu reads and writes: MSS (RFC 9293 §3.7.1), Window Scale and Timestamps (RFC 7323), SACK-Permitted
/// and SACK (RFC 2018). Parsing never throws; a malformed option list is a reason, not an exception.
/// </summary>
public struct TcpOptions
{
    public const byte End = 0;
    public const byte Nop = 1;
    public const byte MssKind = 2;
    public const byte WindowScaleKind = 3;
    public const byte SackPermittedKind = 4;
    public const byte SackKind = 5;
    public const byte TimestampKind = 8;

    /// <summary>RFC 7323 §2.3: the largest shift.</summary>
    public const int MaxWindowScale = 14;

    public ushort Mss;

    /// <summary>The peer's shift, or -1 when the option is absent.</summary>
    public int WindowScale;

    public bool SackPermitted;

    public bool HasTimestamp;

    public uint TsVal;

    public uint TsEcr;

    public int SackCount;

    public SackEdges Sack;

    public static TcpOptions None => new() { WindowScale = -1 };

    public readonly (uint Left, uint Right) SackBlock(int i) => (Sack[2 * i], Sack[(2 * i) + 1]);

    /// <summary>Parses the option bytes of a segment; false when an option runs past the header or has a bad length.</summary>
    public static bool TryParse(ReadOnlySpan<byte> options, out TcpOptions parsed)
    {
        parsed = None;
        int i = 0;
        while (i < options.Length)
        {
            byte kind = options[i];
            if (kind == End)
            {
                break;
            }

            if (kind == Nop)
            {
                i++;
                continue;
            }

            if (i + 1 >= options.Length)
            {
                return false;
            }

            int length = options[i + 1];
            if (length < 2 || i + length > options.Length)
            {
                return false;
            }

            ReadOnlySpan<byte> o = options.Slice(i, length);
            switch (kind)
            {
                case MssKind when length == 4:
                    parsed.Mss = BinaryPrimitives.ReadUInt16BigEndian(o[2..]);
                    break;
                case WindowScaleKind when length == 3:
                    // RFC 7323 §2.3: a shift above 14 is used as 14.
                    parsed.WindowScale = Math.Min((int)o[2], MaxWindowScale);
                    break;
                case SackPermittedKind when length == 2:
                    parsed.SackPermitted = true;
                    break;
                case TimestampKind when length == 10:
                    parsed.HasTimestamp = true;
                    parsed.TsVal = BinaryPrimitives.ReadUInt32BigEndian(o[2..]);
                    parsed.TsEcr = BinaryPrimitives.ReadUInt32BigEndian(o[6..]);
                    break;
                case SackKind when length >= 10 && (length - 2) % 8 == 0:
                    parsed.SackCount = Math.Min(4, (length - 2) / 8);
                    for (int b = 0; b < parsed.SackCount; b++)
                    {
                        parsed.Sack[2 * b] = BinaryPrimitives.ReadUInt32BigEndian(o[(2 + (8 * b))..]);
                        parsed.Sack[(2 * b) + 1] = BinaryPrimitives.ReadUInt32BigEndian(o[(6 + (8 * b))..]);
                    }

                    break;
                case MssKind or WindowScaleKind or SackPermittedKind or TimestampKind or SackKind:
                    return false;   // a known option with the wrong length
            }

            i += length;
        }

        return true;
    }

    /// <summary>
    /// Writes options in Linux's order and padding (MSS; SACK-Permitted with Timestamps; NOP, Window Scale; SACK blocks
    /// behind two NOPs), so that our SYN looks like Linux's. Returns the length, a multiple of 4.
    /// </summary>
    public static int Write(Span<byte> o, ushort mss, bool sackPermitted, bool timestamp, uint tsVal, uint tsEcr, int windowScale, ReadOnlySpan<uint> sackEdges)
    {
        int at = 0;
        if (mss != 0)
        {
            o[at] = MssKind;
            o[at + 1] = 4;
            BinaryPrimitives.WriteUInt16BigEndian(o[(at + 2)..], mss);
            at += 4;
        }

        if (timestamp)
        {
            if (sackPermitted)
            {
                o[at] = SackPermittedKind;
                o[at + 1] = 2;
            }
            else
            {
                o[at] = Nop;
                o[at + 1] = Nop;
            }

            o[at + 2] = TimestampKind;
            o[at + 3] = 10;
            BinaryPrimitives.WriteUInt32BigEndian(o[(at + 4)..], tsVal);
            BinaryPrimitives.WriteUInt32BigEndian(o[(at + 8)..], tsEcr);
            at += 12;
        }
        else if (sackPermitted)
        {
            o[at] = Nop;
            o[at + 1] = Nop;
            o[at + 2] = SackPermittedKind;
            o[at + 3] = 2;
            at += 4;
        }

        if (windowScale >= 0)
        {
            o[at] = Nop;
            o[at + 1] = WindowScaleKind;
            o[at + 2] = 3;
            o[at + 3] = (byte)windowScale;
            at += 4;
        }

        int blocks = sackEdges.Length / 2;
        if (blocks > 0)
        {
            o[at] = Nop;
            o[at + 1] = Nop;
            o[at + 2] = SackKind;
            o[at + 3] = (byte)(2 + (8 * blocks));
            at += 4;
            for (int b = 0; b < blocks; b++)
            {
                BinaryPrimitives.WriteUInt32BigEndian(o[at..], sackEdges[2 * b]);
                BinaryPrimitives.WriteUInt32BigEndian(o[(at + 4)..], sackEdges[(2 * b) + 1]);
                at += 8;
            }
        }

        return at;
    }
}
