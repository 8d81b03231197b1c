using Emu.Stack.Ipv6;
using Emu.Stack.Sockets;

namespace Emu.Stack.Tcp;

/// <summary>The receive side: SEGMENT ARRIVES (RFC 9293 §3.10.7) with RFC 5961, RFC 7323, RFC 2018/6675 and RFC 5681.</summary>
public sealed partial class TcpSocket
{
    /// <summary>Out-of-order blocks held at most (the rest are dropped and counted).</summary>
    public const int MaxOutOfOrderBlocks = 32;

    /// <summary>RFC 5681 §3.2: DupThresh.</summary>
    public const int DupThresh = 3;

    private readonly OooBlock[] _ooo = new OooBlock[MaxOutOfOrderBlocks];
    private int _oooCount;
    private int _oooLatest = -1;
    private bool _oooFin;
    private uint _oooFinSeq;
    private int _dupAcks;
    private bool _inRecovery;
    private uint _recoveryPoint;
    private bool _ackPending;
    private int _segmentsSinceAck;

    /// <summary>A block of out-of-order data, already placed in the receive buffer at its offset.</summary>
    private struct OooBlock
    {
        public uint Seq;
        public uint End;
    }

    // ---- Passive open: a child of a listener (tcp_v6_syn_recv_sock) ----

    internal void InitPassive(TcpSocket listener, Inet6Dev idev, Ipv6EndPoint local, Ipv6EndPoint remote, in TcpHeader syn, uint iss)
    {
        Parent = listener;
        Idev = idev;
        Local = local;
        Remote = remote;
        NoDelay = listener.NoDelay;
        KeepAlive = listener.KeepAlive;
        Congestion = CongestionControl.Create(listener.CongestionControlName) ?? new Cubic();
        _sendBuffer.Resize(listener.SendBufferSize);
        _receiveBuffer.Resize(listener.ReceiveBufferSize);
        InitConnection(iss);
        _irs = syn.Seq;
        _rcvNxt = syn.Seq + 1;
        TakeSynOptions(syn, passive: true);
        _sndWnd = syn.Window;   // never scaled on a SYN
        _maxSndWnd = _sndWnd;
        _sndWl1 = syn.Seq;
        _sndWl2 = iss;
        _rcvRightEdge = _rcvNxt + SynWindow();   // what the SYN-ACK's unscaled window offers
        SetState(TcpState.SynReceived, "syn");
        SendSyn(ack: true);
    }

    /// <summary>Options from the peer's SYN (RFC 7323 §2.2, §3.2; RFC 2018 §2; RFC 9293 §3.7.1).</summary>
    private void TakeSynOptions(in TcpHeader syn, bool passive)
    {
        TcpOptions o = syn.Options;
        _peerMss = o.Mss != 0 ? o.Mss : DefaultIpv6Mss;
        bool wscale = o.WindowScale >= 0 && (_wscaleOffered || passive);
        _sndWscale = wscale ? o.WindowScale : 0;
        if (!wscale)
        {
            _rcvWscale = 0;
        }

        _tsOk = o.HasTimestamp && (_tsOkOffered || passive);
        _sackOk = o.SackPermitted && (_sackOkOffered || passive);
        if (passive)
        {
            _tsOkOffered = _tsOk;
            _sackOkOffered = _sackOk;
            _wscaleOffered = wscale;
        }

        if (_tsOk)
        {
            _tsRecent = o.TsVal;
        }

        SendMss = Math.Max(64, Math.Min(_peerMss, AdvertisedMss) - (_tsOk ? 12 : 0));
        Cwnd = (uint)(InitialWindowSegments * SendMss);
    }

    // ---- SEGMENT ARRIVES ----

    /// <summary>A segment for this connection (any state but LISTEN and CLOSED); <paramref name="payload"/> is its data.</summary>
    internal void OnSegment(in TcpHeader h, ReadOnlySpan<byte> payload)
    {
        _lastReceived = Stack.Clock.Now;
        _keepaliveProbes = 0;
        if (State == TcpState.SynSent)
        {
            OnSynSentSegment(h);
            return;
        }

        uint segLen = (uint)payload.Length + (h.Has(TcpFlags.Syn) ? 1u : 0u) + (h.Has(TcpFlags.Fin) ? 1u : 0u);

        // A retransmitted SYN on a half-open child: its SYN-ACK again.
        if (State == TcpState.SynReceived && h.Has(TcpFlags.Syn) && !h.Has(TcpFlags.Ack) && h.Seq == _irs)
        {
            RetransmitSegment(0, "syn again");
            return;
        }

        // RFC 7323 §5.3 PAWS: a timestamp older than TS.Recent marks an old duplicate.
        if (_tsOk && h.Options.HasTimestamp && !h.Has(TcpFlags.Rst) && SeqMath.Lt(h.Options.TsVal, _tsRecent))
        {
            Stack.Snmp.Inc(Snmp6Counter.TcpExtPAWSEstab);
            SendAck();
            return;
        }

        // §3.10.7.4 first: is the segment acceptable (does it overlap the receive window)?
        uint window = _rcvRightEdge - _rcvNxt;
        bool acceptable = segLen == 0
            ? (window == 0 ? h.Seq == _rcvNxt : SeqMath.InRange(h.Seq, _rcvNxt, _rcvNxt + window))
            : window != 0 && (SeqMath.InRange(h.Seq, _rcvNxt, _rcvNxt + window) || SeqMath.InRange(h.Seq + segLen - 1, _rcvNxt, _rcvNxt + window));
        if (!acceptable)
        {
            // Zero-window probes and duplicates still carry a usable ACK; then we answer with ours.
            if (h.Has(TcpFlags.Ack) && !h.Has(TcpFlags.Rst) && State != TcpState.SynReceived)
            {
                ProcessAck(h, payload.Length == 0);
            }

            if (!h.Has(TcpFlags.Rst))
            {
                SendAck();
            }

            return;
        }

        // Second: RST (RFC 5961 §3.2): exactly RCV.NXT resets, elsewhere in the window a challenge ACK.
        if (h.Has(TcpFlags.Rst))
        {
            if (h.Seq != _rcvNxt)
            {
                ChallengeAck();
                return;
            }

            OnReset();
            return;
        }

        // Fourth: a SYN in a synchronized state (RFC 5961 §4): a challenge ACK.
        if (h.Has(TcpFlags.Syn))
        {
            ChallengeAck();
            return;
        }

        // Fifth: the ACK field.
        if (!h.Has(TcpFlags.Ack))
        {
            return;
        }

        if (_tsOk && h.Options.HasTimestamp && SeqMath.Le(h.Seq, _lastAckSent))
        {
            _tsRecent = h.Options.TsVal;   // RFC 7323 §4.3 (2)
        }

        if (State == TcpState.SynReceived)
        {
            if (!SeqMath.Gt(h.Ack, _sndUna) || SeqMath.Gt(h.Ack, _sndNxt))
            {
                Transmit(h.Ack, 0, TcpFlags.Rst);
                return;
            }

            _sndWnd = (uint)h.Window << _sndWscale;
            _maxSndWnd = Math.Max(_maxSndWnd, _sndWnd);
            _sndWl1 = h.Seq;
            _sndWl2 = h.Ack;
            SetState(TcpState.Established, "ack");
            ArmKeepalive();
            bool acked = ProcessAck(h, payload.Length == 0 && !h.Has(TcpFlags.Fin));
            if (Parent is { } listener)
            {
                Stack.Snmp.Inc(Snmp6Counter.TcpPassiveOpens);
                listener.Enqueue(this);   // after the ACK is processed, so that the application finds SND.UNA settled
            }
            else
            {
                _connectWaiter.Complete(0);   // a simultaneous open completes the connect
            }

            if (!acked)
            {
                return;
            }
        }
        else if (!ProcessAck(h, payload.Length == 0 && !h.Has(TcpFlags.Fin)))
        {
            return;
        }

        // Sixth and seventh: URG is not supported (counted as data); the segment text.
        if (payload.Length > 0)
        {
            if (State is TcpState.Established or TcpState.FinWait1 or TcpState.FinWait2)
            {
                ReceiveData(h.Seq, payload, h.Has(TcpFlags.Psh));
            }
        }

        // Eighth: FIN.
        if (h.Has(TcpFlags.Fin))
        {
            uint finSeq = h.Seq + (uint)payload.Length;
            if (finSeq == _rcvNxt)
            {
                OnFin();
            }
            else if (SeqMath.Gt(finSeq, _rcvNxt) && !_oooFin)
            {
                _oooFin = true;
                _oooFinSeq = finSeq;
                SendAck();
            }
        }

        if (_ackPending)
        {
            MaybeSendDelayedAck();
        }
    }

    /// <summary>SYN-SENT (§3.10.7.3).</summary>
    private void OnSynSentSegment(in TcpHeader h)
    {
        bool ackOk = h.Has(TcpFlags.Ack) && SeqMath.Gt(h.Ack, _iss) && SeqMath.Le(h.Ack, _sndNxt);
        if (h.Has(TcpFlags.Ack) && !ackOk)
        {
            if (!h.Has(TcpFlags.Rst))
            {
                Transmit(h.Ack, 0, TcpFlags.Rst);
            }

            return;
        }

        if (h.Has(TcpFlags.Rst))
        {
            if (ackOk)
            {
                Stack.Snmp.Inc(Snmp6Counter.TcpAttemptFails);
                Error = Errno.EConnRefused;
                Destroy();
            }

            return;
        }

        if (!h.Has(TcpFlags.Syn))
        {
            return;
        }

        _irs = h.Seq;
        _rcvNxt = h.Seq + 1;
        _rcvRightEdge = _rcvNxt + SynWindow();
        TakeSynOptions(h, passive: false);
        if (_tsOk && h.Options.HasTimestamp && h.Options.TsEcr != 0)
        {
            SampleRtt(TsNow - h.Options.TsEcr);
        }

        if (ackOk)
        {
            _sndUna = h.Ack;
            _scoreboard.Clear();
            _sndWnd = (uint)h.Window << _sndWscale;
            _maxSndWnd = _sndWnd;
            _sndWl1 = h.Seq;
            _sndWl2 = h.Ack;
            _rtxTimer.Cancel();
            _backoff = 0;
            SetState(TcpState.Established, "syn-ack");
            ArmKeepalive();
            SendAck();
            _connectWaiter.Complete(0);
            Push();
            return;
        }

        // Simultaneous open (§3.10.7.3, fourth): SYN-RECEIVED, our SYN again with the ACK.
        SetState(TcpState.SynReceived, "simultaneous open");
        _sndWnd = h.Window;
        Transmit(_iss, 0, TcpFlags.Syn | TcpFlags.Ack, synOptions: true);
    }

    /// <summary>
    /// The ACK field in a synchronized state: RFC 5961 §5 validation, SND.UNA and the scoreboard, RTT samples (RFC 6298,
    /// RFC 7323 §4), the window (SND.WL1/WL2), SACK blocks, duplicate ACKs and loss recovery, then the states waiting
    /// for our FIN to be acknowledged. False when the segment is to be dropped.
    /// </summary>
    private bool ProcessAck(in TcpHeader h, bool pureAck)
    {
        uint ack = h.Ack;
        if (SeqMath.Gt(ack, _sndMax))
        {
            SendAck();   // acknowledges something not sent yet
            return false;
        }

        if (SeqMath.Lt(ack, _sndUna - _maxSndWnd))
        {
            ChallengeAck();   // RFC 5961 §5.2: too old
            return false;
        }

        uint window = (uint)h.Window << _sndWscale;
        bool windowUpdate = false;
        if (SeqMath.Lt(_sndWl1, h.Seq) || (_sndWl1 == h.Seq && SeqMath.Le(_sndWl2, ack)))
        {
            windowUpdate = window != _sndWnd;
            bool opened = _sndWnd == 0 && window > 0;
            _sndWnd = window;
            _maxSndWnd = Math.Max(_maxSndWnd, window);
            _sndWl1 = h.Seq;
            _sndWl2 = ack;
            if (opened)
            {
                _persistMode = false;
                _backoff = 0;
                _rtxTimer.Cancel();
                if (_sndNxt != _sndUna)
                {
                    ArmRetransmit();
                }
            }
        }

        int newlySacked = _sackOk && h.Options.SackCount > 0 ? ApplySack(h.Options) : 0;
        if (SeqMath.Gt(ack, _sndUna))
        {
            uint acked = ack - _sndUna;
            long now = Stack.Clock.Now;

            // RTT: from the echoed timestamp (any ACK of new data, RFC 7323 §4.1), or Karn's timed segment.
            if (_tsOk && h.Options.HasTimestamp && h.Options.TsEcr != 0)
            {
                SampleRtt(TsNow - h.Options.TsEcr);
            }
            else if (_rttTiming && SeqMath.Ge(ack, _rttSeq))
            {
                SampleRtt((uint)((now - _rttStart) / 1_000_000));
            }

            if (_rttTiming && SeqMath.Ge(ack, _rttSeq))
            {
                _rttTiming = false;
            }

            RemoveAcked(ack);
            _sndUna = ack;
            if (SeqMath.Lt(_sndNxt, _sndUna))
            {
                _sndNxt = _sndUna;
            }

            _backoff = 0;
            _dupAcks = 0;
            if (_inRecovery)
            {
                if (SeqMath.Ge(ack, _recoveryPoint))
                {
                    // Full acknowledgment: recovery ends (RFC 6582 §3.2 (3)); cwnd deflates to ssthresh.
                    _inRecovery = false;
                    Cwnd = Math.Max(Math.Min(SsThreshold, FlightSize + (uint)SendMss), 2 * (uint)SendMss);
                    _tcp.Probe?.OnEvent(this, new TcpProbeEvent(TcpProbeKind.RecoveryExit, "full ack"));
                }
                else if (!_sackOk)
                {
                    // Partial acknowledgment (RFC 6582 §3.2 (5)): retransmit the next hole, deflate by what was acked.
                    MarkFirstLost();
                    Cwnd = Cwnd > acked ? Cwnd - acked + (uint)SendMss : (uint)SendMss;
                }
            }
            else
            {
                Congestion.OnAck(this, acked, now);
            }

            // The retransmission timer restarts with outstanding data (RFC 6298 §5.3), stops without.
            if (_sndUna == _sndMax)
            {
                _rtxTimer.Cancel();
                _persistMode = false;
            }
            else if (!_persistMode)
            {
                ArmRetransmit(restart: true);
            }

            if (acked > 0)
            {
                WakeWriter();
            }

            AfterOurFinAcked();
            if (State == TcpState.Closed)
            {
                return false;
            }
        }
        else if (ack == _sndUna && _sndMax != _sndUna && pureAck && !windowUpdate)
        {
            // A duplicate ACK (RFC 5681 §2): no data, no window change, data outstanding.
            _dupAcks++;
            if (_inRecovery && !_sackOk)
            {
                Cwnd += (uint)SendMss;   // NewReno inflation: one segment left the network
            }
        }

        if (!_inRecovery && (_dupAcks >= DupThresh || (_sackOk && newlySacked > 0 && FirstHoleLost())))
        {
            EnterRecovery();
        }
        else if (_inRecovery && _sackOk)
        {
            MarkLostBySack();
        }

        Push();
        return true;
    }

    /// <summary>Drops fully acknowledged segments from the scoreboard and their bytes from the send buffer.</summary>
    private void RemoveAcked(uint ack)
    {
        while (_scoreboard.Count > 0)
        {
            ref SentSegment s = ref _scoreboard[0];
            if (SeqMath.Le(s.End, ack))
            {
                _scoreboard.RemoveFirst();
                continue;
            }

            if (SeqMath.Gt(ack, s.Seq) && !s.Syn)
            {
                // Partially acknowledged: keep the rest.
                uint cut = ack - s.Seq;
                s.Seq = ack;
                s.Length -= (int)Math.Min(cut, (uint)s.Length);
            }

            break;
        }

        // Data bytes acknowledged: from the buffer's first byte up to the ACK, the FIN's sequence number not a byte.
        uint dataAck = _finSent && SeqMath.Gt(ack, _finSeq) ? _finSeq : ack;
        if (SeqMath.Gt(dataAck, _bufferSeq))
        {
            int n = (int)Math.Min(dataAck - _bufferSeq, (uint)_sendBuffer.Count);
            _sendBuffer.Discard(n);
            _bufferSeq += (uint)n;
        }
    }

    /// <summary>Marks SACKed ranges on the scoreboard (RFC 2018 §3, RFC 6675 §5); returns how many segments became SACKed.</summary>
    private int ApplySack(in TcpOptions o)
    {
        int marked = 0;
        for (int b = 0; b < o.SackCount; b++)
        {
            (uint left, uint right) = o.SackBlock(b);
            if (!SeqMath.Lt(left, right) || SeqMath.Le(right, _sndUna) || SeqMath.Gt(right, _sndMax))
            {
                continue;   // a D-SACK or a bogus block
            }

            for (int i = 0; i < _scoreboard.Count; i++)
            {
                ref SentSegment s = ref _scoreboard[i];
                if (s.Sacked || s.Length == 0)
                {
                    continue;
                }

                uint end = s.Seq + (uint)s.Length;
                if (SeqMath.Ge(s.Seq, left) && SeqMath.Le(end, right))
                {
                    _scoreboard.SetFlags(i, sacked: true, s.Lost, s.Retransmitted);
                    marked++;
                }
            }
        }

        _highestSacked = marked > 0 ? HighestSackedEnd() : _highestSacked;
        return marked;
    }

    private uint _highestSacked;

    private uint HighestSackedEnd()
    {
        for (int i = _scoreboard.Count - 1; i >= 0; i--)
        {
            if (_scoreboard[i].Sacked)
            {
                return _scoreboard[i].End;
            }
        }

        return _sndUna;
    }

    /// <summary>IsLost (RFC 6675 §4) for the first unacknowledged segment.</summary>
    private bool FirstHoleLost() => _scoreboard.Count > 0 && !_scoreboard[0].Sacked && IsLost(0);

    /// <summary>IsLost: DupThresh SACKed segments, or more than (DupThresh − 1) × MSS SACKed bytes, above it.</summary>
    private bool IsLost(int index)
    {
        int sackedSegments = 0;
        long sackedBytes = 0;
        for (int i = index + 1; i < _scoreboard.Count; i++)
        {
            ref SentSegment s = ref _scoreboard[i];
            if (s.Sacked)
            {
                sackedSegments++;
                sackedBytes += s.Length;
                if (sackedSegments >= DupThresh || sackedBytes > (DupThresh - 1) * (long)SendMss)
                {
                    return true;
                }
            }
        }

        return false;
    }

    private void MarkLostBySack()
    {
        for (int i = 0; i < _scoreboard.Count; i++)
        {
            ref SentSegment s = ref _scoreboard[i];
            if (s.Sacked || s.Lost)
            {
                continue;
            }

            if (SeqMath.Ge(s.Seq, _highestSacked) || !IsLost(i))
            {
                break;
            }

            _scoreboard.SetFlags(i, s.Sacked, lost: true, s.Retransmitted);
        }
    }

    private void MarkFirstLost()
    {
        if (_scoreboard.Count > 0)
        {
            _scoreboard.SetFlags(0, _scoreboard[0].Sacked, lost: true, retransmitted: false);
        }
    }

    /// <summary>
    /// Fast retransmit and loss recovery: RFC 6675 with SACK (cwnd = ssthresh, pipe decides), NewReno without
    /// (RFC 6582: cwnd = ssthresh + 3 MSS, inflated by further duplicates).
    /// </summary>
    private void EnterRecovery()
    {
        _inRecovery = true;
        _recoveryPoint = _sndMax;
        SsThreshold = Congestion.SsThresh(this, Stack.Clock.Now);
        Stack.Snmp.Inc(_sackOk ? Snmp6Counter.TcpExtTCPSackRecovery : Snmp6Counter.TcpExtTCPRenoRecovery);
        Stack.Snmp.Inc(Snmp6Counter.TcpExtTCPFastRetrans);
        if (_sackOk)
        {
            Cwnd = SsThreshold;
            MarkLostBySack();
            MarkFirstLost();
        }
        else
        {
            Cwnd = SsThreshold + (uint)(DupThresh * SendMss);
            MarkFirstLost();
        }

        _tcp.Probe?.OnEvent(this, new TcpProbeEvent(TcpProbeKind.RecoveryEnter, _sackOk ? "sack" : "dupacks"));
    }

    /// <summary>Our FIN was acknowledged: FIN-WAIT-1 → FIN-WAIT-2, CLOSING → TIME-WAIT, LAST-ACK → CLOSED.</summary>
    private void AfterOurFinAcked()
    {
        if (!_finSent || !SeqMath.Gt(_sndUna, _finSeq))
        {
            return;
        }

        switch (State)
        {
            case TcpState.FinWait1:
                SetState(TcpState.FinWait2, "fin acked");
                if (_orphan)
                {
                    ArmFinWait2();
                }

                break;
            case TcpState.Closing:
                EnterTimeWait();
                break;
            case TcpState.LastAck:
                Destroy();
                break;
        }
    }

    /// <summary>RST accepted (§3.10.7.4 second): refused, reset or closed by state.</summary>
    private void OnReset()
    {
        switch (State)
        {
            case TcpState.SynReceived when Parent is not null:
                Destroy();   // back to LISTEN for the listener; the child goes
                return;
            case TcpState.SynReceived:
                Stack.Snmp.Inc(Snmp6Counter.TcpAttemptFails);
                Error = Errno.EConnRefused;
                break;
            case TcpState.Established or TcpState.FinWait1 or TcpState.FinWait2 or TcpState.CloseWait:
                Stack.Snmp.Inc(Snmp6Counter.TcpEstabResets);
                Error = Errno.EConnReset;
                break;
        }

        _receiveBuffer.Discard(_receiveBuffer.Count);
        Destroy();
    }

    /// <summary>A challenge ACK (RFC 5961 §3.2), at most 1000 a second across the node (Linux tcp_challenge_ack_limit).</summary>
    private void ChallengeAck()
    {
        if (_tcp.TakeChallengeAckToken())
        {
            Stack.Snmp.Inc(Snmp6Counter.TcpExtTCPChallengeACK);
            Transmit(_sndNxt, 0, TcpFlags.Ack, reason: "challenge ack");
        }
    }

    // ---- Data ----

    /// <summary>
    /// Segment text (§3.10.7.4 seventh): in order, into the receive buffer and RCV.NXT on (joining any out-of-order
    /// blocks it reaches); ahead of RCV.NXT, placed at its offset in the buffer and remembered as a SACK block, with an
    /// immediate duplicate ACK (RFC 5681 §4.2).
    /// </summary>
    private void ReceiveData(uint seq, ReadOnlySpan<byte> data, bool push)
    {
        // Trim what was already received and what lies beyond the window.
        if (SeqMath.Lt(seq, _rcvNxt))
        {
            int skip = (int)(_rcvNxt - seq);
            if (skip >= data.Length)
            {
                SendAck();   // a duplicate: tell the sender where we are
                return;
            }

            data = data[skip..];
            seq = _rcvNxt;
        }

        uint windowEnd = _rcvNxt + (uint)_receiveBuffer.Free;
        if (SeqMath.Gt(seq + (uint)data.Length, windowEnd))
        {
            int keep = SeqMath.Gt(windowEnd, seq) ? (int)(windowEnd - seq) : 0;
            Stack.Snmp.Inc(Snmp6Counter.TcpExtTCPRcvQDrop);
            data = data[..keep];
            if (data.Length == 0)
            {
                SendAck();
                return;
            }
        }

        if (_readShut)
        {
            _rcvNxt = seq + (uint)data.Length;   // SHUT_RD: acknowledged and discarded
            _ackPending = true;
            return;
        }

        if (seq != _rcvNxt)
        {
            StoreOutOfOrder(seq, data);
            SendAck();
            return;
        }

        _receiveBuffer.WriteAt(_receiveBuffer.Count, data);
        _receiveBuffer.Commit(data.Length);
        _rcvNxt += (uint)data.Length;
        bool filled = _oooCount > 0;
        MergeOutOfOrder();
        if (filled)
        {
            SendAck();   // a hole filled: ACK at once (RFC 5681 §4.2)
        }
        else
        {
            _segmentsSinceAck++;
            _ackPending = true;
        }

        if (_oooFin && _oooFinSeq == _rcvNxt)
        {
            _oooFin = false;
            OnFin();
        }

        WakeReader();
    }

    private void StoreOutOfOrder(uint seq, ReadOnlySpan<byte> data)
    {
        uint end = seq + (uint)data.Length;
        for (int i = 0; i < _oooCount; i++)
        {
            if (SeqMath.Le(_ooo[i].Seq, seq) && SeqMath.Ge(_ooo[i].End, end))
            {
                _oooLatest = i;
                return;   // already held
            }
        }

        if (_oooCount == MaxOutOfOrderBlocks)
        {
            Stack.Snmp.Inc(Snmp6Counter.TcpExtTCPRcvQDrop);
            return;
        }

        Stack.Snmp.Inc(Snmp6Counter.TcpExtTCPOFOQueue);
        _receiveBuffer.WriteAt(_receiveBuffer.Count + (int)(seq - _rcvNxt), data);

        // Insert in order, then coalesce with neighbours.
        int at = 0;
        while (at < _oooCount && SeqMath.Lt(_ooo[at].Seq, seq))
        {
            at++;
        }

        for (int k = _oooCount; k > at; k--)
        {
            _ooo[k] = _ooo[k - 1];
        }

        _ooo[at] = new OooBlock { Seq = seq, End = end };
        _oooCount++;
        _oooLatest = at;
        for (int i = 0; i + 1 < _oooCount;)
        {
            if (SeqMath.Ge(_ooo[i].End, _ooo[i + 1].Seq))
            {
                _ooo[i].End = SeqMath.Max(_ooo[i].End, _ooo[i + 1].End);
                for (int k = i + 1; k + 1 < _oooCount; k++)
                {
                    _ooo[k] = _ooo[k + 1];
                }

                _oooCount--;
                if (_oooLatest > i)
                {
                    _oooLatest--;
                }
            }
            else
            {
                i++;
            }
        }
    }

    /// <summary>Out-of-order blocks that RCV.NXT has reached join the in-order data.</summary>
    private void MergeOutOfOrder()
    {
        while (_oooCount > 0 && SeqMath.Le(_ooo[0].Seq, _rcvNxt))
        {
            if (SeqMath.Gt(_ooo[0].End, _rcvNxt))
            {
                int more = (int)(_ooo[0].End - _rcvNxt);
                _receiveBuffer.Commit(more);
                _rcvNxt = _ooo[0].End;
            }

            for (int k = 0; k + 1 < _oooCount; k++)
            {
                _ooo[k] = _ooo[k + 1];
            }

            _oooCount--;
            _oooLatest = _oooCount > 0 ? Math.Min(Math.Max(_oooLatest - 1, 0), _oooCount - 1) : -1;
        }
    }

    private void ClearOutOfOrder()
    {
        _oooCount = 0;
        _oooLatest = -1;
        _oooFin = false;
    }

    /// <summary>The peer's FIN in order (§3.10.7.4 eighth).</summary>
    private void OnFin()
    {
        _rcvNxt++;
        _finReceived = true;
        SendAck();
        switch (State)
        {
            case TcpState.SynReceived:
            case TcpState.Established:
                SetState(TcpState.CloseWait, "fin");
                break;
            case TcpState.FinWait1:
                if (_finSent && SeqMath.Gt(_sndUna, _finSeq))
                {
                    EnterTimeWait();
                }
                else
                {
                    SetState(TcpState.Closing, "fin");
                }

                break;
            case TcpState.FinWait2:
                EnterTimeWait();
                break;
        }

        WakeReader();
    }

    /// <summary>
    /// Delayed ACK (RFC 9293 §3.8.6.3, RFC 5681 §4.2): at least every second full-sized segment, otherwise within the
    /// delayed-ACK timeout (Linux's 40 ms minimum).
    /// </summary>
    private void MaybeSendDelayedAck()
    {
        if (_segmentsSinceAck >= 2 || _zeroWindowAdvertised)
        {
            SendAck();
            return;
        }

        if (!_delackTimer.IsPending)
        {
            _delackTimer.ArmIn(DelayedAckNs);
        }
    }

    /// <summary>After the application read: a window update when the window grew enough (tcp_cleanup_rbuf).</summary>
    private void AfterRead()
    {
        if (State is TcpState.Closed or TcpState.Listen or TcpState.SynSent)
        {
            return;
        }

        uint advertised = SeqMath.Gt(_rcvRightEdge, _rcvNxt) ? _rcvRightEdge - _rcvNxt : 0;
        uint now = (uint)_receiveBuffer.Free;
        if (_zeroWindowAdvertised || (now >= advertised + (uint)(2 * SendMss) && now >= 2 * advertised))
        {
            _zeroWindowAdvertised = false;
            SendAck();
        }
    }
}
