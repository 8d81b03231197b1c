using System.Buffers.Binary;
using System.Globalization;
using System.Text.RegularExpressions;
using Emu.Emulator.Machine;
using Emu.Stack.Ipv6;
using Emu.Stack.Sockets;
using Emu.Stack.Tcp;
using Emu.Stack.Wire;

namespace Emu.Tests.Stack;

/// <summary>
/// Segment-level TCP tests in the style of packetdrill: a script of timed lines, each an inbound segment to inject
/// (<c>&lt;</c>), an outbound segment our stack must send then (<c>&gt;</c>), or a socket call. Sequence numbers are relative:
/// inbound ones to the script's ISN (0 = <see cref="RemoteIsn"/>), outbound ones to ours; ACKs to the other side's.
/// Times are seconds, absolute or <c>+relative</c>; an outbound segment may come within <see cref="Tolerance"/> of its time.
/// Timestamps: an inbound <c>ecr</c> is replaced by our last TSval; an outbound <c>val *</c> is not checked.
///
/// <code>
/// 0     bind(8080)
/// +0    listen(1)
/// +0    &lt; S 0:0(0) win 65535 &lt;mss 1440,sackOK,TS val 100 ecr 0,nop,wscale 7&gt;
/// +0    &gt; S. 0:0(0) ack 1 &lt;mss 1440,sackOK,TS val * ecr 100,nop,wscale 7&gt;
/// +.01  &lt; . 1:1(0) ack 1 win 502 &lt;nop,nop,TS val 110 ecr 0&gt;
/// +0    accept()
/// </code>
/// Calls: bind(port), listen(n), accept(), connect(port), write(n) [= r], read(n) = r, close(), shutdown(), nodelay(),
/// linger0(), keepalive(idle, interval, count), rcvbuf(n), cc(name), state(NAME), sndwnd(bytes), error(ERRNO).
/// </summary>
public sealed partial class TcpScript
{
    public const uint RemoteIsn = 1_000_000;
    public const ushort RemotePort = 40000;
    public static readonly byte[] RemoteMac = [0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc];
    public static readonly Ipv6Address RemoteAddress = Ipv6Address.Parse("fe80::1234");
    private static readonly long Tolerance = 4_000_000;

    private readonly EventScheduler _scheduler = new();
    private readonly List<string> _trace = [];
    private TcpSocket? _socket;
    private TcpSocket? _listener;
    private uint _ourIsn;
    private bool _ourIsnKnown;
    private ushort _localPort = 8080;
    private ushort _remotePort = RemotePort;
    private int _consumed;
    private uint _lastOurTsVal;
    private long _origin;

    public TcpScript()
    {
        Node = new StackNode(_scheduler, 0x01);
        Node.Up();
        _scheduler.RunFor(3_000_000_000);
        Node.Ip.NeighAddPermanent(Node.Idev, RemoteAddress, RemoteMac);
        Node.Sent.Clear();
        _origin = _scheduler.Now;
    }

    public StackNode Node { get; }

    public TcpSocket Socket => _socket ?? throw new InvalidOperationException("no socket yet");

    public EventScheduler Scheduler => _scheduler;

    [GeneratedRegex(@"^(?<flags>[SFPRU.]+)\s+(?<seq>\d+):(?<end>\d+)\((?<len>\d+)\)(\s+ack\s+(?<ack>\d+|\*))?(\s+win\s+(?<win>\d+|\*))?(\s+<(?<opts>[^>]*)>)?\s*$")]
    private static partial Regex SegmentLine();

    [GeneratedRegex(@"^(?<name>\w+)\((?<args>[^)]*)\)(\s*=\s*(?<ret>-?\w+))?\s*$")]
    private static partial Regex CallLine();

    /// <summary>Runs a script; a line that does not hold fails the test with the line and what happened.</summary>
    public void Run(string script)
    {
        long time = 0;
        int number = 0;
        foreach (string raw in script.Split('\n'))
        {
            number++;
            string line = raw.Trim();
            int comment = line.IndexOf("//", StringComparison.Ordinal);
            if (comment >= 0)
            {
                line = line[..comment].Trim();
            }

            if (line.Length == 0)
            {
                continue;
            }

            int space = line.IndexOfAny([' ', '\t']);
            string when = line[..space];
            string rest = line[space..].Trim();
            long t = (long)(double.Parse(when.TrimStart('+'), CultureInfo.InvariantCulture) * 1e9);
            time = when.StartsWith('+') ? time + t : t;
            try
            {
                if (rest.StartsWith('<'))
                {
                    RunUntil(_origin + time);
                    Inject(rest[1..].Trim());
                }
                else if (rest.StartsWith('>'))
                {
                    Expect(rest[1..].Trim(), _origin + time);
                }
                else
                {
                    RunUntil(_origin + time);
                    Call(rest);
                }
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                throw new Xunit.Sdk.XunitException($"line {number} '{line}': {e.Message}\n{string.Join('\n', _trace)}");
            }
            catch (Xunit.Sdk.XunitException e)
            {
                throw new Xunit.Sdk.XunitException($"line {number} '{line}': {e.Message}\n{string.Join('\n', _trace)}");
            }
        }

        // Nothing may be sent that the script did not expect, up to its last line's time.
        if (NextOurSegment() is { } extra)
        {
            throw new Xunit.Sdk.XunitException($"unexpected segment at the end: {Describe(extra)}\n{string.Join('\n', _trace)}");
        }
    }

    private void RunUntil(long absolute)
    {
        if (absolute > _scheduler.Now)
        {
            // Stop early if we send something unexpected before the line's time.
            while (_scheduler.Now < absolute)
            {
                long? next = _scheduler.NextDeadline;
                long step = next is long n && n < absolute ? Math.Max(n, _scheduler.Now) : absolute;
                _scheduler.RunUntil(step);
                if (NextOurSegment() is { } early && _scheduler.Now < absolute - Tolerance)
                {
                    throw new Xunit.Sdk.XunitException($"sent at {Seconds(_scheduler.Now)} before the line's time: {Describe(early)}");
                }

                if (next is null)
                {
                    _scheduler.RunUntil(absolute);
                }
            }
        }
    }

    private string Seconds(long ns) => ((ns - _origin) / 1e9).ToString("F3", CultureInfo.InvariantCulture);

    // ---- Inbound ----

    private void Inject(string text)
    {
        Match m = SegmentLine().Match(text);
        Assert.True(m.Success, $"not a segment: {text}");
        TcpFlags flags = ParseFlags(m.Groups["flags"].Value);
        uint seq = RemoteIsn + uint.Parse(m.Groups["seq"].Value, CultureInfo.InvariantCulture);
        int len = int.Parse(m.Groups["len"].Value, CultureInfo.InvariantCulture);
        uint ack = m.Groups["ack"].Success ? _ourIsn + uint.Parse(m.Groups["ack"].Value, CultureInfo.InvariantCulture) : 0;
        if (m.Groups["ack"].Success)
        {
            flags |= TcpFlags.Ack;
        }

        ushort win = m.Groups["win"].Success ? ushort.Parse(m.Groups["win"].Value, CultureInfo.InvariantCulture) : (ushort)65535;
        Span<byte> options = stackalloc byte[40];
        int optionLength = m.Groups["opts"].Success ? WriteOptions(m.Groups["opts"].Value, options, inbound: true) : 0;
        byte[] segment = new byte[20 + optionLength + len];
        TcpHeader.Write(segment, _remotePort, _localPort, seq, ack, 20 + optionLength, flags, win);
        options[..optionLength].CopyTo(segment.AsSpan(20));
        for (int i = 0; i < len; i++)
        {
            segment[20 + optionLength + i] = (byte)(seq + i);
        }

        BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(16), Checksum.Compute(RemoteAddress, Node.LinkLocal, IpProto.Tcp, segment));
        _trace.Add($"{Seconds(_scheduler.Now)} < {text}");
        Node.InjectIpv6(Packets.Ipv6(RemoteAddress, Node.LinkLocal, IpProto.Tcp, segment), RemoteMac);
    }

    private static TcpFlags ParseFlags(string text)
    {
        TcpFlags flags = 0;
        foreach (char c in text)
        {
            flags |= c switch
            {
                'S' => TcpFlags.Syn,
                'F' => TcpFlags.Fin,
                'P' => TcpFlags.Psh,
                'R' => TcpFlags.Rst,
                'U' => TcpFlags.Urg,
                '.' => TcpFlags.Ack,
                _ => throw new FormatException($"flag '{c}'"),
            };
        }

        return flags;
    }

    private int WriteOptions(string text, Span<byte> o, bool inbound)
    {
        int at = 0;
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            string[] w = part.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            switch (w[0])
            {
                case "nop":
                    o[at++] = TcpOptions.Nop;
                    break;
                case "eol":
                    o[at++] = TcpOptions.End;
                    break;
                case "mss":
                    o[at] = TcpOptions.MssKind;
                    o[at + 1] = 4;
                    BinaryPrimitives.WriteUInt16BigEndian(o[(at + 2)..], ushort.Parse(w[1], CultureInfo.InvariantCulture));
                    at += 4;
                    break;
                case "sackOK":
                    o[at] = TcpOptions.SackPermittedKind;
                    o[at + 1] = 2;
                    at += 2;
                    break;
                case "wscale":
                    o[at] = TcpOptions.WindowScaleKind;
                    o[at + 1] = 3;
                    o[at + 2] = byte.Parse(w[1], CultureInfo.InvariantCulture);
                    at += 3;
                    break;
                case "TS":
                    o[at] = TcpOptions.TimestampKind;
                    o[at + 1] = 10;
                    BinaryPrimitives.WriteUInt32BigEndian(o[(at + 2)..], uint.Parse(w[2], CultureInfo.InvariantCulture));
                    BinaryPrimitives.WriteUInt32BigEndian(o[(at + 6)..], inbound ? _lastOurTsVal : 0);
                    at += 10;
                    break;
                case "sack":
                    int blocks = w.Length - 1;
                    o[at] = TcpOptions.SackKind;
                    o[at + 1] = (byte)(2 + (8 * blocks));
                    for (int b = 0; b < blocks; b++)
                    {
                        string[] edges = w[1 + b].Split(':');
                        BinaryPrimitives.WriteUInt32BigEndian(o[(at + 2 + (8 * b))..], _ourIsn + uint.Parse(edges[0], CultureInfo.InvariantCulture));
                        BinaryPrimitives.WriteUInt32BigEndian(o[(at + 6 + (8 * b))..], _ourIsn + uint.Parse(edges[1], CultureInfo.InvariantCulture));
                    }

                    at += 2 + (8 * blocks);
                    break;
                default:
                    throw new FormatException($"option '{part}'");
            }
        }

        while (at % 4 != 0)
        {
            o[at++] = TcpOptions.Nop;
        }

        return at;
    }

    // ---- Outbound ----

    private byte[]? NextOurSegment()
    {
        List<byte[]> tcp = Node.SentIpv6(p => p.UpperProtocol == IpProto.Tcp);
        return _consumed < tcp.Count ? tcp[_consumed] : null;
    }

    private void Expect(string text, long when)
    {
        RunUntil(when - Tolerance);
        byte[]? packet = NextOurSegment();
        while (packet is null && _scheduler.Now < when + Tolerance)
        {
            long? next = _scheduler.NextDeadline;
            _scheduler.RunUntil(next is long n && n <= when + Tolerance ? Math.Max(n, _scheduler.Now) : when + Tolerance);
            packet = NextOurSegment();
            if (next is null)
            {
                break;
            }
        }

        Assert.True(packet is not null, $"expected at {Seconds(when)}: > {text}; nothing sent by {Seconds(_scheduler.Now)}");
        _consumed++;
        var p = new StackNode.Packet(packet);
        ReadOnlySpan<byte> seg = p.Upper;
        Assert.True(TcpHeader.TryParse(seg, out TcpHeader h, out string? reason), reason);
        if (h.Has(TcpFlags.Syn) && !_ourIsnKnown)
        {
            _ourIsn = h.Seq;
            _ourIsnKnown = true;
        }

        if (h.Options.HasTimestamp)
        {
            _lastOurTsVal = h.Options.TsVal;
        }

        string actual = Describe(packet);
        _trace.Add($"{Seconds(_scheduler.Now)} > {actual}   (expected {text})");
        Match m = SegmentLine().Match(text);
        Assert.True(m.Success, $"not a segment: {text}");
        TcpFlags want = ParseFlags(m.Groups["flags"].Value) | (m.Groups["ack"].Success ? TcpFlags.Ack : 0);
        int len = seg.Length - h.DataOffset;
        bool ok = h.Flags == want
            && h.Seq - _ourIsn == uint.Parse(m.Groups["seq"].Value, CultureInfo.InvariantCulture)
            && len == int.Parse(m.Groups["len"].Value, CultureInfo.InvariantCulture)
            && (!m.Groups["ack"].Success || m.Groups["ack"].Value == "*" || h.Ack - RemoteIsn == uint.Parse(m.Groups["ack"].Value, CultureInfo.InvariantCulture))
            && (!m.Groups["win"].Success || m.Groups["win"].Value == "*" || h.Window == ushort.Parse(m.Groups["win"].Value, CultureInfo.InvariantCulture))
            && (!m.Groups["opts"].Success || OptionsMatch(m.Groups["opts"].Value, h.Options));
        Assert.True(ok, $"at {Seconds(_scheduler.Now)} sent {actual}, expected {text}");
        Assert.True(Checksum.Verify(p.Source, p.Destination, IpProto.Tcp, seg), "bad checksum");
    }

    private bool OptionsMatch(string text, in TcpOptions o)
    {
        bool mss = false, ws = false, sackOk = false, ts = false, sack = false;
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            string[] w = part.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            switch (w[0])
            {
                case "mss":
                    mss = true;
                    if (w[1] != "*" && o.Mss != ushort.Parse(w[1], CultureInfo.InvariantCulture))
                    {
                        return false;
                    }

                    break;
                case "wscale":
                    ws = true;
                    if (o.WindowScale != int.Parse(w[1], CultureInfo.InvariantCulture))
                    {
                        return false;
                    }

                    break;
                case "sackOK":
                    sackOk = true;
                    break;
                case "TS":
                    ts = true;
                    if (!o.HasTimestamp || (w[4] != "*" && o.TsEcr != uint.Parse(w[4], CultureInfo.InvariantCulture)))
                    {
                        return false;
                    }

                    break;
                case "sack":
                    sack = true;
                    if (o.SackCount != w.Length - 1)
                    {
                        return false;
                    }

                    for (int b = 0; b < o.SackCount; b++)
                    {
                        string[] edges = w[1 + b].Split(':');
                        (uint left, uint right) = o.SackBlock(b);
                        if (left - RemoteIsn != uint.Parse(edges[0], CultureInfo.InvariantCulture) || right - RemoteIsn != uint.Parse(edges[1], CultureInfo.InvariantCulture))
                        {
                            return false;
                        }
                    }

                    break;
            }
        }

        return mss == (o.Mss != 0) && ws == (o.WindowScale >= 0) && sackOk == o.SackPermitted && ts == o.HasTimestamp && sack == (o.SackCount > 0);
    }

    private string Describe(byte[] packet)
    {
        ReadOnlySpan<byte> seg = new StackNode.Packet(packet).Upper;
        if (!TcpHeader.TryParse(seg, out TcpHeader h, out _))
        {
            return "(not TCP)";
        }

        uint isn = _ourIsnKnown ? _ourIsn : h.Seq;
        string flags = string.Concat(
            h.Has(TcpFlags.Syn) ? "S" : string.Empty,
            h.Has(TcpFlags.Fin) ? "F" : string.Empty,
            h.Has(TcpFlags.Psh) ? "P" : string.Empty,
            h.Has(TcpFlags.Rst) ? "R" : string.Empty,
            h.Has(TcpFlags.Ack) ? "." : string.Empty);
        int len = seg.Length - h.DataOffset;
        uint seq = h.Seq - isn;
        var parts = new List<string>();
        TcpOptions o = h.Options;
        if (o.Mss != 0)
        {
            parts.Add($"mss {o.Mss}");
        }

        if (o.SackPermitted)
        {
            parts.Add("sackOK");
        }

        if (o.HasTimestamp)
        {
            parts.Add($"TS val {o.TsVal} ecr {o.TsEcr}");
        }

        if (o.WindowScale >= 0)
        {
            parts.Add($"wscale {o.WindowScale}");
        }

        if (o.SackCount > 0)
        {
            parts.Add("sack " + string.Join(' ', Enumerable.Range(0, o.SackCount).Select(b => $"{o.SackBlock(b).Left - RemoteIsn}:{o.SackBlock(b).Right - RemoteIsn}")));
        }

        string ack = h.Has(TcpFlags.Ack) ? $" ack {h.Ack - RemoteIsn}" : string.Empty;
        return $"{flags} {seq}:{seq + (uint)len}({len}){ack} win {h.Window}" + (parts.Count > 0 ? $" <{string.Join(',', parts)}>" : string.Empty);
    }

    // ---- Calls ----

    private void Call(string text)
    {
        Match m = CallLine().Match(text);
        Assert.True(m.Success, $"not a call: {text}");
        string name = m.Groups["name"].Value;
        string[] args = m.Groups["args"].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        string? ret = m.Groups["ret"].Success ? m.Groups["ret"].Value : null;
        int Arg(int i) => int.Parse(args[i], CultureInfo.InvariantCulture);
        _trace.Add($"{Seconds(_scheduler.Now)} {text}");
        switch (name)
        {
            case "bind":
                _socket ??= TcpTests.Tcp(Node);
                _localPort = (ushort)Arg(0);
                Assert.Equal(0, _socket.Bind(new Ipv6EndPoint(Ipv6Address.Unspecified, _localPort)));
                break;
            case "listen":
                Assert.Equal(0, Socket.Listen(Arg(0)));
                _listener = _socket;
                break;
            case "accept":
                Assert.True(_listener!.TryAccept(out TcpSocket? accepted), "accept: no connection");
                _socket = accepted;
                break;
            case "connect":
                _socket ??= TcpTests.Tcp(Node);
                _remotePort = (ushort)Arg(0);
                int r = _socket.Connect(new Ipv6EndPoint(RemoteAddress, _remotePort, Node.Dev.IfIndex));
                Assert.Equal(-Errno.EInProgress, r);
                _localPort = _socket.Local.Port;
                break;
            case "write":
                int wrote = Socket.Send(new byte[Arg(0)]);
                if (ret is not null)
                {
                    Assert.Equal(int.Parse(ret, CultureInfo.InvariantCulture), wrote);
                }

                break;
            case "read":
                int read = Socket.Receive(new byte[Arg(0)]);
                Assert.Equal(ParseReturn(ret ?? "0"), read);
                break;
            case "close":
                Socket.Dispose();
                break;
            case "shutdown":
                Assert.Equal(0, Socket.Shutdown(read: false, write: true));
                break;
            case "nodelay":
                Socket.NoDelay = true;
                break;
            case "linger0":
                Socket.LingerZero = true;
                break;
            case "keepalive":
                Socket.KeepAliveIdle = TimeSpan.FromSeconds(Arg(0));
                Socket.KeepAliveInterval = TimeSpan.FromSeconds(Arg(1));
                Socket.KeepAliveCount = Arg(2);
                Socket.KeepAlive = true;
                break;
            case "rcvbuf":
                _socket ??= TcpTests.Tcp(Node);
                _socket.ReceiveBufferSize = Arg(0);
                break;
            case "cc":
                _socket ??= TcpTests.Tcp(Node);
                _socket.CongestionControlName = args[0];
                break;
            case "state":
                Assert.Equal(Enum.Parse<TcpState>(args[0], ignoreCase: true), Socket.State);
                break;
            case "sndwnd":
                Assert.Equal((uint)Arg(0), Socket.SendWindow);
                break;
            case "error":
                Assert.Equal(ParseReturn(args[0]), -Socket.Error);
                break;
            default:
                throw new FormatException($"unknown call '{name}'");
        }
    }

    private static int ParseReturn(string text) => text switch
    {
        "EAGAIN" => -Errno.EAgain,
        "ECONNRESET" => -Errno.EConnReset,
        "ECONNREFUSED" => -Errno.EConnRefused,
        "ETIMEDOUT" => -Errno.ETimedOut,
        "EPIPE" => -Errno.EPipe,
        _ => int.Parse(text, CultureInfo.InvariantCulture),
    };
}
