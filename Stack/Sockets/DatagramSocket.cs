using System.Threading.Tasks.Sources;
using Emu.Stack.Core;
using Emu.Stack.Ipv6;

namespace Emu.Stack.Sockets;

/// <summary>
/// A datagram socket (inet6_dgram_ops, inet6_sockraw_ops): the receive queue of sk_buffs with its SO_RCVBUF limit,
/// recvfrom into the caller's buffer or completed on the node's event loop, and sk_data_ready.
/// </summary>
public abstract class DatagramSocket : Socket, IValueTaskSource<ReceiveResult>
{
    /// <summary>net.core.rmem_default.</summary>
    public const int DefaultReceiveBuffer = 212_992;

    /// <summary>What a queued datagram costs beyond its bytes (its sk_buff; Linux charges the truesize).</summary>
    public const int PerDatagramOverhead = 256;

    private readonly Queue<(SkBuff Skb, Ipv6EndPoint From)> _queue = new();
    private ManualResetValueTaskSourceCore<ReceiveResult> _pending;
    private Memory<byte> _pendingBuffer;
    private bool _waiting;
    private int _queuedBytes;

    protected DatagramSocket(Ipv6Stack stack, SockType type, byte protocol)
        : base(stack, type, protocol)
    {
        _pending.RunContinuationsAsynchronously = false;
    }

    /// <summary>SO_RCVBUF in bytes.</summary>
    public int ReceiveBuffer { get; set; } = DefaultReceiveBuffer;

    /// <summary>sk_data_ready: called on the node's loop after a datagram was queued (not when it went straight to a waiting recvfrom).</summary>
    public Action<DatagramSocket>? DataReady { get; set; }

    /// <summary>Datagrams dropped because the receive buffer was full (sk_drops).</summary>
    public long Drops { get; private set; }

    public int QueuedDatagrams => _queue.Count;

    /// <summary>recvfrom without waiting (MSG_DONTWAIT): false when nothing is queued.</summary>
    public bool TryReceiveFrom(Span<byte> buffer, out ReceiveResult result)
    {
        if (!_queue.TryDequeue(out (SkBuff Skb, Ipv6EndPoint From) item))
        {
            result = default;
            return false;
        }

        _queuedBytes -= item.Skb.Len + PerDatagramOverhead;
        result = CopyOut(item.Skb, item.From, buffer.Length == 0 ? Span<byte>.Empty : buffer);
        return true;
    }

    /// <summary>recvfrom into <paramref name="buffer"/>: completes on the node's loop when a datagram is (or was) queued.</summary>
    public ValueTask<ReceiveResult> ReceiveFromAsync(Memory<byte> buffer)
    {
        if (TryReceiveFrom(buffer.Span, out ReceiveResult result))
        {
            return new ValueTask<ReceiveResult>(result);
        }

        if (_waiting)
        {
            throw new InvalidOperationException("one recvfrom at a time on a socket");
        }

        _waiting = true;
        _pendingBuffer = buffer;
        _pending.Reset();
        return new ValueTask<ReceiveResult>(this, _pending.Version);
    }

    /// <summary>recvfrom into a new buffer of the datagram's size.</summary>
    public async ValueTask<Datagram> ReceiveFromAsync()
    {
        byte[] buffer = new byte[65536];
        ReceiveResult r = await ReceiveFromAsync(buffer).ConfigureAwait(false);
        return new Datagram(buffer, r.Length, r.From);
    }

    /// <summary>close: unhashes the socket and frees what it had queued.</summary>
    protected override void OnClose()
    {
        Unhash();
        while (_queue.TryDequeue(out (SkBuff Skb, Ipv6EndPoint From) item))
        {
            item.Skb.Free();
        }

        _queuedBytes = 0;
    }

    /// <summary>Leaves the protocol's lookup tables.</summary>
    protected abstract void Unhash();

    /// <summary>
    /// sock_queue_rcv_skb: takes <paramref name="skb"/> (data at the payload) — straight to a waiting reader, or onto
    /// the queue; false, the skb freed and counted in <see cref="Drops"/>, when the receive buffer is full.
    /// </summary>
    internal bool QueueRcvSkb(SkBuff skb, Ipv6EndPoint from)
    {
        if (_waiting)
        {
            _waiting = false;
            Memory<byte> buffer = _pendingBuffer;
            _pendingBuffer = default;
            _pending.SetResult(CopyOut(skb, from, buffer.Span));
            return true;
        }

        int cost = skb.Len + PerDatagramOverhead;
        if (_queuedBytes + cost > ReceiveBuffer)
        {
            Drops++;
            skb.Free();
            return false;
        }

        _queue.Enqueue((skb, from));
        _queuedBytes += cost;
        DataReady?.Invoke(this);
        return true;
    }

    private static ReceiveResult CopyOut(SkBuff skb, Ipv6EndPoint from, Span<byte> buffer)
    {
        ReadOnlySpan<byte> data = skb.DataSpan;
        int n = Math.Min(data.Length, buffer.Length);
        data[..n].CopyTo(buffer);
        bool truncated = n < data.Length;
        skb.Free();
        return new ReceiveResult(n, from, truncated);
    }

    ReceiveResult IValueTaskSource<ReceiveResult>.GetResult(short token) => _pending.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<ReceiveResult>.GetStatus(short token) => _pending.GetStatus(token);

    void IValueTaskSource<ReceiveResult>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _pending.OnCompleted(continuation, state, token, flags);
}
