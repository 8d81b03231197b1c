using Emu.Stack.Core;
using Emu.Stack.Ipv6;
using Emu.Stack.Sockets;

namespace Emu.Stack.Tcp;

/// <summary>
/// The connection's timers on the node's virtual clock: retransmission (RFC 6298) and persist (zero-window probes,
/// RFC 9293 §3.8.6.1), delayed ACK, keepalive (RFC 9293 §3.8.4), TIME-WAIT and the orphaned FIN-WAIT-2 timeout.
/// </summary>
public sealed partial class TcpSocket
{
    /// <summary>RFC 6298 §2.1: the initial RTO.</summary>
    public const long InitialRtoNs = 1_000_000_000;

    /// <summary>Linux's TCP_RTO_MIN (RFC 6298 §2.4 says 1 s; Linux and most stacks use 200 ms).</summary>
    public const long MinRtoNs = 200_000_000;

    /// <summary>RFC 6298 §2.5: the RTO's upper bound (Linux's TCP_RTO_MAX).</summary>
    public const long MaxRtoNs = 120_000_000_000;

    /// <summary>Linux's minimum delayed-ACK timeout (TCP_DELACK_MIN).</summary>
    public const long DelayedAckNs = 40_000_000;

    /// <summary>2 MSL of TIME-WAIT as Linux keeps it (TCP_TIMEWAIT_LEN).</summary>
    public const long TimeWaitNs = 60_000_000_000;

    /// <summary>tcp_fin_timeout: how long an orphaned FIN-WAIT-2 waits for the peer's FIN.</summary>
    public const long FinWait2TimeoutNs = 60_000_000_000;

    /// <summary>tcp_retries2 and tcp_syn_retries: retransmissions before the connection is given up.</summary>
    public const int MaxRetries = 15;

    public const int MaxSynRetries = 6;

    private IKernelTimer _rtxTimer = null!;
    private IKernelTimer _delackTimer = null!;
    private IKernelTimer _keepTimer = null!;
    private bool _persistMode;
    private bool _keepAlive;
    private bool _timeWait;
    private bool _finWait2Timer;
    private int _backoff;
    private int _keepaliveProbes;
    private long _lastReceived;
    private long _srtt;
    private long _rttvar;
    private long _rto = InitialRtoNs;
    private bool _rttTiming;
    private uint _rttSeq;
    private long _rttStart;

    /// <summary>SRTT in nanoseconds (0 before the first sample).</summary>
    public long SmoothedRttNs => _srtt;

    /// <summary>The current retransmission timeout, before backoff.</summary>
    public long RtoNs => _rto;

    /// <summary>RTTVAR in nanoseconds (RFC 6298 §2).</summary>
    public long RttVarianceNs => _rttvar;

    /// <summary>The retransmission timeout as the timer uses it: RTO backed off (ss -i's "rto").</summary>
    public long BackedOffRtoNs => Math.Min(MaxRtoNs, _rto << Math.Min(_backoff, 20));

    /// <summary>Consecutive timeouts without progress (Linux's icsk_backoff).</summary>
    public int Backoff => _backoff;

    private void InitTimers()
    {
        _rtxTimer = Stack.Clock.CreateTimer("tcp retransmit", OnRetransmitTimer);
        _delackTimer = Stack.Clock.CreateTimer("tcp delack", () =>
        {
            if (_ackPending && State is not (TcpState.Closed or TcpState.Listen or TcpState.SynSent))
            {
                Stack.Snmp.Inc(Snmp6Counter.TcpExtDelayedACKs);
                Transmit(_sndNxt, 0, TcpFlags.Ack, reason: "delayed ack");
            }
        });
        _keepTimer = Stack.Clock.CreateTimer("tcp keepalive", OnKeepTimer);
    }

    private void CancelTimers()
    {
        _rtxTimer.Cancel();
        _delackTimer.Cancel();
        _keepTimer.Cancel();
    }

    /// <summary>RFC 6298 §2.2–2.3 (in ms, as timestamps echo): SRTT, RTTVAR and RTO = SRTT + max(G, 4·RTTVAR), clamped.</summary>
    private void SampleRtt(uint ms)
    {
        if (ms > 600_000)
        {
            return;   // nonsense (a wrapped or forged echo)
        }

        long r = Math.Max(1, (long)ms) * 1_000_000;
        if (_srtt == 0)
        {
            _srtt = r;
            _rttvar = r / 2;
        }
        else
        {
            _rttvar = ((3 * _rttvar) + Math.Abs(_srtt - r)) / 4;
            _srtt = ((7 * _srtt) + r) / 8;
        }

        _rto = Math.Clamp(_srtt + Math.Max(1_000_000, 4 * _rttvar), MinRtoNs, MaxRtoNs);
    }

    private long _rtxDeadline;

    /// <summary>
    /// Arms the retransmission timer for RTO (backed off) from now; with <paramref name="restart"/>, moves it. Moving a
    /// deadline later does not touch the kernel timer (Linux's lazy way): the timer fires at the old time, sees the new
    /// deadline and re-arms once — one timer event per RTO instead of one per ACK.
    /// </summary>
    private void ArmRetransmit(bool restart = false)
    {
        _persistMode = false;
        if (!restart && _rtxTimer.IsPending)
        {
            return;
        }

        long timeout = Math.Min(MaxRtoNs, _rto << Math.Min(_backoff, 20));
        _rtxDeadline = Stack.Clock.Now + timeout;
        if (!_rtxTimer.IsPending || _rtxTimer.Deadline > _rtxDeadline)
        {
            _rtxTimer.Arm(_rtxDeadline);
        }
    }

    /// <summary>The persist timer: with a zero window and nothing in flight, probe after the backed-off RTO.</summary>
    private void ArmPersist()
    {
        if (_rtxTimer.IsPending && _persistMode)
        {
            return;
        }

        _persistMode = true;
        _rtxDeadline = Stack.Clock.Now + Math.Min(MaxRtoNs, Math.Max(MinRtoNs, _rto) << Math.Min(_backoff, 20));
        _rtxTimer.Arm(_rtxDeadline);
    }

    /// <summary>
    /// RTO expiry (RFC 6298 §5.4–5.7, RFC 5681 §3.1): back off, collapse cwnd to one segment and ssthresh to half the
    /// flight, mark everything not SACKed lost and resend from SND.UNA; give up after tcp_retries2 (ETIMEDOUT).
    /// In persist mode, send a zero-window probe instead.
    /// </summary>
    private void OnRetransmitTimer()
    {
        if (State is TcpState.Closed or TcpState.Listen or TcpState.TimeWait)
        {
            return;
        }

        if (Stack.Clock.Now < _rtxDeadline)
        {
            _rtxTimer.Arm(_rtxDeadline);   // the deadline moved on meanwhile
            return;
        }

        if (_persistMode)
        {
            SendWindowProbe();
            return;
        }

        if (_scoreboard.Count == 0)
        {
            return;
        }

        bool syn = State is TcpState.SynSent or TcpState.SynReceived;
        if (_backoff >= (syn ? MaxSynRetries : MaxRetries))
        {
            Stack.Snmp.Inc(Snmp6Counter.TcpExtTCPAbortOnTimeout);
            if (syn)
            {
                Stack.Snmp.Inc(Snmp6Counter.TcpAttemptFails);
            }

            Error = Errno.ETimedOut;
            _tcp.Probe?.OnEvent(this, new TcpProbeEvent(TcpProbeKind.RetransmitTimeout, "too many retries"));
            if (State == TcpState.SynReceived && Parent is not null)
            {
                Destroy();
                return;
            }

            SendRst(_sndNxt);
            Destroy();
            return;
        }

        _backoff++;
        Stack.Snmp.Inc(syn ? Snmp6Counter.TcpExtTCPSynRetrans : Snmp6Counter.TcpExtTCPTimeouts);
        if (!syn)
        {
            if (_backoff == 1)
            {
                // RFC 5681 §3.1 (4): only the first timeout of a segment halves; later ones leave ssthresh.
                SsThreshold = Congestion.SsThresh(this, Stack.Clock.Now);
            }

            Congestion.OnTimeout(this);
            Cwnd = (uint)SendMss;
            if (_inRecovery)
            {
                _tcp.Probe?.OnEvent(this, new TcpProbeEvent(TcpProbeKind.RecoveryExit, "rto"));
            }

            _inRecovery = false;
            _recoveryPoint = _sndMax;
            _dupAcks = 0;
            for (int i = 0; i < _scoreboard.Count; i++)
            {
                if (!_scoreboard[i].Sacked)
                {
                    _scoreboard.SetFlags(i, sacked: false, lost: true, retransmitted: false);
                }
            }
        }

        _rttTiming = false;
        _tcp.Probe?.OnEvent(this, new TcpProbeEvent(TcpProbeKind.RetransmitTimeout, syn ? "syn" : "rto"));
        RetransmitSegment(0, "rto");
        ArmRetransmit(restart: true);
    }

    /// <summary>
    /// A zero-window probe (tcp_send_probe0, RFC 9293 §3.8.6.1): an ACK with SND.UNA − 1, which the receiver answers
    /// with its current window; probing continues, backed off, as long as the window stays closed.
    /// </summary>
    private void SendWindowProbe()
    {
        Stack.Snmp.Inc(Snmp6Counter.TcpExtTCPWinProbe);
        Transmit(_sndUna - 1, 0, TcpFlags.Ack, reason: "zero-window probe");
        _backoff = Math.Min(_backoff + 1, MaxRetries);
        _persistMode = false;
        if (_sndWnd == 0)
        {
            ArmPersist();
        }
        else
        {
            Push();
        }
    }

    private void ArmKeepalive()
    {
        if (_timeWait || _finWait2Timer)
        {
            return;
        }

        if (!_keepAlive || State is not (TcpState.Established or TcpState.CloseWait or TcpState.FinWait1 or TcpState.FinWait2))
        {
            _keepTimer.Cancel();
            return;
        }

        _lastReceived = Stack.Clock.Now;
        _keepTimer.ArmIn((long)KeepAliveIdle.TotalMilliseconds * 1_000_000);
    }

    /// <summary>Keepalive (RFC 9293 §3.8.4), TIME-WAIT end, or the orphaned FIN-WAIT-2 timeout.</summary>
    private void OnKeepTimer()
    {
        if (_timeWait)
        {
            Stack.Snmp.Inc(Snmp6Counter.TcpExtTW);
            Destroy();
            return;
        }

        if (_finWait2Timer)
        {
            Destroy();
            return;
        }

        if (!_keepAlive || State is TcpState.Closed)
        {
            return;
        }

        long idle = Stack.Clock.Now - _lastReceived;
        long idleLimit = (long)KeepAliveIdle.TotalMilliseconds * 1_000_000;
        if (idle < idleLimit && _keepaliveProbes == 0)
        {
            _keepTimer.ArmIn(idleLimit - idle);
            return;
        }

        if (_keepaliveProbes >= KeepAliveCount)
        {
            Error = Errno.ETimedOut;
            Stack.Snmp.Inc(Snmp6Counter.TcpExtTCPAbortOnTimeout);
            SendRst(_sndNxt);
            Destroy();
            return;
        }

        // A probe: SND.UNA − 1 with no data, which the peer must ACK (Linux's form).
        _keepaliveProbes++;
        Stack.Snmp.Inc(Snmp6Counter.TcpExtTCPKeepAlive);
        Transmit(_sndUna - 1, 0, TcpFlags.Ack, reason: "keepalive");
        _keepTimer.ArmIn((long)KeepAliveInterval.TotalMilliseconds * 1_000_000);
    }

    private void EnterTimeWait()
    {
        SetState(TcpState.TimeWait, "fin");
        _rtxTimer.Cancel();
        _delackTimer.Cancel();
        _timeWait = true;
        _finWait2Timer = false;
        _keepTimer.ArmIn(TimeWaitNs);
        _connectWaiter.Complete(0);
    }

    /// <summary>A FIN retransmitted into TIME-WAIT is ACKed again and restarts the 2 MSL wait (§3.10.7.4).</summary>
    internal void OnTimeWaitSegment(in TcpHeader h)
    {
        if (h.Has(TcpFlags.Rst))
        {
            Destroy();   // RFC 1337 is not applied, as in Linux's default (tcp_rfc1337 = 0)
            return;
        }

        if (h.Has(TcpFlags.Fin) || h.Seq != _rcvNxt)
        {
            SendAck();
            _keepTimer.ArmIn(TimeWaitNs);
        }
    }

    private void ArmFinWait2()
    {
        _finWait2Timer = true;
        _keepTimer.ArmIn(FinWait2TimeoutNs);
    }
}
