using System.Buffers.Binary;
using Emu.Stack.Core;
using Emu.Stack.Ipv6;
using Emu.Stack.Wire;

namespace Emu.Stack.Tcp;

/// <summary>The send side: the TCB's send variables, segment building, the transmit loop (tcp_write_xmit) and ACKs.</summary>
public sealed partial class TcpSocket
{
    /// <summary>Linux's initial window: 10 segments (RFC 6928).</summary>
    public const int InitialWindowSegments = 10;

    /// <summary>The largest TSO skb handed to the driver (Linux's GSO_MAX_SIZE − headers).</summary>
    public const int MaxGsoBytes = 65536 - 100;

    private readonly Scoreboard _scoreboard = new();
    private readonly uint[] _sackOut = new uint[8];

    // RFC 9293 §3.3.1 send sequence variables (plus SND.MAX, the highest sequence sent).
    private uint _iss;
    private uint _sndUna;
    private uint _sndNxt;
    private uint _sndMax;
    private uint _sndWnd;
    private uint _maxSndWnd;
    private uint _sndWl1;
    private uint _sndWl2;

    // Receive sequence variables; RCV.WND is the right edge last advertised minus RCV.NXT.
    private uint _irs;
    private uint _rcvNxt;
    private uint _rcvRightEdge;

    // Options negotiated on the SYNs.
    private int _peerMss = DefaultIpv6Mss;
    private int _sndWscale;
    private int _rcvWscale;
    private bool _tsOk;
    private bool _sackOk;
    private uint _tsRecent;
    private uint _tsOffset;
    private uint _lastAckSent;

    /// <summary>The sequence number of the send buffer's first byte (SND.UNA once the SYN is acknowledged).</summary>
    private uint _bufferSeq;

    private bool _finQueued;
    private bool _finSent;
    private uint _finSeq;
    private bool _finReceived;
    private bool _readShut;
    private bool _orphan;

    /// <summary>The interface the connection's packets go out of.</summary>
    internal Inet6Dev? Idev { get; set; }

    /// <summary>Data bytes per full segment: the smaller MSS of the two ends, less the timestamp option (Linux's mss_cache).</summary>
    public int SendMss { get; private set; } = DefaultIpv6Mss;

    public uint Cwnd { get; internal set; }

    public uint SsThreshold { get; internal set; } = uint.MaxValue;

    /// <summary>Bytes sent and not yet cumulatively acknowledged (FlightSize, RFC 5681).</summary>
    public uint FlightSize => _sndMax - _sndUna;

    public uint SendUnacknowledged => _sndUna;

    public uint SendNext => _sndNxt;

    public uint ReceiveNext => _rcvNxt;

    public uint InitialSendSequence => _iss;

    public uint SendWindow => _sndWnd;

    /// <summary>Bytes in the network by RFC 6675's pipe (NewReno: the flight less what duplicate ACKs took out); Linux's packets_out − left_out + retrans_out.</summary>
    public uint InFlight => Pipe();

    /// <summary>Outstanding segments the peer has SACKed (Linux's sacked_out).</summary>
    public int SackedSegments => CountMarked(sacked: true);

    /// <summary>Outstanding segments marked lost and not SACKed (Linux's lost_out).</summary>
    public int LostSegments => CountMarked(sacked: false);

    /// <summary>Whether fast recovery is in progress (Linux's TCP_CA_Recovery).</summary>
    public bool InRecovery => _inRecovery;

    private int CountMarked(bool sacked)
    {
        if (_scoreboard.Marked == 0)
        {
            return 0;
        }

        int n = 0;
        for (int i = 0; i < _scoreboard.Count; i++)
        {
            ref SentSegment s = ref _scoreboard[i];
            if (sacked ? s.Sacked : s.Lost && !s.Sacked)
            {
                n++;
            }
        }

        return n;
    }

    public bool TimestampsEnabled => _tsOk;

    public bool SackEnabled => _sackOk;

    public int SendWindowScale => _sndWscale;

    public int ReceiveWindowScale => _rcvWscale;

    /// <summary>Our MSS option: the path MTU less the IPv6 and TCP headers.</summary>
    private int AdvertisedMss => Math.Max(536, (Idev is null ? 1500 : Stack.PathMtu(Idev, Remote.Address)) - 60);

    private void InitConnection(uint iss)
    {
        _iss = iss;
        _sndUna = iss;
        _sndNxt = iss;
        _sndMax = iss;
        _bufferSeq = iss + 1;
        _tsOffset = _tcp.TimestampOffset(Local, Remote);
        _rcvWscale = WindowScaleFor(MaxReceiveSpace);
        SendMss = Math.Min(AdvertisedMss, DefaultIpv6Mss);
        _rto = InitialRtoNs;
    }

    /// <summary>The shift that lets <paramref name="space"/> bytes be advertised in 16 bits (RFC 7323 §2.2).</summary>
    private static int WindowScaleFor(int space)
    {
        int shift = 0;
        while (shift < TcpOptions.MaxWindowScale && (space >> shift) > 65535)
        {
            shift++;
        }

        return shift;
    }

    private uint TsNow => (uint)(Stack.Clock.Now / 1_000_000) + _tsOffset;

    // ---- Building and sending one segment ----

    /// <summary>
    /// Sends one segment: header, options (timestamps on every segment once agreed, SACK blocks on ACKs), the bytes
    /// [seq, seq+length) from the send buffer, the checksum (software or offloaded), and, above one MSS, TSO. The
    /// probe hears of it here, or, with <paramref name="probeLater"/>, from the caller once SND.NXT has moved.
    /// </summary>
    private void Transmit(uint seq, int length, TcpFlags flags, bool synOptions = false, string reason = "", bool probeLater = false)
    {
        if (Idev is null)
        {
            return;
        }

        int sackBlocks = (flags & TcpFlags.Ack) != 0 && _sackOk && !synOptions ? FillSackBlocks() : 0;
        Span<byte> options = stackalloc byte[40];
        int optionLength = synOptions
            ? TcpOptions.Write(options, (ushort)AdvertisedMss, _sackOkOffered, _tsOkOffered, TsNow, (flags & TcpFlags.Ack) != 0 ? _tsRecent : 0, _wscaleOffered ? _rcvWscale : -1, default)
            : TcpOptions.Write(options, 0, false, _tsOk, TsNow, _tsRecent, -1, _sackOut.AsSpan(0, 2 * Math.Min(sackBlocks, _tsOk ? 3 : 4)));
        int headerLength = TcpHeader.MinLength + optionLength;
        SkBuff skb = Ipv6Stack.AllocSkb(headerLength + length);
        Span<byte> segment = skb.Put(headerLength + length);
        uint ack = (flags & TcpFlags.Ack) != 0 ? _rcvNxt : 0;
        TcpHeader.Write(segment, Local.Port, Remote.Port, seq, ack, headerLength, flags, (flags & TcpFlags.Syn) != 0 ? SynWindow() : WindowToAdvertise());
        options[..optionLength].CopyTo(segment[TcpHeader.MinLength..]);
        if (length > 0)
        {
            _sendBuffer.Peek((int)(seq - _bufferSeq), segment.Slice(headerLength, length));
        }

        NetDevice dev = Idev.Dev;
        bool gso = length > SendMss;
        bool offload = (dev.Features & (NetDeviceFeatures.HwCsum | NetDeviceFeatures.Ipv6Csum)) != 0 || gso;
        skb.TransportHeader = skb.Data;
        if (offload)
        {
            // CHECKSUM_PARTIAL: the pseudo-header sum seeds the field (without the length for TSO, as the device adds
            // each segment's); the device completes it.
            uint seed = Checksum.PseudoHeader(Local.Address, Remote.Address, gso ? 0 : segment.Length, IpProto.Tcp);
            BinaryPrimitives.WriteUInt16BigEndian(segment[16..], (ushort)Checksum.Fold(seed));
            skb.IpSummed = ChecksumState.Partial;
            skb.CsumOffset = 16;
            if (gso)
            {
                skb.GsoSize = SendMss;
                skb.GsoType = GsoType.TcpV6;
            }
        }
        else
        {
            BinaryPrimitives.WriteUInt16BigEndian(segment[16..], Checksum.Compute(Local.Address, Remote.Address, IpProto.Tcp, segment));
        }

        Stack.Snmp.Add(Snmp6Counter.TcpOutSegs, gso ? (length + SendMss - 1) / SendMss : 1);
        if ((flags & TcpFlags.Rst) != 0)
        {
            Stack.Snmp.Inc(Snmp6Counter.TcpOutRsts);
        }

        if ((flags & TcpFlags.Ack) != 0)
        {
            _lastAckSent = _rcvNxt;
            _ackPending = false;
            _segmentsSinceAck = 0;
            _delackTimer.Cancel();
        }

        Stack.Ip6Xmit(skb, Local.Address, Remote.Address, IpProto.Tcp, dev, HopLimit, fixedSource: true);
        if (!probeLater && _tcp.Probe is { } probe)
        {
            ProbeSent(probe, seq, length, flags, reason);
        }
    }

    /// <summary>Tells the probe of a segment sent: a retransmission while <see cref="_retransmitReason"/> is set.</summary>
    private void ProbeSent(TcpProbe probe, uint seq, int length, TcpFlags flags, string reason)
    {
        TcpProbeKind kind = _retransmitReason is null ? TcpProbeKind.Send : TcpProbeKind.Retransmit;
        probe.OnEvent(this, new TcpProbeEvent(kind, _retransmitReason ?? reason, seq, length, (flags & TcpFlags.Ack) != 0 ? _rcvNxt : 0, flags));
    }

    /// <summary>Why the segment being sent is a retransmission ("rto", "lost", "syn again"); null for a first send.</summary>
    private string? _retransmitReason;

    /// <summary>Retransmissions sent (Linux's total_retrans, ss -i's "retrans").</summary>
    public long Retransmits { get; private set; }

    // What our SYN offers: everything on an active open; on a passive open, only what the peer's SYN offered.
    private bool _tsOkOffered = true;
    private bool _sackOkOffered = true;
    private bool _wscaleOffered = true;

    /// <summary>The window field of a SYN is never scaled (RFC 7323 §2.2).</summary>
    private ushort SynWindow() => (ushort)Math.Min(65535, _receiveBuffer.Free);

    /// <summary>
    /// The window to advertise, after receiver-side silly window avoidance (RFC 9293 §3.8.6.2.2): the right edge moves
    /// only by at least min(half the buffer, one MSS), and never moves left (the window does not shrink).
    /// </summary>
    private ushort WindowToAdvertise()
    {
        uint free = (uint)_receiveBuffer.Free;
        uint candidate = _rcvNxt + free;
        uint step = (uint)Math.Min(_receiveBuffer.Capacity / 2, SendMss);
        if (SeqMath.Lt(_rcvRightEdge, _rcvNxt) || SeqMath.Ge(candidate, _rcvRightEdge + step) || (free > 0 && _rcvRightEdge == _rcvNxt && free >= step))
        {
            _rcvRightEdge = SeqMath.Max(_rcvRightEdge, candidate);
        }

        uint window = _rcvRightEdge - _rcvNxt;
        if (window == 0)
        {
            _zeroWindowAdvertised = true;
        }

        return (ushort)Math.Min(65535u, window >> _rcvWscale);
    }

    private bool _zeroWindowAdvertised;

    private void SendSyn(bool ack)
    {
        TcpFlags flags = ack ? TcpFlags.Syn | TcpFlags.Ack : TcpFlags.Syn;
        Transmit(_iss, 0, flags, synOptions: true, probeLater: true);
        if (_scoreboard.Count == 0)
        {
            _scoreboard.Add(new SentSegment { Seq = _iss, Syn = true, SentAt = Stack.Clock.Now });
            _sndNxt = _iss + 1;
            _sndMax = _sndNxt;
        }

        if (_tcp.Probe is { } probe)
        {
            ProbeSent(probe, _iss, 0, flags, string.Empty);
        }

        ArmRetransmit();
    }

    /// <summary>An ACK now (with SACK blocks and the current window).</summary>
    internal void SendAck() => Transmit(_sndNxt, 0, TcpFlags.Ack);

    /// <summary>A RST for this connection (with ACK once synchronized).</summary>
    internal void SendRst(uint seq)
    {
        if (State is TcpState.Closed or TcpState.Listen)
        {
            return;
        }

        Transmit(seq, 0, State == TcpState.SynSent ? TcpFlags.Rst : TcpFlags.Rst | TcpFlags.Ack);
    }

    private void QueueFin()
    {
        if (_finQueued)
        {
            return;
        }

        _finQueued = true;
        switch (State)
        {
            case TcpState.SynReceived:
            case TcpState.Established:
                SetState(TcpState.FinWait1, "close");
                break;
            case TcpState.CloseWait:
                SetState(TcpState.LastAck, "close");
                break;
        }

        Push();
    }

    /// <summary>
    /// tcp_write_xmit: retransmissions the scoreboard calls lost first, then new data within min(cwnd − pipe, the
    /// peer's window), in MSS-sized segments (or TSO bursts) under Nagle and sender SWS avoidance; the FIN rides on the
    /// last data or goes alone; with a zero window and nothing in flight, the persist timer runs.
    /// </summary>
    private void Push()
    {
        if (State is not (TcpState.Established or TcpState.CloseWait or TcpState.FinWait1 or TcpState.Closing or TcpState.LastAck))
        {
            return;
        }

        int mss = SendMss;
        for (int guard = 0; guard < 4096; guard++)
        {
            uint pipe = Pipe();
            uint cwndRoom = Cwnd > pipe ? Cwnd - pipe : 0;
            if (RetransmitNextLost(cwndRoom))
            {
                continue;
            }

            int unsent = _sendBuffer.Count - (int)(_sndNxt - _bufferSeq);
            uint windowEnd = _sndUna + _sndWnd;
            int windowRoom = SeqMath.Gt(windowEnd, _sndNxt) ? (int)(windowEnd - _sndNxt) : 0;
            if (unsent <= 0)
            {
                if (_finQueued && !_finSent && (int)cwndRoom >= 0)
                {
                    SendFin();
                }

                break;
            }

            int room = (int)Math.Min(Math.Min((uint)windowRoom, cwndRoom), (uint)unsent);
            if (room <= 0)
            {
                if (windowRoom == 0 && _sndNxt == _sndUna)
                {
                    ArmPersist();
                }

                break;
            }

            int size = Math.Min(room, mss);
            bool full = size == mss;
            bool lastOfQueue = size == unsent;
            if (!full)
            {
                // Nagle (RFC 9293 §3.7.4): a small segment waits while data is unacknowledged, unless TCP_NODELAY.
                if (!NoDelay && _sndNxt != _sndUna && !(lastOfQueue && _finQueued))
                {
                    break;
                }

                // Sender SWS avoidance (§3.8.6.2.1): send only all that is queued, or at least half the largest window.
                if (!lastOfQueue && size < _maxSndWnd / 2)
                {
                    break;
                }
            }

            // TSO: as many full segments as fit, in one skb, when the device segments IPv6 TCP.
            if (full && GsoEnabled && Idev is { } idev && (idev.Dev.Features & NetDeviceFeatures.Tso6) != 0 && room >= 2 * mss)
            {
                int segments = Math.Min(room, MaxGsoBytes) / mss;
                size = segments * mss;
            }

            bool withFin = _finQueued && size == unsent && SeqMath.Ge(windowEnd, _sndNxt + (uint)size);
            TcpFlags flags = TcpFlags.Ack | (size == unsent ? TcpFlags.Psh : 0) | (withFin ? TcpFlags.Fin : 0);
            uint seq = _sndNxt;
            Transmit(seq, size, flags, probeLater: true);
            RecordSent(seq, size, withFin, (flags & TcpFlags.Psh) != 0);
            if (_tcp.Probe is { } probe)
            {
                ProbeSent(probe, seq, size, flags, string.Empty);
            }

            Stack.Snmp.Inc(Snmp6Counter.TcpExtTCPOrigDataSent);
        }
    }

    private void SendFin()
    {
        uint seq = _sndNxt;
        Transmit(seq, 0, TcpFlags.Fin | TcpFlags.Ack, probeLater: true);
        RecordSent(seq, 0, fin: true);
        if (_tcp.Probe is { } probe)
        {
            ProbeSent(probe, seq, 0, TcpFlags.Fin | TcpFlags.Ack, string.Empty);
        }
    }

    /// <summary>Adds sent data to the scoreboard (one entry per MSS, so SACK and loss marking work per segment).</summary>
    private void RecordSent(uint seq, int length, bool fin, bool psh = false)
    {
        long now = Stack.Clock.Now;
        int mss = SendMss;
        int offset = 0;
        do
        {
            int n = Math.Min(mss, length - offset);
            bool last = offset + n >= length;
            _scoreboard.Add(new SentSegment { Seq = seq + (uint)offset, Length = n, Fin = fin && last, Psh = psh && last, SentAt = now });
            offset += n;
        }
        while (offset < length);

        uint end = seq + (uint)length + (fin ? 1u : 0u);
        if (fin)
        {
            _finSent = true;
            _finSeq = seq + (uint)length;
        }

        if (SeqMath.Gt(end, _sndNxt))
        {
            _sndNxt = end;
        }

        if (SeqMath.Gt(_sndNxt, _sndMax))
        {
            _sndMax = _sndNxt;
        }

        if (!_rttTiming)
        {
            _rttTiming = true;
            _rttSeq = end;
            _rttStart = now;
        }

        if (!_rtxTimer.IsPending || _persistMode)
        {
            ArmRetransmit();
        }
    }

    /// <summary>pipe (RFC 6675 §4): outstanding bytes not SACKed and not lost, plus retransmitted ones.</summary>
    private uint Pipe()
    {
        if (!_sackOk)
        {
            // NewReno: the flight size, less what the duplicate ACKs say has left the network.
            uint flight = _sndNxt - _sndUna;
            uint left = (uint)_dupAcks * (uint)SendMss;
            return _inRecovery ? (flight > left ? flight - left : 0) : flight;
        }

        if (_scoreboard.Marked == 0)
        {
            return _sndNxt - _sndUna;   // nothing SACKed, lost or retransmitted: pipe is the flight
        }

        uint pipe = 0;
        for (int i = 0; i < _scoreboard.Count; i++)
        {
            ref SentSegment s = ref _scoreboard[i];
            if (s.Sacked)
            {
                continue;
            }

            uint len = s.End - s.Seq;
            if (!s.Lost)
            {
                pipe += len;
            }

            if (s.Retransmitted)
            {
                pipe += len;
            }
        }

        return pipe;
    }

    /// <summary>NextSeg rule 1 (RFC 6675 §4): the first segment marked lost and not yet retransmitted, if cwnd allows.</summary>
    private bool RetransmitNextLost(uint cwndRoom)
    {
        if (_scoreboard.LostQueued == 0)
        {
            return false;
        }

        for (int i = 0; i < _scoreboard.Count; i++)
        {
            ref SentSegment s = ref _scoreboard[i];
            if (!s.Lost || s.Retransmitted || s.Sacked)
            {
                continue;
            }

            uint len = Math.Max(1u, s.End - s.Seq);
            if (cwndRoom < len && !(i == 0 && cwndRoom >= (uint)SendMss / 2))
            {
                return false;
            }

            RetransmitSegment(i, "lost");
            return true;
        }

        return false;
    }

    /// <summary>Sends scoreboard entry <paramref name="index"/> again; <paramref name="reason"/> tells the probe why.</summary>
    private void RetransmitSegment(int index, string reason)
    {
        ref SentSegment s = ref _scoreboard[index];
        _scoreboard.SetFlags(index, s.Sacked, s.Lost, retransmitted: true);
        s.SentAt = Stack.Clock.Now;
        Stack.Snmp.Inc(Snmp6Counter.TcpRetransSegs);
        Retransmits++;
        _retransmitReason = reason;
        if (s.Syn)
        {
            SendSyn(ack: State == TcpState.SynReceived);
            _retransmitReason = null;
            return;
        }

        TcpFlags flags = TcpFlags.Ack | (s.Fin ? TcpFlags.Fin : 0) | (s.Psh ? TcpFlags.Psh : 0);
        Transmit(s.Seq, s.Length, flags);
        _retransmitReason = null;
        _rttTiming = false;   // Karn: no RTT sample from a retransmitted segment
    }

    /// <summary>The SACK blocks to send (RFC 2018 §4): the most recent out-of-order block first, then the others.</summary>
    private int FillSackBlocks()
    {
        int n = 0;
        if (_oooCount == 0)
        {
            return 0;
        }

        int latest = _oooLatest;
        if (latest >= 0 && latest < _oooCount)
        {
            _sackOut[0] = _ooo[latest].Seq;
            _sackOut[1] = _ooo[latest].End;
            n = 1;
        }

        for (int i = 0; i < _oooCount && n < 4; i++)
        {
            if (i == latest)
            {
                continue;
            }

            _sackOut[2 * n] = _ooo[i].Seq;
            _sackOut[(2 * n) + 1] = _ooo[i].End;
            n++;
        }

        return n;
    }
}
