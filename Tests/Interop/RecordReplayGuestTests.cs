using System.Net;
using System.Net.Sockets;
using Emu.Emulator.Replay;
using Emu.Emulator.Wire;
using Emu.Host;
using Emu.Host.Replay;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace Emu.Tests.Interop;

/// <summary>
/// Issue 22 with a real Linux 6.1 guest: <c>emu run --record</c> on a socket netdev while the guest pings with
/// fragments, echoes UDP, moves 20 MiB of TCP through our echo and fetches our web page; then <c>emu replay</c>
/// offline (no QEMU, no sockets) writes a capture identical byte for byte to the one recorded live.
/// </summary>
[Trait("Category", "Qemu")]
[Collection(LinuxGuest.Collection)]
public sealed class RecordReplayGuestTests
{
    private const string OurAddress = "fe80::5054:ff:fe12:3457";
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(300);

    private readonly ITestOutputHelper _log;

    public RecordReplayGuestTests(ITestOutputHelper log)
    {
        _log = log;
    }

    [Fact]
    public void AnEmuRunSessionWithALinuxGuestReplaysOfflineToAnIdenticalCapture()
    {
        LinuxGuest.EnsureInstalled(["socat"]);
        DirectoryInfo dir = Directory.CreateTempSubdirectory("emu-record-guest-");
        try
        {
            string trace = Path.Combine(dir.FullName, "session.trace");
            Directory.CreateDirectory(Path.Combine(dir.FullName, "live"));
            Directory.CreateDirectory(Path.Combine(dir.FullName, "replayed"));
            string live = Path.Combine(dir.FullName, "live", "wire.pcapng");
            string replayed = Path.Combine(dir.FullName, "replayed", "wire.pcapng");
            int port = FreePort();
            var output = new StringWriter();
            var runner = new NodeRunner(TextWriter.Synchronized(output)) { RecordPath = trace, CommandLine = ["emu", "run", "--record", trace] };
            Assert.True(NetdevSpec.TryParse($"socket,listen=127.0.0.1:{port}", out NetdevSpec? spec, out _));
            int exit = -1;
            var nodeThread = new Thread(() => exit = runner.Run(Node.WithMac(EmuCommandLine.DefaultRunMac), spec!, new FileInfo(live), CaptureFormat.PcapNg, TimeSpan.FromMinutes(6), NullLoggerFactory.Instance, CancellationToken.None)) { IsBackground = true };
            nodeThread.Start();
            Assert.True(runner.Started.Wait(TimeSpan.FromSeconds(30)), output.ToString());

            string commands = $"""
                i=0; while [ $i -lt 30 ] && ! ping6 -c 1 -W 1 {OurAddress}%eth0 >/dev/null 2>&1; do i=$((i+1)); done
                ping6 -c 3 -s 3000 {OurAddress}%eth0 | grep 'packets transmitted'
                echo udp-to-emu | socat -t 2 - 'UDP6:[{OurAddress}%eth0]:7'
                dd if=/dev/urandom of=/tmp/in bs=1M count=20 2>/dev/null
                socat -t 20 - 'TCP6:[{OurAddress}%eth0]:7' < /tmp/in > /tmp/out
                echo "tcp sent $(md5sum < /tmp/in | cut -d' ' -f1) got $(md5sum < /tmp/out | cut -d' ' -f1)"
                wget -q -O - 'http://[{OurAddress}%eth0]/' | grep -o '<h1>Emu</h1>'
                """;
            using LinuxGuest guest = LinuxGuest.Start(LinuxGuestOptions.Connect($"127.0.0.1:{port}") with { Tools = ["socat"] }, commands, s_timeout);
            LinuxGuestResult result = guest.Wait();
            runner.Stop();
            Assert.True(nodeThread.Join(TimeSpan.FromSeconds(60)));
            _log.WriteLine(result.Output);
            Assert.True(result.ExitCode == 0, result.ToString() + output);
            Assert.Equal(0, exit);
            Assert.Contains("3 packets transmitted, 3 packets received", result.Output, StringComparison.Ordinal);
            Assert.Contains("udp-to-emu", result.Output, StringComparison.Ordinal);
            Assert.Matches(@"tcp sent ([0-9a-f]{32}) got \1", result.Output);
            Assert.Contains("<h1>Emu</h1>", result.Output, StringComparison.Ordinal);

            Assert.True(TraceReader.TryOpen(trace, out TraceReader? reader, out string? error), error);
            var replayOut = new StringWriter();
            var replayErr = new StringWriter();
            int status;
            using (reader)
            {
                status = new RunReplayer(replayOut).Run(reader, replayed, CaptureFormat.PcapNg, null, [], NullLoggerFactory.Instance, replayErr);
            }

            _log.WriteLine(replayOut.ToString() + replayErr);
            _log.WriteLine($"trace {new FileInfo(trace).Length} bytes, live capture {new FileInfo(live).Length} bytes");
            Assert.True(status == 0, replayErr.ToString() + replayOut);
            Assert.Contains("outputs identical to the recording", replayOut.ToString(), StringComparison.Ordinal);
            Assert.Equal(File.ReadAllBytes(live), File.ReadAllBytes(replayed));
            Assert.True(new FileInfo(live).Length > 20 << 20);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}

/// <summary>README's record-and-replay example uses the options and prints the lines the code has.</summary>
public sealed class RecordReplayReadme
{
    [Fact]
    public void TheExampleMatchesTheCommandLineAndTheReplaysOwnWords()
    {
        string readme = Tools.RepoFiles.Readme();
        int start = readme.IndexOf("<!-- example: record-replay -->", StringComparison.Ordinal);
        Assert.True(start >= 0);
        string example = readme[start..readme.IndexOf("<!-- end example -->", start, StringComparison.Ordinal)];
        Assert.Contains("run --record /tmp/session.trace --pcap /tmp/live.pcapng", example, StringComparison.Ordinal);
        Assert.Contains("replay /tmp/session.trace --pcap /tmp/replayed.pcapng", example, StringComparison.Ordinal);
        Assert.Matches(@"emu replay: replayed \d+\.\d{6} s of virtual time in \d+\.\d{3} s \(\d+ records, \d+ frames in, \d+ frames out\)", example);
        Assert.Matches(@"emu replay: outputs identical to the recording \(\d+ digests checked, counters equal\)", example);
        (int status, string help, _) = Tools.EmuCli.Run("", "run", "--help");
        Assert.Equal(0, status);
        Assert.Contains("--record", help, StringComparison.Ordinal);
        Assert.Contains("--record-continue", help, StringComparison.Ordinal);
    }
}
