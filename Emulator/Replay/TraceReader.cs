using System.Buffers.Binary;
using System.IO.Hashing;
using K4os.Compression.LZ4;

namespace Emu.Emulator.Replay;

/// <summary>
/// Reads a session trace back, record by record. Bad input of any kind — a wrong magic or version, a block cut off,
/// a CRC that does not match, LZ4 that does not decode, a record running past its block, lengths past the format's
/// limits — ends the reading with <see cref="Error"/> naming the block and byte offset; nothing throws and nothing
/// allocates more than the limits allow.
/// </summary>
public sealed class TraceReader : IDisposable
{
    private readonly Stream _stream;
    private readonly string _name;
    private readonly byte[] _blockHeader = new byte[TraceFormat.BlockHeaderLength];
    private byte[] _raw = new byte[TraceFormat.BlockTarget + 1024];
    private byte[] _stored = new byte[LZ4Codec.MaximumOutputSize(TraceFormat.BlockTarget + 1024)];
    private int _rawLength;
    private int _position;
    private long _blockIndex = -1;
    private long _blockOffset;
    private long _fileOffset;
    private long _time;
    private long _nextIndex;

    private TraceReader(Stream stream, string name)
    {
        _stream = stream;
        _name = name;
    }

    /// <summary>The session's header (read by <see cref="TryOpen(string, out TraceReader?, out string?)"/>).</summary>
    public TraceHeader Header { get; private set; } = new();

    /// <summary>Why reading stopped early, or null.</summary>
    public string? Error { get; private set; }

    /// <summary>Opens a trace file and reads its header.</summary>
    public static bool TryOpen(string path, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out TraceReader? reader, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        reader = null;
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            error = $"{path}: {e.Message}";
            return false;
        }

        return TryOpen(stream, path, out reader, out error);
    }

    /// <summary>Reads a trace from <paramref name="stream"/> (owned); <paramref name="name"/> names it in errors.</summary>
    public static bool TryOpen(Stream stream, string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out TraceReader? reader, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        var created = new TraceReader(stream, name);
        reader = null;
        Span<byte> start = stackalloc byte[12];
        if (created.ReadExactly(start) != start.Length || !start[..8].SequenceEqual(TraceFormat.Magic))
        {
            error = $"{name}: not an Emu session trace (no EMUTRACE magic)";
            created.Dispose();
            return false;
        }

        uint version = BinaryPrimitives.ReadUInt32LittleEndian(start[8..]);
        if (version != TraceFormat.Version)
        {
            error = $"{name}: trace format version {version}; this Emu reads version {TraceFormat.Version}";
            created.Dispose();
            return false;
        }

        if (!created.TryNext(out TraceRecord first))
        {
            error = created.Error ?? $"{name}: the trace ends before its header";
            created.Dispose();
            return false;
        }

        if (first.Kind != TraceRecordKind.Header)
        {
            error = $"{name}: the first record is {first.Kind}, not the header";
            created.Dispose();
            return false;
        }

        if (!TraceHeader.TryParse(first.Payload, out TraceHeader? header, out string? headerError))
        {
            error = $"{name}: {headerError}";
            created.Dispose();
            return false;
        }

        created.Header = header;
        reader = created;
        error = null;
        return true;
    }

    /// <summary>The next record; false at the end of the file (<see cref="Error"/> null) or on bad input (set).</summary>
    public bool TryNext(out TraceRecord record)
    {
        record = default;
        if (Error is not null)
        {
            return false;
        }

        if (_position >= _rawLength && !NextBlock())
        {
            return false;
        }

        ReadOnlySpan<byte> rest = _raw.AsSpan(_position, _rawLength - _position);
        byte kind = rest[0];
        if (kind is < (byte)TraceRecordKind.Header or > (byte)TraceRecordKind.End)
        {
            return Fail($"record {_nextIndex} has unknown kind {kind}");
        }

        if (!Leb128.TryRead(rest[1..], out ulong delta, out int deltaLength) || delta > long.MaxValue / 2
            || !Leb128.TryRead(rest[(1 + deltaLength)..], out ulong length, out int lengthLength) || length > TraceFormat.MaxPayload)
        {
            return Fail($"record {_nextIndex} has a malformed time or length");
        }

        int header = 1 + deltaLength + lengthLength;
        if ((ulong)(rest.Length - header) < length)
        {
            return Fail($"record {_nextIndex} runs past the end of its block");
        }

        _time = checked(_time + (long)delta);
        record = new TraceRecord((TraceRecordKind)kind, _time, _nextIndex++, rest.Slice(header, (int)length));
        _position += header + (int)length;
        return true;
    }

    private bool NextBlock()
    {
        _blockOffset = _fileOffset;
        int got = ReadExactly(_blockHeader);
        if (got == 0)
        {
            return false;   // a clean end: between blocks
        }

        _blockIndex++;
        if (got < _blockHeader.Length)
        {
            return Fail("the file is cut off in a block header");
        }

        uint raw = BinaryPrimitives.ReadUInt32LittleEndian(_blockHeader);
        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(_blockHeader.AsSpan(4));
        uint crc = BinaryPrimitives.ReadUInt32LittleEndian(_blockHeader.AsSpan(8));
        if (raw == 0 || raw > TraceFormat.MaxBlock || stored == 0 || stored > (uint)LZ4Codec.MaximumOutputSize((int)raw))
        {
            return Fail($"the block header gives impossible lengths (raw {raw}, stored {stored})");
        }

        if (_raw.Length < raw)
        {
            _raw = new byte[raw];
        }

        if (_stored.Length < stored)
        {
            _stored = new byte[stored];
        }

        if (ReadExactly(_stored.AsSpan(0, (int)stored)) < stored)
        {
            return Fail($"the file is cut off inside the block ({stored} bytes expected)");
        }

        int decoded = LZ4Codec.Decode(_stored, 0, (int)stored, _raw, 0, (int)raw);
        if (decoded != raw)
        {
            return Fail("the block's LZ4 data does not decode");
        }

        if (Crc32.HashToUInt32(_raw.AsSpan(0, (int)raw)) != crc)
        {
            return Fail("the block's CRC-32 does not match its contents");
        }

        _rawLength = (int)raw;
        _position = 0;
        return true;
    }

    private int ReadExactly(Span<byte> buffer)
    {
        int total = 0;
        try
        {
            while (total < buffer.Length)
            {
                int n = _stream.Read(buffer[total..]);
                if (n == 0)
                {
                    break;
                }

                total += n;
            }
        }
        catch (IOException e)
        {
            Error = $"{_name}: {e.Message}";
        }

        _fileOffset += total;
        return total;
    }

    private bool Fail(string what)
    {
        Error ??= $"{_name}: block {_blockIndex} (at byte {_blockOffset}): {what}";
        return false;
    }

    public void Dispose() => _stream.Dispose();
}
