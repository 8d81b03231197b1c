using System.Buffers.Binary;
using System.IO.Hashing;
using K4os.Compression.LZ4;

namespace Emu.Emulator.Replay;

/// <summary>
/// Writes a session trace (<see cref="TraceFormat"/>) as the session runs: records gather in one reused block buffer,
/// which is LZ4-compressed and written when it passes <see cref="TraceFormat.BlockTarget"/>, so memory stays bounded
/// whatever the session's length. An I/O failure (a full disk, a vanished directory) never throws out of a record
/// call: the writer stops, <see cref="Error"/> says why, and every later call returns false. Use on one thread.
/// </summary>
public sealed class TraceWriter : IDisposable
{
    private readonly Stream _stream;
    private byte[] _block = new byte[TraceFormat.BlockTarget + 1024];
    private byte[] _compressed = new byte[LZ4Codec.MaximumOutputSize(TraceFormat.BlockTarget + 1024)];
    private readonly byte[] _blockHeader = new byte[TraceFormat.BlockHeaderLength];
    private int _length;
    private long _lastTime;
    private bool _disposed;

    private TraceWriter(Stream stream)
    {
        _stream = stream;
    }

    /// <summary>Records written, the header included.</summary>
    public long Records { get; private set; }

    /// <summary>Compressed bytes written so far.</summary>
    public long BytesWritten { get; private set; }

    /// <summary>Why the writer stopped, or null while it works.</summary>
    public string? Error { get; private set; }

    /// <summary>Creates <paramref name="path"/> (replacing it) and writes the magic, the version and the header.</summary>
    public static bool TryCreate(string path, TraceHeader header, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out TraceWriter? writer, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        writer = null;
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            error = $"--record {path}: {e.Message}";
            return false;
        }

        return TryCreate(stream, header, out writer, out error);
    }

    /// <summary>Writes to <paramref name="stream"/> (owned).</summary>
    public static bool TryCreate(Stream stream, TraceHeader header, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out TraceWriter? writer, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        var created = new TraceWriter(stream);
        Span<byte> start = stackalloc byte[12];
        TraceFormat.Magic.CopyTo(start);
        BinaryPrimitives.WriteUInt32LittleEndian(start[8..], TraceFormat.Version);
        if (!created.TryWriteRaw(start) || !created.Append(TraceRecordKind.Header, 0, header.ToJson()) || !created.Flush())
        {
            error = created.Error!;
            created.Dispose();
            writer = null;
            return false;
        }

        writer = created;
        error = null;
        return true;
    }

    /// <summary>Appends one record at virtual time <paramref name="time"/> (never earlier than the last one's).</summary>
    public bool Append(TraceRecordKind kind, long time, ReadOnlySpan<byte> payload)
    {
        if (Error is not null || _disposed)
        {
            return false;
        }

        if (payload.Length > TraceFormat.MaxPayload)
        {
            Error = $"a {kind} record of {payload.Length} bytes is over the format's {TraceFormat.MaxPayload}";
            return false;
        }

        int needed = 1 + 10 + 5 + payload.Length;
        if (_length > 0 && _length + needed > TraceFormat.BlockTarget && !FlushBlock())
        {
            return false;
        }

        if (_length + needed > _block.Length)
        {
            Array.Resize(ref _block, _length + needed);
            _compressed = new byte[LZ4Codec.MaximumOutputSize(_block.Length)];
        }

        long delta = Math.Max(0, time - _lastTime);
        _lastTime = Math.Max(_lastTime, time);
        _block[_length++] = (byte)kind;
        _length += Leb128.Write(_block.AsSpan(_length), (ulong)delta);
        _length += Leb128.Write(_block.AsSpan(_length), (ulong)payload.Length);
        payload.CopyTo(_block.AsSpan(_length));
        _length += payload.Length;
        Records++;
        return true;
    }

    /// <summary>Compresses and writes what is gathered, and flushes the file.</summary>
    public bool Flush()
    {
        if (!FlushBlock())
        {
            return false;
        }

        try
        {
            _stream.Flush();
            return true;
        }
        catch (IOException e)
        {
            Error = e.Message;
            return false;
        }
    }

    private bool FlushBlock()
    {
        if (_length == 0 || Error is not null)
        {
            return Error is null;
        }

        int stored = LZ4Codec.Encode(_block, 0, _length, _compressed, 0, _compressed.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(_blockHeader, (uint)_length);
        BinaryPrimitives.WriteUInt32LittleEndian(_blockHeader.AsSpan(4), (uint)stored);
        BinaryPrimitives.WriteUInt32LittleEndian(_blockHeader.AsSpan(8), Crc32.HashToUInt32(_block.AsSpan(0, _length)));
        _length = 0;
        return TryWriteRaw(_blockHeader) && TryWriteRaw(_compressed.AsSpan(0, stored));
    }

    private bool TryWriteRaw(ReadOnlySpan<byte> bytes)
    {
        try
        {
            _stream.Write(bytes);
            BytesWritten += bytes.Length;
            return true;
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or NotSupportedException)
        {
            Error = e.Message;
            return false;
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        Flush();
        _disposed = true;
        try
        {
            _stream.Dispose();
        }
        catch (IOException e)
        {
            Error ??= e.Message;
        }
    }
}
