using Emu.Emulator.Replay;

namespace Emu.Tests.Replay;

/// <summary>The session trace's container (issue 22): what is written reads back; every kind of damage is a clear error naming where, never an exception.</summary>
public sealed class TraceFileTests
{
    private static readonly TraceHeader Header = new() { Mode = "run", Eeprom = new ushort[64], Ipv6Seed = 3, CommandLine = ["emu", "run"] };

    private static byte[] Trace(int frames, bool end = true)
    {
        var stream = new MemoryStream();
        Assert.True(TraceWriter.TryCreate(new KeepOpen(stream), Header, out TraceWriter? writer, out string? error), error);
        var random = new Random(1);
        for (int i = 0; i < frames; i++)
        {
            byte[] frame = new byte[60 + (i % 1400)];
            random.NextBytes(frame.AsSpan(0, 20));   // mostly zeros: compresses, yet not trivially
            Assert.True(writer.Append(TraceRecordKind.FrameIn, i * 1000L, frame));
        }

        if (end)
        {
            Assert.True(writer.Append(TraceRecordKind.End, frames * 1000L, new byte[16]));
        }

        writer.Dispose();
        return stream.ToArray();
    }

    private static (int Records, string? Error) ReadAll(byte[] bytes)
    {
        if (!TraceReader.TryOpen(new MemoryStream(bytes), "t.trace", out TraceReader? reader, out string? error))
        {
            return (-1, error);
        }

        using (reader)
        {
            int n = 0;
            while (reader.TryNext(out _))
            {
                n++;
            }

            return (n, reader.Error);
        }
    }

    private static List<string> Payloads(byte[] bytes)
    {
        var list = new List<string>();
        Assert.True(TraceReader.TryOpen(new MemoryStream(bytes), "t.trace", out TraceReader? reader, out _));
        using (reader)
        {
            while (reader.TryNext(out TraceRecord r))
            {
                list.Add($"{r.Kind} {r.Time} {Convert.ToHexString(r.Payload)}");
            }
        }

        return list;
    }

    [Fact]
    public void RecordsComeBackInOrderWithTheirTimesAndPayloads()
    {
        byte[] bytes = Trace(500);
        Assert.True(TraceReader.TryOpen(new MemoryStream(bytes), "t.trace", out TraceReader? reader, out string? error), error);
        using (reader)
        {
            Assert.Equal(3, reader.Header.Ipv6Seed);
            Assert.Equal(["emu", "run"], reader.Header.CommandLine);
            for (int i = 0; i < 500; i++)
            {
                Assert.True(reader.TryNext(out TraceRecord r));
                Assert.Equal(TraceRecordKind.FrameIn, r.Kind);
                Assert.Equal(i * 1000L, r.Time);
                Assert.Equal(i + 1, r.Index);
                Assert.Equal(60 + (i % 1400), r.Payload.Length);
            }

            Assert.True(reader.TryNext(out TraceRecord last));
            Assert.Equal(TraceRecordKind.End, last.Kind);
            Assert.False(reader.TryNext(out _));
            Assert.Null(reader.Error);
        }

        Assert.True(bytes.Length < 500 * 700 / 4, $"{bytes.Length} bytes: LZ4 should shrink these frames");
    }

    [Fact]
    public void ACutAnywhereIsAnErrorOrACleanEndBetweenBlocksNeverAnException()
    {
        byte[] bytes = Trace(300);
        for (int cut = 0; cut < bytes.Length; cut += 97)
        {
            (int records, string? error) = ReadAll(bytes[..cut]);
            if (records < 0)
            {
                Assert.NotNull(error);   // before the header's block ended
                continue;
            }

            Assert.True(error is null || error.Contains("cut off", StringComparison.Ordinal), error);
            Assert.True(records <= 301);
        }
    }

    [Fact]
    public void FlippedBitsAreCaughtByTheBlockCrcOrTheLz4Decoder()
    {
        byte[] bytes = Trace(300);
        int caught = 0;
        for (int at = 40; at < bytes.Length; at += 211)
        {
            byte[] damaged = (byte[])bytes.Clone();
            damaged[at] ^= 0x10;
            (int records, string? error) = ReadAll(damaged);
            if (error is null)
            {
                // LZ4 can decode a changed match offset to the same bytes (one run of zeros for another): then the
                // data is intact, and must read back exactly.
                Assert.Equal(Payloads(bytes), Payloads(damaged));
                continue;
            }

            Assert.Matches(@"t\.trace: (block \d+ \(at byte \d+\): )?.+", error);
            caught++;
        }

        Assert.True(caught > 10);
    }

    [Fact]
    public void WrongMagicOrVersionOrHeaderAreNamed()
    {
        byte[] bytes = Trace(1);
        Assert.Contains("not an Emu session trace", ReadAll("PK\u0003\u0004 not a trace"u8.ToArray()).Error);
        byte[] version = (byte[])bytes.Clone();
        version[8] = 9;
        Assert.Contains("trace format version 9; this Emu reads version 1", ReadAll(version).Error);
        Assert.Contains("ends before its header", ReadAll(bytes[..12]).Error);
    }

    [Fact]
    public void AWriterOnAFullDiskStopsWithTheReasonAndNeverThrows()
    {
        var full = new FullAfter(64 * 1024);
        Assert.True(TraceWriter.TryCreate(full, Header, out TraceWriter? writer, out string? error), error);
        byte[] frame = new byte[1500];
        new Random(2).NextBytes(frame);
        int written = 0;
        while (written < 10_000 && writer.Append(TraceRecordKind.FrameIn, written, frame))
        {
            written++;
        }

        Assert.True(written < 10_000);
        Assert.Contains("No space left", writer.Error);
        Assert.False(writer.Append(TraceRecordKind.FrameIn, written, frame));
        writer.Dispose();
    }

    [Fact]
    public void AnUnwritablePathIsAClearError()
    {
        Assert.False(TraceWriter.TryCreate("/proc/emu-cannot/write.trace", Header, out _, out string? error));
        Assert.StartsWith("--record /proc/emu-cannot/write.trace: ", error);
    }

    /// <summary>A stream whose Dispose leaves the bytes readable.</summary>
    private sealed class KeepOpen(MemoryStream inner) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => inner.Length;

        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
    }

    /// <summary>A disk that fills after <paramref name="room"/> bytes.</summary>
    private sealed class FullAfter(int room) : Stream
    {
        private long _written;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => _written;

        public override long Position { get => Length; set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count)
        {
            if (_written + count > room)
            {
                throw new IOException("No space left on device");
            }

            _written += count;
        }
    }
}

/// <summary><c>emu bench replay</c> runs its sessions and replays the trace it made (the figures are for people, not asserted).</summary>
public sealed class ReplayBenchCommandTests
{
    [Fact]
    public void BenchReplayRecordsReplaysAndSaysTheReplayMatched()
    {
        (int status, string output, string errors) = Tools.EmuCli.Run("", "bench", "replay", "--megabytes", "2", "--rounds", "1");
        Assert.True(status == 0, output + errors);
        Assert.Contains("replay: outputs identical to the recording", output, StringComparison.Ordinal);
        Assert.Matches(@"record overhead [+-]\d+\.\d %", output);
        Assert.Matches(@"fraction \d\.\d{3}", output);
        (status, output, _) = Tools.EmuCli.Run("", "bench", "replay", "--megabytes", "0");
        Assert.Equal(2, status);
        Assert.Contains("--megabytes must be between 1 and 4096", output, StringComparison.Ordinal);
    }
}
