using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Emu.Host;
using Emu.Host.Status;

namespace Emu.Tests.Host.Status;

/// <summary>
/// <c>--stats-json</c>, <c>--summary json</c> and <c>--pcap -</c> on the command line: JSON lines that parse, a
/// summary with every group, and a pcapng stream on standard output with nothing else in it.
/// </summary>
public sealed class StatusCommandLineTests
{
    private const uint SectionHeaderBlock = 0x0A0D_0D0A;
    private const uint EnhancedPacketBlock = 6;

    [Fact]
    public void QtestWritesJsonLinesToStderrAsVirtualTimePassesEachInterval()
    {
        var stdout = new StringWriter { NewLine = "\n" };
        var stderr = new StringWriter();
        string script = "clock_step 1000000000\nclock_step 1000000000\nclock_step 1000000000\nreadl 0xfebc0008\n";
        int code = EmuCommandLine.Run(["qtest", "--stats-json", "-", "--stats-interval", "1"], new StringReader(script), stdout, stderr);
        Assert.Equal(0, code);
        Assert.DoesNotContain("{", stdout.ToString());   // stdout is the protocol's
        List<JsonDocument> lines = JsonLines(stderr.ToString());
        Assert.Equal(3, lines.Count);
        Assert.Equal([1_000_000_000L, 2_000_000_000L, 3_000_000_000L], lines.Select(l => l.RootElement.GetProperty("time").GetProperty("virtual_ns").GetInt64()));
        Assert.True(lines[0].RootElement.GetProperty("e1000").TryGetProperty("GPRC", out _));
    }

    [Fact]
    public void QtestSummaryJsonGoesToStderrAndStatsJsonToAFile()
    {
        string file = Path.Combine(Path.GetTempPath(), $"emu-stats-{Guid.NewGuid():N}.jsonl");
        try
        {
            var stdout = new StringWriter { NewLine = "\n" };
            var stderr = new StringWriter();
            int code = EmuCommandLine.Run(["qtest", "--stats-json", file, "--stats-interval", "0.5", "--summary", "json"], new StringReader("clock_step 1000000000\n"), stdout, stderr);
            Assert.Equal(0, code);
            Assert.Equal("OK 1000000000\n", stdout.ToString());
            JsonDocument summary = Assert.Single(JsonLines(stderr.ToString()));
            AssertHasDeviceGroups(summary.RootElement);
            Assert.False(summary.RootElement.TryGetProperty("snmp6", out _));   // no stack in qtest
            Assert.Single(JsonLines(File.ReadAllText(file)));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void PcapToStdoutIsRefusedForQtestAndWithStatsJsonToStdout()
    {
        var stderr = new StringWriter();
        Assert.Equal(2, EmuCommandLine.Run(["qtest", "--pcap", "-"], new StringReader(string.Empty), new StringWriter(), stderr));
        Assert.Contains("qtest protocol", stderr.ToString());
        stderr = new StringWriter();
        Assert.Equal(2, EmuCommandLine.Run(["run", "--pcap", "-", "--stats-json", "-"], new StringReader(string.Empty), new StringWriter(), stderr));
        Assert.Contains("cannot both", stderr.ToString());
    }

    [Fact]
    public void RunWritesJsonLinesToStdoutAndItsTextToStderr()
    {
        var stdout = new StringWriter { NewLine = "\n" };
        var stderr = new StringWriter();
        int code = EmuCommandLine.Run(["run", "--netdev", DgramNetdev(), "--stats-json", "-", "--stats-interval", "0.2", "--duration", "1.5", "--summary", "json"], new StringReader(string.Empty), TextWriter.Synchronized(stdout), TextWriter.Synchronized(stderr));
        Assert.Equal(0, code);
        List<JsonDocument> lines = JsonLines(stdout.ToString());
        Assert.True(lines.Count >= 4, stdout.ToString());
        foreach (JsonDocument line in lines)
        {
            AssertHasDeviceGroups(line.RootElement);
            Assert.True(line.RootElement.GetProperty("snmp6").TryGetProperty("Ip6InReceives", out _));
            Assert.True(line.RootElement.GetProperty("netdev").TryGetProperty("frames_out", out _));
        }

        long[] times = lines.Select(l => l.RootElement.GetProperty("time").GetProperty("virtual_ns").GetInt64()).ToArray();
        Assert.Equal(times.Order(), times);

        // The last line on stderr is the summary, as JSON; the banner is there too.
        string err = stderr.ToString();
        Assert.Contains("emu run: node up", err);
        JsonDocument summary = JsonLines(err).Last();
        AssertHasDeviceGroups(summary.RootElement);
        Assert.True(summary.RootElement.GetProperty("snmp6").GetProperty("Ip6OutRequests").GetInt64() > 0);
        Assert.DoesNotContain("stopped after", err);
    }

    [Fact]
    public void RunWithPcapToStdoutWritesOnlyPcapng()
    {
        using var capture = new MemoryStream();
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = EmuCommandLine.Run(["run", "--netdev", DgramNetdev(), "--pcap", "-", "--duration", "1.5"], new StringReader(string.Empty), TextWriter.Synchronized(stdout), TextWriter.Synchronized(stderr), capture);
        Assert.Equal(0, code);
        Assert.Equal(string.Empty, stdout.ToString());
        Assert.Contains("emu run: node up", stderr.ToString());
        Assert.Contains("stopped after", stderr.ToString());
        AssertPcapng(capture.ToArray());
    }

    [Fact]
    public async Task EmuRunProcessStreamsPcapngOnStdout()
    {
        // The real process, as `emu run --pcap - | wireshark -k -i -` runs it.
        string emu = Path.Combine(AppContext.BaseDirectory, "emu.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in (string[])[emu, "run", "--netdev", DgramNetdev(), "--pcap", "-", "--duration", "2"])
        {
            start.ArgumentList.Add(arg);
        }

        using Process process = Process.Start(start)!;
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var stdout = new MemoryStream();
        await process.StandardOutput.BaseStream.CopyToAsync(stdout);
        Assert.True(process.WaitForExit(60_000));
        Assert.Equal(0, process.ExitCode);
        Assert.Contains("emu run: node up", await stderr);
        AssertPcapng(stdout.ToArray());
    }

    [Fact]
    public async Task EmuRunDrawsNoLiveViewWhenItsOutputIsRedirected()
    {
        string emu = Path.Combine(AppContext.BaseDirectory, "emu.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in (string[])[emu, "run", "--netdev", DgramNetdev(), "--duration", "1"])
        {
            start.ArgumentList.Add(arg);
        }

        using Process process = Process.Start(start)!;
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        string stdout = await process.StandardOutput.ReadToEndAsync();
        Assert.True(process.WaitForExit(60_000));
        Assert.Equal(0, process.ExitCode);
        Assert.Contains("emu run: node up", stdout);
        Assert.Contains("stopped after", stdout);
        Assert.DoesNotContain("rx ring", stdout + await stderr);
        Assert.DoesNotContain("\e[", stdout, StringComparison.Ordinal);   // no ANSI escapes
    }

    [Fact]
    public async Task EmuRunKeepsRunningWhenTheCaptureReaderGoes()
    {
        // `emu run --pcap - | head -c 64`: the reader closes the pipe; the node runs on and exits cleanly (not 3).
        string emu = Path.Combine(AppContext.BaseDirectory, "emu.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in (string[])[emu, "run", "--netdev", DgramNetdev(), "--pcap", "-", "--duration", "3"])
        {
            start.ArgumentList.Add(arg);
        }

        using Process process = Process.Start(start)!;
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        byte[] head = new byte[64];
        await process.StandardOutput.BaseStream.ReadExactlyAsync(head);
        process.StandardOutput.Close();
        Assert.True(process.WaitForExit(60_000));
        string err = await stderr;
        Assert.Equal(0, process.ExitCode);
        Assert.Equal(SectionHeaderBlock, BinaryPrimitives.ReadUInt32LittleEndian(head));
        Assert.Contains("stopped after", err);
        Assert.DoesNotContain("internal error", err);
    }

    [Fact]
    public void AStreamWhoseReaderWentSwallowsWrites()
    {
        using var stream = new ReaderGoneStream(new ThrowingStream());
        stream.Write([1, 2, 3]);
        stream.Flush();
        Assert.True(stream.WaitIdle(TimeSpan.FromSeconds(10)));
        Assert.True(stream.ReaderGone);
        stream.Write([4, 5, 6]);   // swallowed
    }

    [Fact]
    public void AReaderThatStopsReadingNeverBlocksTheWriterAndWholeBlocksAreDropped()
    {
        // Wireshark paused without closing the pipe: the loop's writes return at once; past the limit whole blocks
        // are dropped and counted, so what reaches the reader is still valid pcapng.
        using var stall = new ManualResetEventSlim();
        var reader = new StallingStream(stall);
        var stream = new ReaderGoneStream(reader, limit: 1000);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < 100; i++)
        {
            stream.Write(new byte[100]);
        }

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5));
        Assert.True(stream.BlocksDropped >= 89, $"{stream.BlocksDropped} blocks dropped");
        stall.Set();
        Assert.True(stream.WaitIdle(TimeSpan.FromSeconds(10)));
        Assert.Equal((100 - stream.BlocksDropped) * 100, reader.Written);
        stream.Dispose();
    }

    private sealed class StallingStream(ManualResetEventSlim go) : MemoryStream
    {
        public long Written { get; private set; }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            go.Wait();
            Written += buffer.Length;
        }
    }

    [Fact]
    public void DeviceSummaryJsonHasTheDeviceAndItsNode()
    {
        string socket = Path.Combine(Path.GetTempPath(), $"emu-status-{Guid.NewGuid():N}.sock");
        var stdout = new StringWriter { NewLine = "\n" };
        int code = EmuCommandLine.Run(["device", "--vfio-user", socket, "--duration", "0.5", "--summary", "json", "--quiet"], new StringReader(string.Empty), TextWriter.Synchronized(stdout), new StringWriter());
        File.Delete(socket);
        Assert.Equal(0, code);
        JsonDocument summary = JsonLines(stdout.ToString()).Last();
        AssertHasDeviceGroups(summary.RootElement);
        Assert.True(summary.RootElement.GetProperty("tcp").GetProperty("LISTEN").GetInt64() > 0);   // the node's services
    }

    private sealed class ThrowingStream : MemoryStream
    {
        public override void Write(ReadOnlySpan<byte> buffer) => throw new IOException("Broken pipe");
    }

    private static void AssertHasDeviceGroups(JsonElement root)
    {
        Assert.True(root.GetProperty("time").TryGetProperty("virtual_ns", out _));
        Assert.True(root.GetProperty("time").TryGetProperty("wall_s", out _));
        foreach (string counter in (string[])["GPRC", "GPTC", "GORC", "GOTC", "MPC", "RNBC", "TPR", "TPT", "TOR", "TOT", "TSCTFC"])
        {
            Assert.True(root.GetProperty("e1000").TryGetProperty(counter, out _), counter);
        }

        Assert.True(root.GetProperty("drops").TryGetProperty("RxFifoOverrun", out _));
        Assert.True(root.GetProperty("emu").TryGetProperty("interrupts", out _));
        Assert.True(root.GetProperty("rings").TryGetProperty("RDLEN", out _));
        Assert.True(root.GetProperty("link").TryGetProperty("up", out _));
        Assert.Equal(0, root.GetProperty("faults").GetProperty("armed").GetInt64());
    }

    private static List<JsonDocument> JsonLines(string text)
        => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(l => l.StartsWith('{')).Select(l => JsonDocument.Parse(l)).ToList();

    /// <summary>A section header, an interface, then whole blocks to the end, at least one of them a frame, and no text.</summary>
    private static void AssertPcapng(byte[] bytes)
    {
        Assert.True(bytes.Length >= 28, "no capture");
        Assert.Equal(SectionHeaderBlock, BinaryPrimitives.ReadUInt32LittleEndian(bytes));
        Assert.DoesNotContain("emu run", Encoding.Latin1.GetString(bytes), StringComparison.Ordinal);
        int at = 0;
        int frames = 0;
        while (at < bytes.Length)
        {
            Assert.True(bytes.Length - at >= 12, $"a partial block at {at}");
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at));
            int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 4));
            Assert.True(length >= 12 && length % 4 == 0 && at + length <= bytes.Length, $"block at {at}: length {length}");
            Assert.Equal((uint)length, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + length - 4)));
            frames += type == EnhancedPacketBlock ? 1 : 0;
            at += length;
        }

        Assert.True(frames > 0, "no frames captured");
    }

    /// <summary>A UDP netdev to a port nobody reads: the link is up at once, and the node's frames go out.</summary>
    private static string DgramNetdev()
    {
        static int FreeUdpPort()
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            return ((IPEndPoint)socket.LocalEndPoint!).Port;
        }

        return $"socket,udp=127.0.0.1:{FreeUdpPort()},localaddr=127.0.0.1:{FreeUdpPort()}";
    }
}
