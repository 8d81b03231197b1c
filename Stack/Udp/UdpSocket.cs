using System.Threading.Tasks.Sources;
using Emu.Stack.Ipv6;
using Emu.Stack.Sockets;
using Emu.Stack.Wire;

namespace Emu.Stack.Udp;

/// <summary>
/// socket(AF_INET6, SOCK_DGRAM, 0): bind, connect, sendto, recvfrom (async, completed on the node's loop), a
/// receive buffer limit (SO_RCVBUF, Linux's default 212,992 bytes) past which datagrams are dropped and counted.
/// </summary>
public sealed class UdpSocket : IValueTaskSource<Datagram>, IDisposable
{
    /// <summary>net.core.rmem_default.</summary>
    public const int DefaultReceiveBuffer = 212_992;

    private readonly Udp6 _udp;
    private readonly Ipv6Stack _stack;
    private readonly Queue<Datagram> _queue = new();
    private ManualResetValueTaskSourceCore<Datagram> _pending;
    private bool _waiting;
    private int _queuedBytes;

    internal UdpSocket(Udp6 udp, Ipv6Stack stack)
    {
        _udp = udp;
        _stack = stack;
        _pending.RunContinuationsAsynchronously = false;
    }

    public Ipv6Address LocalAddress { get; internal set; }

    public ushort LocalPort { get; internal set; }

    public bool Connected { get; private set; }

    public Ipv6Address RemoteAddress { get; private set; }

    public ushort RemotePort { get; private set; }

    public int RemoteScope { get; private set; }

    public int ReceiveBuffer { get; set; } = DefaultReceiveBuffer;

    public int HopLimit { get; set; } = -1;

    public bool IsBound => LocalPort != 0;

    public int QueuedDatagrams => _queue.Count;

    /// <summary>bind: 0, -EADDRINUSE, or -EINVAL when already bound.</summary>
    public int Bind(Ipv6EndPoint local)
    {
        if (IsBound)
        {
            return -22;
        }

        return _udp.Bind(this, local.Address, local.Port) ? 0 : -98;
    }

    /// <summary>connect: fixes the peer (and binds an ephemeral port if needed).</summary>
    public int Connect(Ipv6EndPoint remote)
    {
        if (!IsBound && !_udp.Bind(this, Ipv6Address.Unspecified, 0))
        {
            return -98;
        }

        RemoteAddress = remote.Address;
        RemotePort = remote.Port;
        RemoteScope = remote.ScopeId;
        Connected = true;
        return 0;
    }

    public Ipv6EndPoint GetSockName() => new(LocalAddress, LocalPort);

    /// <summary>sendto: the bytes sent, or a negative errno.</summary>
    public int SendTo(ReadOnlySpan<byte> payload, Ipv6EndPoint to)
    {
        if (!IsBound && !_udp.Bind(this, Ipv6Address.Unspecified, 0))
        {
            return -98;
        }

        return _udp.Send(this, payload, to);
    }

    public int Send(ReadOnlySpan<byte> payload) => Connected ? SendTo(payload, new Ipv6EndPoint(RemoteAddress, RemotePort, RemoteScope)) : -89;

    /// <summary>recvfrom: completes when a datagram is (or already was) queued.</summary>
    public ValueTask<Datagram> ReceiveFromAsync()
    {
        if (_queue.TryDequeue(out Datagram d))
        {
            _queuedBytes -= d.Length;
            return new ValueTask<Datagram>(d);
        }

        if (_waiting)
        {
            throw new InvalidOperationException("one receive at a time");
        }

        _waiting = true;
        _pending.Reset();
        return new ValueTask<Datagram>(this, _pending.Version);
    }

    public bool TryReceive(out Datagram datagram)
    {
        if (_queue.TryDequeue(out datagram))
        {
            _queuedBytes -= datagram.Length;
            return true;
        }

        return false;
    }

    public void Dispose() => _udp.Unbind(this);

    internal bool Enqueue(ReadOnlySpan<byte> payload, Ipv6EndPoint from)
    {
        if (Connected && (from.Address != RemoteAddress || from.Port != RemotePort))
        {
            return false;
        }

        var datagram = new Datagram(payload.ToArray(), payload.Length, from);
        if (_waiting)
        {
            _waiting = false;
            _pending.SetResult(datagram);
            return true;
        }

        if (_queuedBytes + payload.Length > ReceiveBuffer)
        {
            _stack.Snmp.Inc(Snmp6Counter.Udp6RcvbufErrors);
            _stack.Snmp.Inc(Snmp6Counter.Udp6InErrors);
            return false;
        }

        _queue.Enqueue(datagram);
        _queuedBytes += payload.Length;
        return true;
    }

    Datagram IValueTaskSource<Datagram>.GetResult(short token) => _pending.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<Datagram>.GetStatus(short token) => _pending.GetStatus(token);

    void IValueTaskSource<Datagram>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _pending.OnCompleted(continuation, state, token, flags);
}
