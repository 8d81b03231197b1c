using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Emu.Emulator.Faults;
using Emu.Emulator.Wire;
using Emu.Host;
using Emu.Host.Services;
using Emu.Stack.Tcp;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace Emu.Tests.Interop;

/// <summary>
/// Issue 21, "through <c>emu run</c>: 20 MB of TCP from the guest arrives intact under <c>loss-ge</c>,
/// <c>reorder,gap=5</c> and <c>duplicate</c>". Our node runs in-process as <c>emu run</c> runs it (NodeRunner on a
/// socket netdev, with a fault plan), a real Linux 6.1 guest on the other end of the wire. One boot: the guest sends the
/// same 20 MiB of random data three times, each time to its own port of a hashing service on our node; accepting the
/// connection arms that port's fault in the plan (on the node's loop, as <c>--control</c>'s arm does) and its close
/// disarms it, so each transfer runs under exactly one fault. The service hashes what arrives (SHA-256) and answers the
/// digest; the guest prints its own digest of the file, what the node answered and its TCP counters before and after.
/// </summary>
/// <remarks>
/// Measured on this 2-core TCG machine (seed 21; firings vary a little between runs, as the node's loop runs in wall
/// time), four runs: the whole test 20–30 s, boot included.
/// <list type="bullet">
/// <item><c>loss-ge,p=0.02,r=0.6</c>: 6.4–16.4 s; fired ~730 of ~23,600 frames (3.1 %, both directions); the guest
/// counted RetransSegs +460..504 of OutSegs ~14,700, TCPSackRecovery ~250, TCPFastRetrans ~440, TCPTimeouts 16–39,
/// TCPLostRetransmit 24–33. The brief's <c>p=0.01,r=0.3</c> (the same 3.2 % but mean bursts of 3.3 frames) passed too
/// but took 125–243 s: the chain counts frames, not time, so while the sender is in RTO only one frame per timeout
/// moves it, and a bad state takes retransmission after retransmission (the capture showed a node ACK dropped six times
/// running and backoffs to 28 s), which a test should not wait for.</item>
/// <item><c>reorder,gap=5,time=2ms</c>: 1.3–1.9 s; fired ~6,040 of ~30,200 (every 5th); RetransSegs +400..500 (spurious
/// fast retransmits, undone: TCPPartialUndo ~100), TCPSACKReorder ~3,800–4,100, TCPTSReorder ~100–160.</item>
/// <item><c>duplicate,prob=0.02</c>: 0.5–0.8 s; fired ~430 of ~22,300; no retransmissions and TCPDSACKRecv 0 — our node
/// sends no D-SACK for the duplicated data (Linux would, tcp_dsack=1), so the guest never learns of them.</item>
/// </list>
/// </remarks>
[Trait("Category", "Qemu")]
[Collection(LinuxGuest.Collection)]
public sealed class WireFaultGuestTests
{
    private const string OurAddress = "fe80::5054:ff:fe12:3457";
    private const int Seed = 21;
    private const int Size = 20 << 20;
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(900);

    /// <summary>The three plans, each on its own port: a few percent of bursty loss, netem's gap reordering, duplicates.</summary>
    private static readonly (ushort Port, string Spec)[] s_plans =
    [
        (5001, "loss-ge,p=0.02,r=0.6"),        // stationary loss p/(p+r) ≈ 3.2 %, mean burst 1/r ≈ 1.7 frames
        (5002, "reorder,gap=5,time=2ms"),      // every 5th frame at once, the others 2 ms late
        (5003, "duplicate,prob=0.02"),         // 2 % of frames twice
    ];

    private readonly ITestOutputHelper _log;

    public WireFaultGuestTests(ITestOutputHelper log)
    {
        _log = log;
    }

    [Fact]
    public void TwentyMegabytesFromTheGuestArriveIntactUnderLossReorderAndDuplicate()
    {
        Assert.True(FaultPlan.TryCreate(Seed, [], null, out FaultPlan? plan, out string? error), error);
        var specs = new Dictionary<ushort, FaultSpec>();
        foreach ((ushort port, string text) in s_plans)
        {
            // Each spec as --fault would take it: parsed and checked (reorder needs its time=).
            Assert.True(FaultPlan.TryCreate(Seed, [text], null, out _, out error), error);
            Assert.True(FaultSpec.TryParse(text, out FaultSpec? spec, out error), error);
            specs[port] = spec;
        }

        var transfers = new Dictionary<ushort, Transfer>();
        int port0 = FreePort();
        var output = new StringWriter();
        var runner = new NodeRunner(TextWriter.Synchronized(output));
        Assert.True(NetdevSpec.TryParse($"socket,listen=127.0.0.1:{port0}", out NetdevSpec? netdev, out _));
        // EMU_WFG_PCAP=PATH: the node's pcapng capture, each dropped or duplicated frame commented with its fault.
        var nodeThread = new Thread(() => runner.Run(Node.WithMac(EmuCommandLine.DefaultRunMac), netdev!, Environment.GetEnvironmentVariable("EMU_WFG_PCAP") is { } pcap ? new FileInfo(pcap) : null, CaptureFormat.PcapNg, TimeSpan.FromMinutes(16), NullLoggerFactory.Instance, CancellationToken.None, faults: plan))
        {
            IsBackground = true,
        };
        nodeThread.Start();
        Assert.True(runner.Started.Wait(TimeSpan.FromSeconds(30)), output.ToString());
        var started = new ManualResetEventSlim();
        var services = new List<HashService>();
        runner.Post(node =>
        {
            foreach ((ushort port, _) in s_plans)
            {
                var service = new HashService(
                    onOpen: () =>
                    {
                        var t = new Transfer { Fault = plan!.Arm(specs[port]), Clock = Stopwatch.StartNew() };
                        lock (transfers)
                        {
                            transfers[port] = t;
                        }

                        return t;
                    },
                    onClosed: t => plan!.Disarm(t.Fault.Id));
                Assert.True(service.Start(node.Ipv6, port));
                services.Add(service);
            }

            started.Set();
        });
        Assert.True(started.Wait(TimeSpan.FromSeconds(10)));

        // Linux's TCP counters (all of Tcp: and the TcpExt: ones that say how the sender recovered), as name=value.
        const string snap = """awk '/^Tcp:|^TcpExt:/ { if (!($1 in h)) { h[$1] = $0 } else { n = split(h[$1], a, " "); split($0, b, " "); for (i = 2; i <= n; i++) if (a[i] ~ /^(RetransSegs|OutSegs|TCPTimeouts|TCPLossProbes|TCPFastRetrans|TCPSlowStartRetrans|TCPSackRecovery|TCPRenoRecovery|TCPDSACKRecv|TCPDSACKOfoRecv|TCPSACKReorder|TCPRenoReorder|TCPTSReorder|TCPSpuriousRTOs|TCPLostRetransmit|TCPSACKDiscard|TCPDSACKIgnoredOld|TCPDSACKIgnoredNoUndo|TCPFullUndo|TCPPartialUndo|TCPDSACKUndo|TCPLossUndo)$/) printf "%s=%s ", a[i], b[i] } } END { print "" }' /proc/net/snmp /proc/net/netstat""";
        string ports = string.Join(' ', s_plans.Select(p => p.Port.ToString(CultureInfo.InvariantCulture)));
        string commands = $"""
            i=0; while [ $i -lt 30 ] && ! ping6 -c 1 -W 1 {OurAddress}%eth0 >/dev/null 2>&1; do i=$((i+1)); done
            dd if=/dev/urandom of=/tmp/in bs=1048576 count=20 2>/dev/null
            sum=$(sha256sum < /tmp/in | cut -d' ' -f1)
            for p in {ports}; do
              b=$({snap}); t0=$(cut -d' ' -f1 /proc/uptime)
              got=$(socat -t 120 - "TCP6:[{OurAddress}%eth0]:$p" < /tmp/in)
              t1=$(cut -d' ' -f1 /proc/uptime); a=$({snap})
              echo "port $p sent $sum got $got from $t0 to $t1"
              echo "before $p $b"
              echo "after $p $a"
            done
            echo DONE
            """;
        LinuxGuestResult result = LinuxGuest.Run(LinuxGuestOptions.Connect($"127.0.0.1:{port0}") with { Tools = ["socat"] }, commands, s_timeout);
        runner.Stop();
        Assert.True(nodeThread.Join(TimeSpan.FromSeconds(30)));
        _log.WriteLine(result.ToString());
        _log.WriteLine(output.ToString());
        Assert.True(result.Finished && result.ExitCode == 0, result.ToString());
        Assert.Contains("DONE", result.Output, StringComparison.Ordinal);

        foreach ((ushort port, string text) in s_plans)
        {
            Match line = Regex.Match(result.Output, $@"^port {port} sent (\w+) got (\w*) from ([\d.]+) to ([\d.]+)$", RegexOptions.Multiline);
            Assert.True(line.Success, $"no result for port {port} ({text})\n{result}");
            Dictionary<string, long> before = Counters(result.Output, "before", port);
            Dictionary<string, long> after = Counters(result.Output, "after", port);
            var delta = after.ToDictionary(kv => kv.Key, kv => kv.Value - before.GetValueOrDefault(kv.Key));
            Transfer t;
            lock (transfers)
            {
                Assert.True(transfers.TryGetValue(port, out t!), $"the node never accepted on {port}");
            }

            double seconds = double.Parse(line.Groups[4].Value, CultureInfo.InvariantCulture) - double.Parse(line.Groups[3].Value, CultureInfo.InvariantCulture);
            _log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{text}: {t.Bytes} bytes in {seconds:F1} s (guest) / {t.Seconds:F1} s (node), {t.Fault.Label} fired {t.Fault.Fired} of {t.Fault.Eligible}; guest {string.Join(' ', delta.Where(kv => kv.Value != 0).Select(kv => $"{kv.Key}+{kv.Value}"))}"));

            Assert.Equal(Size, t.Bytes);
            Assert.Equal(line.Groups[1].Value, t.Digest);          // what the node received is what the guest sent
            Assert.Equal(line.Groups[1].Value, line.Groups[2].Value);   // and the guest heard so from the node
            Assert.True(t.Fault.Fired > 0, $"{t.Fault.Label} never fired");
            Assert.False(t.Fault.Armed);
        }

        // Loss must have cost the guest retransmissions; under reorder, Linux must have seen the reordering.
        Assert.True(Delta(result.Output, 5001, "RetransSegs") > 0, "no retransmissions under loss-ge");
        Assert.True(Delta(result.Output, 5002, "TCPSACKReorder") + Delta(result.Output, 5002, "TCPTSReorder") > 0, "the guest saw no reordering");
    }

    private static long Delta(string output, ushort port, string name)
        => Counters(output, "after", port).GetValueOrDefault(name) - Counters(output, "before", port).GetValueOrDefault(name);

    private static Dictionary<string, long> Counters(string output, string which, ushort port)
    {
        Match m = Regex.Match(output, $@"^{which} {port} (.*)$", RegexOptions.Multiline);
        Assert.True(m.Success, $"no '{which} {port}' line\n{output}");
        return Regex.Matches(m.Groups[1].Value, @"(\w+)=(\d+)").ToDictionary(x => x.Groups[1].Value, x => long.Parse(x.Groups[2].Value, CultureInfo.InvariantCulture));
    }

    private static int FreePort()
    {
        using var probe = new System.Net.Sockets.Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    /// <summary>One connection's account: its fault, bytes received, the digest, time from accept to end of stream.</summary>
    private sealed class Transfer
    {
        public required Fault Fault { get; init; }

        public required Stopwatch Clock { get; init; }

        public long Bytes { get; set; }

        public string? Digest { get; set; }

        public double Seconds { get; set; }
    }

    /// <summary>Reads everything, hashes it, answers the SHA-256 (lowercase hex, newline) and closes.</summary>
    private sealed class HashService(Func<Transfer> onOpen, Action<Transfer> onClosed) : TcpService
    {
        public override string Name => "sha256";

        protected override TcpConnection Open(TcpSocket socket)
        {
            var connection = new Connection(socket, onOpen());
            connection.Closed += () => onClosed(connection.Transfer);
            return connection;
        }

        private sealed class Connection(TcpSocket socket, Transfer transfer) : TcpConnection(socket)
        {
            private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

            public Transfer Transfer => transfer;

            protected override void OnData(ReadOnlySpan<byte> data)
            {
                _hash.AppendData(data);
                transfer.Bytes += data.Length;
            }

            protected override void OnEndOfStream()
            {
                transfer.Seconds = transfer.Clock.Elapsed.TotalSeconds;
                transfer.Digest = Convert.ToHexStringLower(_hash.GetHashAndReset());
                Write(System.Text.Encoding.ASCII.GetBytes(transfer.Digest + "\n"));
                CloseWhenSent();
            }
        }
    }
}
