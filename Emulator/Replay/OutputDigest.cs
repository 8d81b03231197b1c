using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace Emu.Emulator.Replay;

/// <summary>
/// A running digest of a node's outputs (XxHash64): each frame sent to the wire with its virtual time, and each kernel
/// log line. A recording stores it at intervals; a replay computes it the same way and compares. Allocates nothing
/// per frame; text goes through a reused buffer.
/// </summary>
public sealed class OutputDigest
{
    private readonly XxHash64 _hash = new();
    private readonly byte[] _prefix = new byte[13];
    private byte[] _text = new byte[256];

    /// <summary>How many outputs went in.</summary>
    public ulong Count { get; private set; }

    public ulong Value => _hash.GetCurrentHashAsUInt64();

    public void AddFrame(long time, ReadOnlySpan<byte> frame)
    {
        _prefix[0] = (byte)'F';
        BinaryPrimitives.WriteInt64LittleEndian(_prefix.AsSpan(1), time);
        BinaryPrimitives.WriteInt32LittleEndian(_prefix.AsSpan(9), frame.Length);
        _hash.Append(_prefix);
        _hash.Append(frame);
        Count++;
    }

    public void AddText(char tag, string text) => AddText(tag, text.AsSpan());

    public void AddText(char tag, ReadOnlySpan<char> text)
    {
        int needed = Encoding.UTF8.GetMaxByteCount(text.Length) + 5;
        if (_text.Length < needed)
        {
            _text = new byte[needed];
        }

        _text[0] = (byte)tag;
        int length = Encoding.UTF8.GetBytes(text, _text.AsSpan(5));
        BinaryPrimitives.WriteInt32LittleEndian(_text.AsSpan(1), length);
        _hash.Append(_text.AsSpan(0, length + 5));
        Count++;
    }
}
