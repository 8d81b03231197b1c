using System.Globalization;
using System.Runtime.CompilerServices;
using Emu.Stack.Core;
using Emu.Stack.Tcp;

namespace Emu.Host.Instruments;

/// <summary>
/// <c>--tcp-trace FILE.csv</c> (issue 20): one row per TCP event with the connection's variables, what Linux's
/// tcp_probe tracepoint and <c>ss -i</c> give together; <c>emu plot tcp</c> reads it. Rows are formatted into one
/// reused buffer (no allocation per row once a connection's name is made).
/// </summary>
public sealed class TcpTraceCsv : TcpProbe, IDisposable
{
    /// <summary>The header row; units in the names (bytes, segments, milliseconds, seconds of virtual time).</summary>
    public const string Header = "time,connection,event,reason,state,seq,len,ack,flags,snd_una,snd_nxt,cwnd,ssthresh,srtt_ms,rttvar_ms,rto_ms,in_flight,sacked,lost,retransmits,rwnd";

    private readonly TextWriter _out;
    private readonly IKernelClock _clock;
    private readonly bool _owns;
    private readonly char[] _line = new char[1024];
    private readonly ConditionalWeakTable<TcpSocket, Name> _names = [];
    private int _length;
    private bool _failed;

    public TcpTraceCsv(TextWriter output, IKernelClock clock, bool ownsWriter = false)
    {
        _out = output;
        _clock = clock;
        _owns = ownsWriter;
        Write(Header);
        _out.Write('\n');
    }

    /// <summary>Rows written (the header not counted).</summary>
    public long Rows { get; private set; }

    /// <summary>Opens <paramref name="file"/> for a trace; false after a one-line error on <paramref name="stderr"/>.</summary>
    public static bool TryCreate(FileInfo file, IKernelClock clock, TextWriter stderr, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out TcpTraceCsv? trace)
    {
        trace = null;
        try
        {
            var writer = new StreamWriter(new FileStream(file.FullName, FileMode.Create, FileAccess.Write, FileShare.Read), new System.Text.UTF8Encoding(false), 1 << 16);
            trace = new TcpTraceCsv(writer, clock, ownsWriter: true);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"emu: --tcp-trace {file.FullName}: {e.Message}");
            return false;
        }
    }

    /// <summary>Linux's names for the states (tcp_state_name without TCP_), as the tracepoints print them.</summary>
    public static string StateName(TcpState state) => state switch
    {
        TcpState.Closed => "CLOSE",
        TcpState.Listen => "LISTEN",
        TcpState.SynSent => "SYN_SENT",
        TcpState.SynReceived => "SYN_RECV",
        TcpState.Established => "ESTABLISHED",
        TcpState.FinWait1 => "FIN_WAIT1",
        TcpState.FinWait2 => "FIN_WAIT2",
        TcpState.CloseWait => "CLOSE_WAIT",
        TcpState.Closing => "CLOSING",
        TcpState.LastAck => "LAST_ACK",
        TcpState.TimeWait => "TIME_WAIT",
        _ => "UNKNOWN",
    };

    public static string EventName(TcpProbeKind kind) => kind switch
    {
        TcpProbeKind.Send => "send",
        TcpProbeKind.Retransmit => "retransmit",
        TcpProbeKind.Receive => "receive",
        TcpProbeKind.StateChange => "state",
        TcpProbeKind.RetransmitTimeout => "rto",
        TcpProbeKind.RecoveryEnter => "recovery_enter",
        TcpProbeKind.RecoveryExit => "recovery_exit",
        _ => "unknown",
    };

    public override void OnEvent(TcpSocket socket, in TcpProbeEvent e)
    {
        if (_failed)
        {
            return;
        }

        _length = 0;
        long now = _clock.Now;
        Append(now / 1_000_000_000);
        Append('.');
        AppendPadded(now % 1_000_000_000, "D9");
        Append(',');
        Append(ConnectionName(socket));
        Append(',');
        Append(EventName(e.Kind));
        Append(',');
        AppendField(e.Reason);
        Append(',');
        Append(StateName(socket.State));
        Append(',');
        if (e.IsSegment)
        {
            Append(e.Seq);
            Append(',');
            Append(e.Length);
            Append(',');
            if ((e.Flags & TcpFlags.Ack) != 0)
            {
                Append(e.Ack);
            }

            Append(',');
            AppendFlags(e.Flags);
        }
        else
        {
            Append(",,,");
        }

        Append(',');
        Append(socket.SendUnacknowledged);
        Append(',');
        Append(socket.SendNext);
        Append(',');
        Append(socket.Cwnd);
        Append(',');
        if (socket.SsThreshold != uint.MaxValue)
        {
            Append(socket.SsThreshold);   // empty while "infinite" (before the first loss), as ss -i leaves it out
        }

        Append(',');
        AppendMs(socket.SmoothedRttNs);
        Append(',');
        AppendMs(socket.RttVarianceNs);
        Append(',');
        AppendMs(socket.BackedOffRtoNs);
        Append(',');
        Append(socket.InFlight);
        Append(',');
        Append(socket.SackedSegments);
        Append(',');
        Append(socket.LostSegments);
        Append(',');
        Append(socket.Retransmits);
        Append(',');
        Append(socket.SendWindow);
        Append('\n');
        try
        {
            _out.Write(_line, 0, _length);
            Rows++;
        }
        catch (IOException)
        {
            _failed = true;   // a full disk ends the trace, not the run
        }

        if (e.Kind == TcpProbeKind.StateChange && socket.State == TcpState.Closed)
        {
            _names.Remove(socket);
        }
    }

    public void Flush()
    {
        try
        {
            _out.Flush();
        }
        catch (IOException)
        {
            _failed = true;
        }
    }

    public void Dispose()
    {
        Flush();
        _failed = true;   // events after the end of the run (a last timer) are not written
        if (_owns)
        {
            _out.Dispose();
        }
    }

    /// <summary>"[src]:port-[dst]:port", made once per connection (and again if its endpoints change, as on connect).</summary>
    private string ConnectionName(TcpSocket socket)
    {
        if (_names.TryGetValue(socket, out Name? name) && name.Local == socket.Local && name.Remote == socket.Remote)
        {
            return name.Text;
        }

        name = new Name(socket.Local, socket.Remote, string.Create(CultureInfo.InvariantCulture, $"[{socket.Local.Address}]:{socket.Local.Port}-[{socket.Remote.Address}]:{socket.Remote.Port}"));
        _names.AddOrUpdate(socket, name);
        return name.Text;
    }

    private void Write(string text)
    {
        _length = 0;
        Append(text);
        _out.Write(_line, 0, _length);
    }

    private void Append(char c) => _line[_length++] = c;

    private void Append(string text)
    {
        text.AsSpan().CopyTo(_line.AsSpan(_length));
        _length += text.Length;
    }

    private void Append(long value)
    {
        value.TryFormat(_line.AsSpan(_length), out int n, default, CultureInfo.InvariantCulture);
        _length += n;
    }

    private void AppendPadded(long value, ReadOnlySpan<char> format)
    {
        value.TryFormat(_line.AsSpan(_length), out int n, format, CultureInfo.InvariantCulture);
        _length += n;
    }

    /// <summary>A free-text field: at most 200 characters, without the CSV's separators.</summary>
    private void AppendField(string text)
    {
        int n = Math.Min(text.Length, 200);
        for (int i = 0; i < n; i++)
        {
            char c = text[i];
            _line[_length++] = c is ',' or '"' or '\n' or '\r' ? ' ' : c;
        }
    }

    /// <summary>Nanoseconds as milliseconds with three decimals (microseconds, as tcp_probe's srtt).</summary>
    private void AppendMs(long ns)
    {
        long us = ns / 1000;
        Append(us / 1000);
        Append('.');
        AppendPadded(us % 1000, "D3");
    }

    /// <summary>tcpdump's letters: S F R P U E W, and "." for ACK.</summary>
    private void AppendFlags(TcpFlags flags)
    {
        if ((flags & TcpFlags.Syn) != 0)
        {
            Append('S');
        }

        if ((flags & TcpFlags.Fin) != 0)
        {
            Append('F');
        }

        if ((flags & TcpFlags.Rst) != 0)
        {
            Append('R');
        }

        if ((flags & TcpFlags.Psh) != 0)
        {
            Append('P');
        }

        if ((flags & TcpFlags.Urg) != 0)
        {
            Append('U');
        }

        if ((flags & TcpFlags.Ece) != 0)
        {
            Append('E');
        }

        if ((flags & TcpFlags.Cwr) != 0)
        {
            Append('W');
        }

        if ((flags & TcpFlags.Ack) != 0)
        {
            Append('.');
        }
    }

    private sealed record Name(Emu.Stack.Sockets.Ipv6EndPoint Local, Emu.Stack.Sockets.Ipv6EndPoint Remote, string Text);
}
