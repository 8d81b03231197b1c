using Emu.Stack.Core;
using Emu.Stack.Ipv6;
using Emu.Stack.Sockets;
using Emu.Stack.Wire;

namespace Emu.Stack.Tcp;

/// <summary>
/// socket(AF_INET6, SOCK_STREAM, IPPROTO_TCP) — tcpv6_prot behind inet6_stream_ops: one TCP connection (or listener)
/// with its transmission control block (RFC 9293 §3.3.1), send and receive buffers, retransmission and SACK scoreboard,
/// congestion control and timers. Everything runs on the node's event loop; the async operations complete there.
/// </summary>
public sealed partial class TcpSocket : Socket
{
    /// <summary>Default SO_SNDBUF and SO_RCVBUF (bytes).</summary>
    public const int DefaultBuffer = 1 << 20;

    /// <summary>The largest receive space the window scale is chosen for (Linux tcp_rmem[2]), giving Linux's shift of 7.</summary>
    public const int MaxReceiveSpace = 6 << 20;

    /// <summary>RFC 8200 §5 / RFC 9293 §3.7.1: the MSS assumed when the peer sends none (1280 − 40 − 20).</summary>
    public const int DefaultIpv6Mss = 1220;

    private readonly Tcp6 _tcp;
    private readonly Waiter<int> _connectWaiter = new();
    private readonly Waiter<TcpSocket?> _acceptWaiter = new();
    private readonly Waiter<int> _sendWaiter = new();
    private readonly Waiter<int> _receiveWaiter = new();
    private ReadOnlyMemory<byte> _sendPending;
    private int _sendPendingDone;
    private Memory<byte> _receivePending;
    private Queue<TcpSocket>? _acceptQueue;
    private ByteRing _sendBuffer;
    private ByteRing _receiveBuffer;
    private bool _bound;

    internal TcpSocket(Tcp6 tcp, Ipv6Stack stack)
        : base(stack, SockType.Stream, IpProto.Tcp)
    {
        _tcp = tcp;
        _sendBuffer = new ByteRing(DefaultBuffer);
        _receiveBuffer = new ByteRing(DefaultBuffer);
        Congestion = new Cubic();
        InitTimers();
    }

    public TcpState State { get; private set; }

    /// <summary>The pending error (SO_ERROR), as a positive errno; 0 when none.</summary>
    public int Error { get; private set; }

    /// <summary>TCP_NODELAY: send small segments at once instead of waiting for outstanding data to be ACKed (Nagle, RFC 9293 §3.7.4).</summary>
    public bool NoDelay { get; set; }

    /// <summary>SO_KEEPALIVE with TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT (Linux's defaults: 7200 s, 75 s, 9).</summary>
    public bool KeepAlive
    {
        get => _keepAlive;
        set
        {
            _keepAlive = value;
            ArmKeepalive();
        }
    }

    public TimeSpan KeepAliveIdle { get; set; } = TimeSpan.FromSeconds(7200);

    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(75);

    public int KeepAliveCount { get; set; } = 9;

    /// <summary>SO_LINGER with a zero timeout: close aborts the connection with a RST.</summary>
    public bool LingerZero { get; set; }

    /// <summary>TCP_CONGESTION: "cubic" (the default, as Linux's) or "reno".</summary>
    public string CongestionControlName
    {
        get => Congestion.Name;
        set => Congestion = CongestionControl.Create(value) ?? throw new ArgumentException($"unknown congestion control '{value}' (cubic, reno)", nameof(value));
    }

    /// <summary>Large sends go to the device as one TSO skb when it offers TSO for IPv6 (NETIF_F_TSO6).</summary>
    public bool GsoEnabled { get; set; } = true;

    /// <summary>SO_SNDBUF.</summary>
    public int SendBufferSize
    {
        get => _sendBuffer.Capacity;
        set => _sendBuffer.Resize(Math.Clamp(value, 4096, 64 << 20));
    }

    /// <summary>SO_RCVBUF.</summary>
    public int ReceiveBufferSize
    {
        get => _receiveBuffer.Capacity;
        set => _receiveBuffer.Resize(Math.Clamp(value, 4096, MaxReceiveSpace));
    }

    /// <summary>sk_data_ready: data, EOF or an error can be read (and for a listener: a connection can be accepted).</summary>
    public Action<TcpSocket>? DataReady { get; set; }

    /// <summary>sk_write_space: the send buffer has room again.</summary>
    public Action<TcpSocket>? WriteSpace { get; set; }

    /// <summary>Called on every state change (tests, logs).</summary>
    public Action<TcpSocket, TcpState>? StateChanged { get; set; }

    public CongestionControl Congestion { get; private set; }

    public int BytesAvailable => _receiveBuffer.Count;

    public int SendQueued => _sendBuffer.Count;

    /// <summary>The peer closed its side and everything before its FIN was read.</summary>
    public bool EndOfStream => _finReceived && _receiveBuffer.Count == 0;

    internal TcpSocket? Parent { get; set; }

    internal bool InAcceptQueue { get; set; }

    internal int Backlog { get; private set; }

    internal int SynQueueLength { get; set; }

    internal int AcceptQueueLength => _acceptQueue?.Count ?? 0;

    // ---- The socket API ----

    /// <summary>bind: an address of ours (or ::) and a port (0: an ephemeral one).</summary>
    public override int Bind(Ipv6EndPoint local)
    {
        if (Closed)
        {
            return -Errno.EBadF;
        }

        if (_bound || State != TcpState.Closed)
        {
            return -Errno.EInval;
        }

        if (!local.Address.IsUnspecified && !Stack.IsLocalAddress(local.Address))
        {
            return -Errno.EAddrNotAvail;
        }

        if (!_tcp.BindPort(this, local.Address, local.Port, out ushort port))
        {
            return -Errno.EAddrInUse;
        }

        Local = new Ipv6EndPoint(local.Address, port, local.ScopeId);
        _bound = true;
        return 0;
    }

    /// <summary>listen: a passive open with a queue of <paramref name="backlog"/> established connections (somaxconn 4096).</summary>
    public int Listen(int backlog)
    {
        if (Closed)
        {
            return -Errno.EBadF;
        }

        if (State == TcpState.Listen)
        {
            Backlog = Math.Clamp(backlog, 1, 4096);
            return 0;
        }

        if (State != TcpState.Closed)
        {
            return -Errno.EInval;
        }

        if (!_bound && Bind(new Ipv6EndPoint(Ipv6Address.Unspecified, 0)) != 0)
        {
            return -Errno.EAddrInUse;
        }

        Backlog = Math.Clamp(backlog, 1, 4096);
        _acceptQueue = new Queue<TcpSocket>();
        SetState(TcpState.Listen, "listen");
        _tcp.AddListener(this);
        return 0;
    }

    /// <summary>connect (non-blocking): starts the three-way handshake; -EINPROGRESS, or an immediate error.</summary>
    public override int Connect(Ipv6EndPoint remote)
    {
        if (Closed)
        {
            return -Errno.EBadF;
        }

        if (State != TcpState.Closed)
        {
            return State == TcpState.SynSent ? -Errno.EAlready : -Errno.EIsConn;
        }

        if (remote.Port == 0 || remote.Address.IsUnspecified || remote.Address.IsMulticast)
        {
            return -Errno.EInval;
        }

        NetDevice? oif = remote.ScopeId != 0 ? Stack.DevByIndex(remote.ScopeId) : Local.ScopeId != 0 ? Stack.DevByIndex(Local.ScopeId) : null;
        if ((remote.ScopeId != 0 && oif is null) || ((remote.Address.IsLinkLocal) && oif is null && Stack.InterfaceCount > 1))
        {
            return -Errno.EInval;
        }

        if (!Stack.Route(remote.Address, oif, out Inet6Dev? idev, out _))
        {
            return -Errno.ENetUnreach;
        }

        Ipv6Address source = Local.Address.IsUnspecified ? Stack.SelectSource(idev!, remote.Address) : Local.Address;
        if (source.IsUnspecified)
        {
            return -Errno.EAddrNotAvail;
        }

        Remote = new Ipv6EndPoint(remote.Address, remote.Port, remote.Address.IsLinkLocal ? idev!.Dev.IfIndex : remote.ScopeId);
        if (!_bound)
        {
            if (!_tcp.BindEphemeral(this, source, remote, out ushort port))
            {
                return -Errno.EAddrNotAvail;
            }

            _bound = true;
            Local = new Ipv6EndPoint(source, port, Remote.ScopeId);
        }
        else
        {
            Local = new Ipv6EndPoint(source, Local.Port, Remote.ScopeId);
        }

        if (!_tcp.Hash(this))
        {
            return -Errno.EAddrNotAvail;
        }

        Idev = idev;
        InitConnection(_tcp.NewIsn(Local, Remote));
        SetState(TcpState.SynSent, "connect");
        Stack.Snmp.Inc(Snmp6Counter.TcpActiveOpens);
        SendSyn(ack: false);
        return -Errno.EInProgress;
    }

    /// <summary>connect, completing when the connection is established (0) or has failed (a negative errno).</summary>
    public ValueTask<int> ConnectAsync(Ipv6EndPoint remote)
    {
        int r = Connect(remote);
        if (r != -Errno.EInProgress)
        {
            return new ValueTask<int>(r);
        }

        return State == TcpState.Established ? new ValueTask<int>(0) : _connectWaiter.Start();
    }

    /// <summary>accept without waiting: an established connection from the queue, if any.</summary>
    public bool TryAccept(out TcpSocket? connection)
    {
        connection = null;
        if (State != TcpState.Listen || _acceptQueue is null || !_acceptQueue.TryDequeue(out TcpSocket? c))
        {
            return false;
        }

        c.InAcceptQueue = false;
        c.Parent = null;
        connection = c;
        return true;
    }

    /// <summary>accept: completes with the next established connection (null if the listener is closed meanwhile).</summary>
    public ValueTask<TcpSocket?> AcceptAsync()
    {
        if (TryAccept(out TcpSocket? c))
        {
            return new ValueTask<TcpSocket?>(c);
        }

        return State == TcpState.Listen ? _acceptWaiter.Start() : new ValueTask<TcpSocket?>((TcpSocket?)null);
    }

    public override int SendTo(ReadOnlySpan<byte> payload, Ipv6EndPoint to) => Send(payload);

    /// <summary>send (non-blocking): the bytes queued (possibly fewer than offered), -EAGAIN when the buffer is full, or an error.</summary>
    public override int Send(ReadOnlySpan<byte> payload)
    {
        int check = CanSend();
        if (check != 0)
        {
            return check;
        }

        int n = _sendBuffer.Write(payload);
        if (n == 0 && payload.Length > 0)
        {
            return -Errno.EAgain;
        }

        if (State is TcpState.Established or TcpState.CloseWait)
        {
            Push();
        }

        return n;
    }

    /// <summary>send, completing when all of <paramref name="data"/> is in the send buffer (its length) or on an error.</summary>
    public ValueTask<int> SendAsync(ReadOnlyMemory<byte> data)
    {
        int r = Send(data.Span);
        if (r < 0 && r != -Errno.EAgain)
        {
            return new ValueTask<int>(r);
        }

        int done = Math.Max(0, r);
        if (done == data.Length)
        {
            return new ValueTask<int>(done);
        }

        _sendPending = data;
        _sendPendingDone = done;
        return _sendWaiter.Start();
    }

    /// <summary>recv (non-blocking): bytes read, 0 at end of stream, -EAGAIN when nothing is there yet, or an error.</summary>
    public int Receive(Span<byte> buffer)
    {
        if (_receiveBuffer.Count > 0)
        {
            int n = _receiveBuffer.Read(buffer);
            AfterRead();
            return n;
        }

        if (_finReceived)
        {
            return 0;
        }

        if (Error != 0)
        {
            return -Error;
        }

        return State is TcpState.Closed or TcpState.Listen ? -Errno.ENotConn : -Errno.EAgain;
    }

    /// <summary>recv, completing when at least one byte, the end of the stream (0) or an error is there.</summary>
    public ValueTask<int> ReceiveAsync(Memory<byte> buffer)
    {
        int r = Receive(buffer.Span);
        if (r != -Errno.EAgain)
        {
            return new ValueTask<int>(r);
        }

        _receivePending = buffer;
        return _receiveWaiter.Start();
    }

    /// <summary>shutdown(SHUT_WR): a FIN after the queued data; SHUT_RD stops reading (the data that still comes is discarded).</summary>
    public int Shutdown(bool read, bool write)
    {
        if (State is TcpState.Closed or TcpState.Listen or TcpState.SynSent)
        {
            return -Errno.ENotConn;
        }

        if (read)
        {
            _readShut = true;
            _receiveBuffer.Discard(_receiveBuffer.Count);
        }

        if (write)
        {
            QueueFin();
        }

        return 0;
    }

    /// <summary>close: orderly (FIN after the queued data), or abortive (RST) with SO_LINGER 0 or unread data (RFC 9293 §3.10.4, RFC 2525 §2.17).</summary>
    protected override void OnClose()
    {
        _orphan = true;
        DataReady = null;
        WriteSpace = null;
        FailWaiters(Errno.EBadF);
        switch (State)
        {
            case TcpState.Closed:
                Destroy();
                return;
            case TcpState.Listen:
                CloseListener();
                return;
            case TcpState.SynSent:
                Destroy();
                return;
        }

        if (LingerZero || _receiveBuffer.Count > 0)
        {
            Stack.Snmp.Inc(LingerZero ? Snmp6Counter.TcpExtTCPAbortOnLinger : Snmp6Counter.TcpExtTCPAbortOnClose);
            SendRst(_sndNxt);
            if (State is TcpState.Established or TcpState.CloseWait)
            {
                Stack.Snmp.Inc(Snmp6Counter.TcpEstabResets);
            }

            Destroy();
            return;
        }

        QueueFin();
    }

    private void CloseListener()
    {
        _tcp.RemoveListener(this);
        while (_acceptQueue is not null && _acceptQueue.TryDequeue(out TcpSocket? c))
        {
            c.InAcceptQueue = false;
            c.Parent = null;
            c.Dispose();
        }

        foreach (TcpSocket child in _tcp.ChildrenOf(this))
        {
            child.Parent = null;
            child.SendRst(child._sndNxt);
            child.Destroy();
        }

        _acceptWaiter.Complete(null);
        SetState(TcpState.Closed, "close");
        _tcp.Unbind(this);
    }

    /// <summary>How many bytes send would take now (room in the send buffer).</summary>
    public int SendSpace => _sendBuffer.Free;

    private int CanSend()
    {
        if (Error != 0)
        {
            return -Error;
        }

        if (_finQueued || Closed)
        {
            return -Errno.EPipe;
        }

        return State switch
        {
            TcpState.Established or TcpState.CloseWait => 0,
            TcpState.SynSent or TcpState.SynReceived => 0,   // queued until the handshake completes
            _ => -Errno.ENotConn,
        };
    }

    private void SetState(TcpState state, string reason = "")
    {
        if (State == state)
        {
            return;
        }

        TcpState previous = State;

        if (State == TcpState.Established)
        {
            Stack.Snmp.Add(Snmp6Counter.TcpCurrEstab, -1);
        }

        if (state == TcpState.Established)
        {
            Stack.Snmp.Inc(Snmp6Counter.TcpCurrEstab);
        }

        State = state;
        Connected = state is TcpState.Established or TcpState.CloseWait or TcpState.FinWait1 or TcpState.FinWait2 or TcpState.Closing or TcpState.LastAck;
        _tcp.Probe?.OnEvent(this, new TcpProbeEvent(TcpProbeKind.StateChange, reason, previousState: previous));
        StateChanged?.Invoke(this, state);
    }

    /// <summary>tcp_done: the connection is over; timers stop, tables forget it, waiters learn the error.</summary>
    internal void Destroy()
    {
        CancelTimers();
        SetState(TcpState.Closed, Error switch
        {
            Errno.ETimedOut => "timed out",
            Errno.EConnReset => "reset",
            Errno.EConnRefused => "refused",
            _ => "done",
        });
        _tcp.Unhash(this);
        if (_bound)
        {
            _tcp.Unbind(this);
            _bound = false;
        }

        _scoreboard.Clear();
        ClearOutOfOrder();
        if (Parent is { } parent)
        {
            parent.SynQueueLength -= InAcceptQueue ? 0 : 1;
            Parent = null;
        }

        FailWaiters(Error != 0 ? Error : Errno.EPipe);
        DataReady?.Invoke(this);
    }

    private void FailWaiters(int errno)
    {
        _connectWaiter.Complete(-(Error != 0 ? Error : errno));
        _sendWaiter.Complete(_sendPendingDone > 0 ? _sendPendingDone : -(Error != 0 ? Error : errno));
        _sendPending = default;
        _receiveWaiter.Complete(_finReceived ? 0 : -(Error != 0 ? Error : errno));
        _receivePending = default;
    }

    /// <summary>A new connection for <see cref="_acceptQueue"/>: tells a waiting accept, or the listener's DataReady.</summary>
    internal void Enqueue(TcpSocket child)
    {
        child.InAcceptQueue = true;
        SynQueueLength--;
        if (_acceptWaiter.Pending)
        {
            child.InAcceptQueue = false;
            child.Parent = null;
            _acceptWaiter.Complete(child);
            return;
        }

        _acceptQueue!.Enqueue(child);
        DataReady?.Invoke(this);
    }

    internal bool AcceptQueueFull => _acceptQueue is not null && _acceptQueue.Count >= Backlog;

    /// <summary>Wakes a reader: a pending ReceiveAsync gets its bytes (or EOF/error), otherwise DataReady.</summary>
    private void WakeReader()
    {
        if (_receiveWaiter.Pending)
        {
            int r = Receive(_receivePending.Span);
            if (r != -Errno.EAgain)
            {
                _receivePending = default;
                _receiveWaiter.Complete(r);
            }
        }

        DataReady?.Invoke(this);
    }

    /// <summary>Room appeared in the send buffer: a pending SendAsync continues, otherwise WriteSpace.</summary>
    private void WakeWriter()
    {
        if (_sendWaiter.Pending)
        {
            int r = Send(_sendPending.Span[_sendPendingDone..]);
            if (r < 0 && r != -Errno.EAgain)
            {
                _sendPending = default;
                _sendWaiter.Complete(_sendPendingDone > 0 ? _sendPendingDone : r);
                return;
            }

            _sendPendingDone += Math.Max(0, r);
            if (_sendPendingDone == _sendPending.Length)
            {
                int done = _sendPendingDone;
                _sendPending = default;
                _sendWaiter.Complete(done);
            }

            return;
        }

        WriteSpace?.Invoke(this);
    }

    public override string ToString() => $"TCP [{Local.Address}]:{Local.Port} → [{Remote.Address}]:{Remote.Port} {State}";
}
