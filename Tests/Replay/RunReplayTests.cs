using System.Net;
using Emu.Emulator.Faults;
using Emu.Emulator.Replay;
using Emu.Emulator.Wire;
using Emu.Host;
using Emu.Host.Replay;
using Emu.Stack.Sockets;
using Emu.Stack.Tcp;
using Emu.Stack.Wire;
using Microsoft.Extensions.Logging.Abstractions;

namespace Emu.Tests.Replay;

/// <summary>
/// Issue 22 in process: node A (<c>emu run --record</c>, wire faults armed, one more armed live) on the wall clock,
/// its peer B another <c>emu run</c> over a socket netdev, moving UDP and 512 KiB of TCP through A's echo services.
/// The session is made once; the tests replay its trace offline.
/// </summary>
public sealed class RecordedRunFixture : IDisposable
{
    public const int TcpBytes = 512 * 1024;

    private const string NodeA = "fe80::5054:ff:fe12:3457";

    public RecordedRunFixture()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("emu-record-");
        TracePath = Path.Combine(Directory.FullName, "a.trace");
        System.IO.Directory.CreateDirectory(Path.Combine(Directory.FullName, "recorded"));
        RecordedCapture = Path.Combine(Directory.FullName, "recorded", "a.pcapng");
        int port = FreePort();
        Assert.True(FaultPlan.TryCreate(11, ["loss,prob=0.02,dir=rx", "duplicate,prob=0.01,dir=tx"], null, out FaultPlan? plan, out string? planError), planError);
        Plan = plan;

        var outputA = new StringWriter();
        var a = new NodeRunner(TextWriter.Synchronized(outputA)) { RecordPath = TracePath, CommandLine = ["emu", "run", "--record", TracePath], Ipv6Seed = 1234, ControlPath = Path.Combine(Directory.FullName, "a.ctl") };
        Assert.True(NetdevSpec.TryParse($"socket,listen=127.0.0.1:{port}", out NetdevSpec? listen, out _));
        int exitA = -1;
        var threadA = new Thread(() => exitA = a.Run(Node.WithMac("52:54:00:12:34:57"), listen!, new FileInfo(RecordedCapture), CaptureFormat.PcapNg, TimeSpan.FromMinutes(3), NullLoggerFactory.Instance, CancellationToken.None, faults: plan)) { IsBackground = true };
        threadA.Start();
        Assert.True(a.Started.Wait(TimeSpan.FromSeconds(30)), outputA.ToString());

        var outputB = new StringWriter();
        var b = new NodeRunner(TextWriter.Synchronized(outputB)) { Ipv6Seed = 99 };
        Assert.True(NetdevSpec.TryParse($"socket,connect=127.0.0.1:{port}", out NetdevSpec? connect, out _));
        var threadB = new Thread(() => b.Run(Node.WithMac("52:54:00:12:34:56"), connect!, null, CaptureFormat.PcapNg, TimeSpan.FromMinutes(3), NullLoggerFactory.Instance, CancellationToken.None)) { IsBackground = true };
        threadB.Start();
        Assert.True(b.Started.Wait(TimeSpan.FromSeconds(30)), outputB.ToString());
        Assert.True(WaitFor(() => outputA.ToString().Contains(NodeA + "/64 ready", StringComparison.Ordinal) && outputB.ToString().Contains("fe80::5054:ff:fe12:3456/64 ready", StringComparison.Ordinal), 30), outputA.ToString() + outputB);

        // A fault armed live over the control socket (emu fault): a Control record in the trace.
        (int armed, string answer, string armError) = Tools.EmuCli.Run("", "fault", "--control", Path.Combine(Directory.FullName, "a.ctl"), "arm", "delay,time=1ms,jitter=500us");
        Assert.True(armed == 0, answer + armError);

        var peer = new Peer(Ipv6Address.Parse(NodeA));
        b.Post(peer.Start);
        Assert.True(WaitFor(() => peer.Done, 90), $"echoed {peer.Echoed} of {TcpBytes}, udp {peer.UdpEchoes}\n{outputA}");
        Thread.Sleep(200);   // a little quiet time after the transfer (wall clock: the recording's own timing)
        a.Stop();
        Assert.True(threadA.Join(TimeSpan.FromSeconds(30)));
        b.Stop();
        threadB.Join(TimeSpan.FromSeconds(30));
        Assert.Equal(0, exitA);
        RecordedOutput = outputA.ToString();
        UdpEchoes = peer.UdpEchoes;
    }

    public DirectoryInfo Directory { get; }

    public string TracePath { get; }

    public string RecordedCapture { get; }

    public string RecordedOutput { get; }

    public FaultPlan Plan { get; }

    public int UdpEchoes { get; }

    public void Dispose() => Directory.Delete(recursive: true);

    private static bool WaitFor(Func<bool> condition, int seconds)
    {
        DateTime end = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > end)
            {
                return false;
            }

            Thread.Sleep(20);
        }

        return true;
    }

    private static int FreePort()
    {
        using var probe = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    /// <summary>B's side, on B's loop: five UDP echoes, then TCP_BYTES through A's TCP echo, all read back.</summary>
    private sealed class Peer(Ipv6Address nodeA)
    {
        private readonly byte[] _chunk = new byte[16 * 1024];
        private readonly byte[] _buffer = new byte[64 * 1024];
        private int _sent;
        private volatile int _echoed;
        private volatile int _udp;

        public bool Done => _echoed >= TcpBytes && _udp == 5;

        public int Echoed => _echoed;

        public int UdpEchoes => _udp;

        public void Start(Node node)
        {
            int ifindex = node.Netdev!.IfIndex;
            node.Ipv6.Sockets.Create(SockType.Dgram, IpProto.Udp, out Socket? u);
            var udp = (DatagramSocket)u!;
            Assert.Equal(0, udp.Bind(new Ipv6EndPoint(Ipv6Address.Unspecified, 4000)));
            udp.DataReady = s =>
            {
                while (s.TryReceiveFrom(_buffer, out _))
                {
                    _udp++;
                }
            };
            for (int i = 0; i < 5; i++)
            {
                udp.SendTo(System.Text.Encoding.ASCII.GetBytes($"datagram {i}"), new Ipv6EndPoint(nodeA, 7, ifindex));
            }

            new Random(5).NextBytes(_chunk);
            node.Ipv6.Sockets.Create(SockType.Stream, IpProto.Tcp, out Socket? t);
            var tcp = (TcpSocket)t!;
            tcp.WriteSpace = Write;
            tcp.StateChanged = (s, state) =>
            {
                if (state == TcpState.Established)
                {
                    Write(s);
                }
            };
            tcp.DataReady = s =>
            {
                int n;
                while ((n = s.Receive(_buffer)) > 0)
                {
                    _echoed += n;
                }

                if (_echoed >= TcpBytes)
                {
                    s.Dispose();
                    return;
                }

                Write(s);
            };
            tcp.Connect(new Ipv6EndPoint(nodeA, 7, ifindex));
        }

        private void Write(TcpSocket s)
        {
            int n;
            while (_sent < TcpBytes && (n = s.Send(_chunk.AsSpan(0, Math.Min(_chunk.Length, TcpBytes - _sent)))) > 0)
            {
                _sent += n;
            }
        }
    }
}

public sealed class RunReplayTests(RecordedRunFixture session) : IClassFixture<RecordedRunFixture>
{
    private static (int Status, string Out, string Err, RunReplayer Replayer) Replay(string trace, string? pcap = null, long? until = null, params string[] faults)
    {
        Assert.True(TraceReader.TryOpen(trace, out TraceReader? reader, out string? error), error);
        var output = new StringWriter();
        var errors = new StringWriter();
        var replayer = new RunReplayer(output);
        using (reader)
        {
            int status = replayer.Run(reader, pcap, CaptureFormat.PcapNg, until, faults, NullLoggerFactory.Instance, errors);
            return (status, output.ToString(), errors.ToString(), replayer);
        }
    }

    [Fact]
    public void TheReplayedSessionSendsTheSameFramesLogsTheSameLinesAndEndsWithTheSameCounters()
    {
        string dir = Path.Combine(session.Directory.FullName, "replayed-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        string capture = Path.Combine(dir, "a.pcapng");
        (int status, string output, string errors, RunReplayer replayer) = Replay(session.TracePath, capture);
        Assert.True(status == 0, errors + output);
        Assert.Contains("outputs identical to the recording", output);
        Assert.Contains("counters equal", output);
        Assert.True(replayer.DigestsChecked > 100, $"{replayer.DigestsChecked} digests");
        Assert.Equal(5, session.UdpEchoes);

        // The capture (virtual-clock timestamps, fault comments included) is the recorded one, byte for byte.
        Assert.Equal(File.ReadAllBytes(session.RecordedCapture), File.ReadAllBytes(capture));
        Assert.True(session.Plan.Faults.Take(2).All(f => f.Fired > 0), string.Join(", ", session.Plan.Faults.Select(f => $"{f.Spec.Text} {f.Fired}")));
        Assert.True(replayer.Node!.Ipv6.Snmp[Emu.Stack.Ipv6.Snmp6Counter.TcpRetransSegs] > 0 || replayer.Node.Ipv6.Snmp[Emu.Stack.Ipv6.Snmp6Counter.TcpInSegs] > 0);
    }

    [Fact]
    public void OneAlteredInputFailsTheReplayRightAfterItWithWhatDiffered()
    {
        string altered = Path.Combine(session.Directory.FullName, "altered-" + Guid.NewGuid().ToString("N") + ".trace");
        long alteredIndex = Rewrite(session.TracePath, altered, (index, kind, payload, frames) =>
        {
            // The 200th frame in: flip a byte near its end (a TCP payload or an ICMPv6 body): its checksum fails.
            if (kind == TraceRecordKind.FrameIn && frames == 200)
            {
                payload[^3] ^= 0x5A;
                return true;
            }

            return false;
        });
        (int status, _, string errors, _) = Replay(altered);
        Assert.Equal(1, status);
        var range = System.Text.RegularExpressions.Regex.Match(errors, @"emu replay: the trace's inputs differ from what was recorded, at record \d+ \(\d+\.\d+ s\): an input among records (\d+)-(\d+) was altered after recording; the last of them: record \d+, a \d+-byte frame");
        Assert.True(range.Success, errors);
        Assert.InRange(alteredIndex, long.Parse(range.Groups[1].Value), long.Parse(range.Groups[2].Value));
    }

    [Fact]
    public void ATraceCutInTheMiddleReplaysWhatItHasThenSaysSo()
    {
        string cut = Path.Combine(session.Directory.FullName, "cut-" + Guid.NewGuid().ToString("N") + ".trace");
        byte[] bytes = File.ReadAllBytes(session.TracePath);
        File.WriteAllBytes(cut, bytes[..(bytes.Length / 2)]);
        (int status, _, string errors, _) = Replay(cut);
        Assert.Equal(2, status);
        Assert.Matches(@"emu replay: .*cut off.*; replayed up to virtual time \d+\.\d+ s", errors);
    }

    [Fact]
    public void UntilStopsEarlyAndAWhatIfFaultIsNotCheckedAgainstTheRecording()
    {
        (int status, string output, string errors, _) = Replay(session.TracePath, until: 2_000_000_000);
        Assert.True(status == 0, errors);
        Assert.Contains("emu replay: replayed 2.000000 s of virtual time", output);

        (status, output, errors, _) = Replay(session.TracePath, null, null, "loss,prob=0.3");
        Assert.True(status == 0, errors);
        Assert.Contains("--fault given", output);
    }

    [Fact]
    public void EmuReplayOnTheCommandLineChecksTheTraceAndRefusesBadInput()
    {
        (int status, string stdout, string stderr) = Tools.EmuCli.Run("", "replay", session.TracePath);
        Assert.True(status == 0, stderr);
        Assert.Contains("outputs identical to the recording", stdout);
        (status, _, stderr) = Tools.EmuCli.Run("", "replay", session.TracePath, "--until", "soon");
        Assert.Equal(2, status);
        Assert.Contains("--until 'soon': not a time", stderr);
        (status, _, stderr) = Tools.EmuCli.Run("", "replay", Path.Combine(session.Directory.FullName, "missing.trace"));
        Assert.Equal(2, status);
        Assert.Contains("missing.trace", stderr);
    }

    /// <summary>Copies a trace record by record; <paramref name="alter"/> may change a payload. Returns the altered record's index.</summary>
    private static long Rewrite(string from, string to, Func<long, TraceRecordKind, byte[], int, bool> alter)
    {
        Assert.True(TraceReader.TryOpen(from, out TraceReader? reader, out string? error), error);
        long altered = -1;
        using (reader)
        {
            Assert.True(TraceWriter.TryCreate(to, reader.Header, out TraceWriter? writer, out error), error);
            using (writer)
            {
                int frames = 0;
                while (reader.TryNext(out TraceRecord r))
                {
                    byte[] payload = r.Payload.ToArray();
                    if (r.Kind == TraceRecordKind.FrameIn)
                    {
                        frames++;
                    }

                    if (alter(r.Index, r.Kind, payload, frames))
                    {
                        altered = r.Index;
                    }

                    Assert.True(writer.Append(r.Kind, r.Time, payload));
                }
            }
        }

        Assert.True(altered > 0);
        return altered;
    }
}
