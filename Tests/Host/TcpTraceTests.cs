using System.Globalization;
using Emu.Emulator.Wire;
using Emu.Host;
using Emu.Host.Bench;
using Emu.Host.Instruments;
using Emu.Stack.Ipv6;
using Emu.Stack.Sockets;
using Emu.Stack.Tcp;
using Emu.Stack.Wire;
using Microsoft.Extensions.Logging.Abstractions;

namespace Emu.Tests.Host;

/// <summary>
/// A lossy transfer between two whole nodes, traced by <see cref="TcpTraceCsv"/> on both stacks (issue 20): made once,
/// checked by the tests below.
/// </summary>
public sealed class TcpTraceFixture : IDisposable
{
    public const int Bytes = 2 << 20;

    public TcpTraceFixture()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("emu-tcp-trace-");
        CsvPath = Path.Combine(Directory.FullName, "trace.csv");
        var pair = new NodePair(node => node.Netdev!.Carrier && node.Ipv6.Inet6(node.Netdev) is { LinkLocal.Usable: true });
        using (var csv = new TcpTraceCsv(new StreamWriter(CsvPath), pair.Sender.Ipv6.Clock, ownsWriter: true))
        {
            var text = new Emu.Emulator.Instruments.TraceWriter(TextTrace, pair.Scheduler, Emu.Emulator.Instruments.TraceCategory.Tcp);
            pair.Sender.Ipv6.Tcp.Probe = TcpProbe.Combine(csv, new TcpTracer(text, "sender"));
            pair.Receiver.Ipv6.Tcp.Probe = TcpProbe.Combine(csv, new TcpTracer(text, "receiver"));

            // Loss from the sender to the receiver only: data segments are dropped, so the sender retransmits.
            pair.Link.A.SetLoss(0.01, 7);
            pair.Receiver.Ipv6.Sockets.Create(SockType.Stream, IpProto.Tcp, out Socket? l);
            var listener = (TcpSocket)l!;
            Assert.Equal(0, listener.Bind(new Ipv6EndPoint(Ipv6Address.Unspecified, 5001)));
            Assert.Equal(0, listener.Listen(4));
            pair.Sender.Ipv6.Sockets.Create(SockType.Stream, IpProto.Tcp, out Socket? c);
            var client = (TcpSocket)c!;
            Ipv6Address destination = Ipv6Address.LinkLocalFromMac(pair.Receiver.Netdev!.DevAddr);
            Assert.Equal(-Errno.EInProgress, client.Connect(new Ipv6EndPoint(destination, 5001, pair.Sender.Netdev!.IfIndex)));
            TcpSocket? server = null;
            Assert.True(pair.Scheduler.RunUntil(() => listener.TryAccept(out server), 10_000_000_000));

            byte[] chunk = new byte[64 * 1024];
            byte[] buffer = new byte[256 * 1024];
            int written = 0;
            int read = 0;
            long deadline = pair.Scheduler.Now + 120_000_000_000;
            while (read < Bytes && pair.Scheduler.Now < deadline)
            {
                int n;
                while (written < Bytes && (n = client.Send(chunk.AsSpan(0, Math.Min(chunk.Length, Bytes - written)))) > 0)
                {
                    written += n;
                }

                pair.Scheduler.RunFor(200_000);
                int r;
                while ((r = server!.Receive(buffer)) > 0)
                {
                    read += r;
                }
            }

            Assert.Equal(Bytes, read);
            client.Dispose();
            Assert.True(pair.Scheduler.RunUntil(() => server!.EndOfStream, 10_000_000_000));
            server!.Dispose();
            Assert.True(pair.Scheduler.RunUntil(() => client.State is TcpState.TimeWait or TcpState.Closed && server.State == TcpState.Closed, 10_000_000_000));
            Retransmissions = pair.Sender.Ipv6.Snmp[Snmp6Counter.TcpRetransSegs];
            Client = $"[{client.Local.Address}]:{client.Local.Port}-[{client.Remote.Address}]:{client.Remote.Port}";
        }

        Lines = File.ReadAllLines(CsvPath);
    }

    public DirectoryInfo Directory { get; }

    /// <summary>The same run as <c>--trace tcp</c> lines.</summary>
    public StringWriter TextTrace { get; } = new() { NewLine = "\n" };

    public string CsvPath { get; }

    public string[] Lines { get; }

    public string Client { get; }

    public long Retransmissions { get; }

    public void Dispose() => Directory.Delete(recursive: true);
}

/// <summary><c>--tcp-trace</c>'s CSV and <c>emu plot tcp</c> on it.</summary>
public sealed class TcpTraceTests(TcpTraceFixture trace) : IClassFixture<TcpTraceFixture>
{
    private static readonly string[] Columns = TcpTraceCsv.Header.Split(',');

    private static int Col(string name) => Array.IndexOf(Columns, name);

    private IEnumerable<string[]> Rows => trace.Lines.Skip(1).Select(l => l.Split(','));

    private static (int Code, string Out, string Err) Emu(params string[] args) => Tools.EmuCli.Run(string.Empty, args);

    [Fact]
    public void HeaderComesFirstAndEveryRowParses()
    {
        Assert.Equal("time,connection,event,reason,state,seq,len,ack,flags,snd_una,snd_nxt,cwnd,ssthresh,srtt_ms,rttvar_ms,rto_ms,in_flight,sacked,lost,retransmits,rwnd", trace.Lines[0]);
        Assert.True(trace.Lines.Length > 1000);
        double last = 0;
        foreach (string[] f in Rows)
        {
            Assert.Equal(Columns.Length, f.Length);
            double time = double.Parse(f[Col("time")], CultureInfo.InvariantCulture);
            Assert.True(time >= last, $"time went back: {string.Join(',', f)}");
            last = time;
            Assert.Matches(@"^\[[0-9a-f:]+\]:\d+-\[[0-9a-f:]+\]:\d+$", f[Col("connection")]);
            foreach (string numeric in new[] { "snd_una", "snd_nxt", "cwnd", "srtt_ms", "rttvar_ms", "rto_ms", "in_flight", "sacked", "lost", "retransmits", "rwnd" })
            {
                Assert.True(double.TryParse(f[Col(numeric)], NumberStyles.Float, CultureInfo.InvariantCulture, out _), $"{numeric} in {string.Join(',', f)}");
            }
        }
    }

    [Fact]
    public void TheTextTraceShowsStatesRetransmissionsAndRecovery()
    {
        string text = trace.TextTrace.ToString();
        Assert.Contains($"TCP [sender] {trace.Client} SYN_SENT -> ESTABLISHED  (snd_una ", text, StringComparison.Ordinal);
        Assert.Contains("TCP [receiver] ", text, StringComparison.Ordinal);
        Assert.Contains(" CLOSE -> LISTEN", text, StringComparison.Ordinal);
        Assert.Contains(" -> SYN_RECV", text, StringComparison.Ordinal);
        Assert.Contains($"TCP [sender] {trace.Client} retransmit seq=", text, StringComparison.Ordinal);
        Assert.Contains("loss recovery begins", text, StringComparison.Ordinal);
        Assert.Contains(" FIN_WAIT1 -> FIN_WAIT2", text, StringComparison.Ordinal);
        Assert.Equal(trace.Retransmissions, text.Split('\n').Count(l => l.Contains(" TCP [sender] ", StringComparison.Ordinal) && l.Contains(" retransmit seq=", StringComparison.Ordinal)));
    }

    [Fact]
    public void SndUnaNeverMovesBackOnAConnection()
    {
        var last = new Dictionary<string, uint>();
        foreach (string[] f in Rows)
        {
            uint una = uint.Parse(f[Col("snd_una")], CultureInfo.InvariantCulture);
            string connection = f[Col("connection")];
            if (last.TryGetValue(connection, out uint previous) && f[Col("state")] != "LISTEN")
            {
                Assert.True((int)(una - previous) >= 0, $"snd_una {previous} → {una} on {connection}");
            }

            last[connection] = una;
        }

        Assert.Contains(trace.Client, last.Keys);
    }

    [Fact]
    public void TheClientGoesThroughTheStatesOfAnActiveOpenAndClose()
    {
        List<string> states = Rows.Where(f => f[Col("connection")] == trace.Client && f[Col("event")] == "state").Select(f => f[Col("state")]).ToList();
        Assert.Equal(["SYN_SENT", "ESTABLISHED", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT"], states);

        // The server's side of the same connection, from the listener's child: SYN_RECV → ESTABLISHED → ... → CLOSE.
        string[] ends = trace.Client.Split('-');
        string serverSide = $"{ends[1]}-{ends[0]}";
        List<string> server = Rows.Where(f => f[Col("connection")] == serverSide && f[Col("event")] == "state").Select(f => f[Col("state")]).ToList();
        Assert.Equal(["SYN_RECV", "ESTABLISHED", "CLOSE_WAIT", "LAST_ACK", "CLOSE"], server);
    }

    [Fact]
    public void DroppedSegmentsShowAsRetransmissionsAndRecovery()
    {
        Assert.True(trace.Retransmissions > 0);
        List<string[]> client = Rows.Where(f => f[Col("connection")] == trace.Client).ToList();
        List<string[]> retransmits = client.Where(f => f[Col("event")] == "retransmit").ToList();
        Assert.Equal(trace.Retransmissions, retransmits.Count);
        Assert.Contains(client, f => f[Col("event")] == "recovery_enter" && f[Col("reason")] == "sack");
        Assert.Contains(client, f => f[Col("event")] == "recovery_exit");

        // Each retransmission counts in the retransmits column, which ends at the SNMP counter's value.
        Assert.Equal(trace.Retransmissions.ToString(CultureInfo.InvariantCulture), client[^1][Col("retransmits")]);

        // After the first recovery ssthresh is known.
        int first = client.FindIndex(f => f[Col("event")] == "recovery_enter");
        Assert.NotEqual(string.Empty, client[first][Col("ssthresh")]);
        Assert.All(client.Take(first).Where(f => f[Col("event")] == "send"), f => Assert.Equal(string.Empty, f[Col("ssthresh")]));
    }

    [Fact]
    public void EmuRunWritesTheTraceOfItsServices()
    {
        string csv = Path.Combine(trace.Directory.FullName, "run.csv");
        using var socket = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        socket.Start();
        int port = ((System.Net.IPEndPoint)socket.LocalEndpoint).Port;
        socket.Stop();
        Assert.True(NetdevSpec.TryParse($"socket,listen=127.0.0.1:{port}", out NetdevSpec? spec, out _));
        var runner = new NodeRunner(TextWriter.Synchronized(new StringWriter()));
        int exit = -1;
        var thread = new Thread(() => exit = runner.Run(Node.WithMac("52:54:00:12:34:57"), spec!, null, CaptureFormat.PcapNg, TimeSpan.FromMinutes(2), NullLoggerFactory.Instance, CancellationToken.None, instruments: new InstrumentOptions { TcpTrace = new FileInfo(csv) }))
        {
            IsBackground = true,
        };
        thread.Start();
        Assert.True(runner.Started.Wait(TimeSpan.FromSeconds(30)));
        runner.Stop();
        Assert.True(thread.Join(TimeSpan.FromSeconds(30)));
        Assert.Equal(0, exit);

        // The services' listeners open and close; the file ends with their rows, flushed.
        string[] lines = File.ReadAllLines(csv);
        Assert.Equal(TcpTraceCsv.Header, lines[0]);
        Assert.Contains(lines, l => l.Contains(",[::]:80-[::]:0,state,listen,LISTEN,", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains(",[::]:80-[::]:0,state,close,CLOSE,", StringComparison.Ordinal));
    }

    [Fact]
    public void PlotTcpDrawsSvgAndPng()
    {
        string svg = Path.Combine(trace.Directory.FullName, "trace.svg");
        (int code, string output, string error) = Emu("plot", "tcp", trace.CsvPath, "-o", svg);
        Assert.True(code == 0, error);
        string busiest = Rows.GroupBy(f => f[Col("connection")]).OrderByDescending(g => g.Count()).First().Key;
        Assert.Contains(busiest, output);   // the default: the connection with the most rows
        string text = File.ReadAllText(svg);
        Assert.True(text.StartsWith("<?xml", StringComparison.Ordinal) || text.StartsWith("<svg", StringComparison.Ordinal), text[..Math.Min(100, text.Length)]);
        Assert.EndsWith("</svg>", text.TrimEnd());
        Assert.True(text.Length > 10_000);

        string png = Path.Combine(trace.Directory.FullName, "trace.png");
        (code, _, error) = Emu("plot", "tcp", trace.CsvPath, "-o", png, "--width", "800", "--height", "600", "--connection", trace.Client);
        Assert.True(code == 0, error);
        byte[] bytes = File.ReadAllBytes(png);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
        Assert.Equal(800, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)));   // IHDR width
        Assert.Equal(600, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
    }

    [Theory]
    [InlineData("", "empty file")]
    [InlineData("a,b,c\n1,2,3\n", "not an emu --tcp-trace header")]
    [InlineData(TcpTraceCsv.Header + "\n", "no rows")]
    [InlineData(TcpTraceCsv.Header + "\n0.1,[fe80::1]:1-[fe80::2]:2,send\n", ":2: 3 fields where the header has 21")]
    [InlineData(TcpTraceCsv.Header + "\nzero,[fe80::1]:1-[fe80::2]:2,send,,ESTABLISHED,1,0,,.,1,1,14400,,0.000,0.000,1000.000,0,0,0,0,65535\n", ":2: 'time' is not a number")]
    [InlineData(TcpTraceCsv.Header + "\n0.1,[fe80::1]:1-[fe80::2]:2,send,,ESTABLISHED,1,0,,.,-5,1,14400,,0.000,0.000,1000.000,0,0,0,0,65535\n", "'snd_una' is not a 32-bit sequence number")]
    public void BadTracesAreRefusedWithExitTwo(string content, string reason)
    {
        string csv = Path.Combine(trace.Directory.FullName, $"bad-{Guid.NewGuid():N}.csv");
        File.WriteAllText(csv, content);
        (int code, _, string error) = Emu("plot", "tcp", csv, "-o", Path.Combine(trace.Directory.FullName, "bad.svg"));
        Assert.Equal(2, code);
        Assert.Contains(reason, error);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.StartsWith("emu plot tcp: ", error);
    }

    [Theory]
    [InlineData("missing", "no such file")]
    [InlineData("output", "must end in .svg or .png")]
    [InlineData("connection", "has no connection")]
    [InlineData("width", "--width and --height")]
    public void BadArgumentsAreRefusedWithExitTwo(string what, string reason)
    {
        string dir = trace.Directory.FullName;
        string[] args = what switch
        {
            "missing" => ["plot", "tcp", Path.Combine(dir, "nonexistent.csv"), "-o", Path.Combine(dir, "x.svg")],
            "output" => ["plot", "tcp", trace.CsvPath, "-o", Path.Combine(dir, "x.jpg")],
            "connection" => ["plot", "tcp", trace.CsvPath, "-o", Path.Combine(dir, "x.svg"), "--connection", "[::1]:1-[::1]:2"],
            _ => ["plot", "tcp", trace.CsvPath, "-o", Path.Combine(dir, "x.svg"), "--width", "5"],
        };
        (int code, _, string error) = Emu(args);
        Assert.Equal(2, code);
        Assert.Contains(reason, error);
    }
}
