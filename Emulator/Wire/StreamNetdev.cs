using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Emu.Emulator.Wire;

/// <summary>
/// <c>socket,listen=</c>/<c>socket,connect=</c> and <c>stream</c>: each frame is a 4-byte big-endian length and the
/// frame (QEMU net/stream.c, net_fill_rstate). A server serves one peer at a time and accepts the next after a
/// disconnect; a client retries every <c>reconnect-ms</c> when that is set. A length of 0 or above 69,632, or a stream
/// that ends inside a frame, closes that connection with a log line and a count; the node carries on.
/// The node loop never waits on the peer: frames from the device go into a send queue bounded at
/// <see cref="SendQueueLimit"/> bytes that a writer thread drains as the socket takes them; a frame that finds the
/// queue full is dropped under <see cref="NetdevCounters.DroppedSendQueueFull"/>.
/// </summary>
public sealed class StreamNetdev : Netdev
{
    /// <summary>Bytes (with their length prefixes) the send queue holds at most: about 700 full-size frames.</summary>
    public const int SendQueueLimit = 1 << 20;

    private readonly ConcurrentQueue<(byte[] Buffer, int Length)> _sendQueue = new();
    private readonly SemaphoreSlim _sendReady = new(0);
    private long _sendQueued;
    private Socket? _listener;
    private volatile Socket? _peer;
    private Thread? _thread;
    private Thread? _writer;

    internal StreamNetdev(NetdevSpec spec, NodeLoop loop, ILogger? logger)
        : base(spec, loop, logger)
    {
    }

    /// <summary>The address a server listens on (its port resolved when 0 was asked for).</summary>
    public EndPoint? ListeningOn => _listener?.LocalEndPoint;

    public bool IsConnected => _peer is not null;

    protected override void Open()
    {
        if (Spec.Server)
        {
            NetdevEndpoint local = Spec.Local!;
            EndPoint endpoint = local.ToEndPoint();
            _listener = new Socket(endpoint.AddressFamily, SocketType.Stream, local.IsUnix ? ProtocolType.Unspecified : ProtocolType.Tcp);
            if (local.IsUnix)
            {
                // QEMU unlinks a stale socket path before binding.
                File.Delete(local.UnixPath!);
            }
            else
            {
                _listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            }

            _listener.Bind(endpoint);
            _listener.Listen(1);
            Log.Listening(Logger, Spec.Text, _listener.LocalEndPoint?.ToString() ?? local.ToString());
        }

        _thread = new Thread(Spec.Server ? ServeLoop : ClientLoop) { IsBackground = true, Name = "netdev " + Spec.Text };
        _thread.Start();
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "netdev writer " + Spec.Text };
        _writer.Start();
    }

    /// <summary>Bytes waiting in the send queue.</summary>
    public long SendQueued => Interlocked.Read(ref _sendQueued);

    public override void ReceiveFrame(ReadOnlySpan<byte> frame)
    {
        Socket? peer = _peer;
        if (peer is null)
        {
            Counters.NotConnected();
            return;
        }

        if (frame.Length > MaxFrame)
        {
            Counters.SendError();
            return;
        }

        int total = frame.Length + 4;
        if (Interlocked.Read(ref _sendQueued) + total > SendQueueLimit)
        {
            Counters.SendQueueFull();
            return;
        }

        // Prefix and frame go out in one buffer, written whole: a frame is never split by a partial write.
        byte[] buffer = ArrayPool<byte>.Shared.Rent(total);
        BinaryPrimitives.WriteUInt32BigEndian(buffer, (uint)frame.Length);
        frame.CopyTo(buffer.AsSpan(4));
        Interlocked.Add(ref _sendQueued, total);
        _sendQueue.Enqueue((buffer, total));
        _sendReady.Release();
    }

    /// <summary>The writer thread: sends queued frames in order; it, not the loop, waits when the peer is slow.</summary>
    private void WriteLoop()
    {
        while (true)
        {
            try
            {
                _sendReady.Wait(Closing.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (!_sendQueue.TryDequeue(out (byte[] Buffer, int Length) item))
            {
                continue;
            }

            try
            {
                Socket? peer = _peer;
                if (peer is null)
                {
                    Counters.NotConnected();
                    continue;
                }

                int sent = 0;
                while (sent < item.Length)
                {
                    sent += peer.Send(item.Buffer, sent, item.Length - sent, SocketFlags.None);
                }

                Counters.FrameOut();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                Counters.SendError();
            }
            finally
            {
                Interlocked.Add(ref _sendQueued, -item.Length);
                ArrayPool<byte>.Shared.Return(item.Buffer);
            }
        }
    }

    public override void Dispose()
    {
        Closing.Cancel();
        _peer?.Dispose();
        _listener?.Dispose();
        if (Spec.Server && Spec.Local!.IsUnix)
        {
            try
            {
                File.Delete(Spec.Local.UnixPath!);
            }
            catch (IOException)
            {
                // Best effort.
            }
        }

        _thread?.Join(TimeSpan.FromSeconds(2));
        _writer?.Join(TimeSpan.FromSeconds(2));
        while (_sendQueue.TryDequeue(out (byte[] Buffer, int Length) item))
        {
            Counters.SendError();   // queued for a peer the node no longer has
            ArrayPool<byte>.Shared.Return(item.Buffer);
        }
    }

    private void ServeLoop()
    {
        while (!Closing.IsCancellationRequested)
        {
            Socket peer;
            try
            {
                peer = _listener!.Accept();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }

            Serve(peer);
        }
    }

    private void ClientLoop()
    {
        NetdevEndpoint remote = Spec.Remote!;
        while (!Closing.IsCancellationRequested)
        {
            EndPoint endpoint = remote.ToEndPoint();
            var socket = new Socket(endpoint.AddressFamily == AddressFamily.Unspecified ? AddressFamily.InterNetwork : endpoint.AddressFamily, SocketType.Stream, remote.IsUnix ? ProtocolType.Unspecified : ProtocolType.Tcp);
            try
            {
                socket.Connect(endpoint);
            }
            catch (SocketException e)
            {
                socket.Dispose();
                if (Spec.ReconnectMs <= 0)
                {
                    Log.Problem(Logger, Spec.Text, $"connect to {remote} failed: {e.SocketErrorCode}; no reconnect-ms, giving up");
                    return;
                }

                if (Closing.Token.WaitHandle.WaitOne(Spec.ReconnectMs))
                {
                    return;
                }

                continue;
            }
            catch (ObjectDisposedException)
            {
                return;
            }

            Serve(socket);
            if (Spec.ReconnectMs <= 0 || Closing.Token.WaitHandle.WaitOne(Spec.ReconnectMs))
            {
                return;
            }
        }
    }

    /// <summary>Reads frames from one connected peer until it goes away.</summary>
    private void Serve(Socket peer)
    {
        if (peer.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)
        {
            peer.NoDelay = true;
        }

        Counters.Connected();
        _peer = peer;
        Log.Connected(Logger, Spec.Text, peer.RemoteEndPoint?.ToString() ?? "unix");
        PostCarrier(true);
        string reason = "end of stream";
        byte[] buffer = new byte[MaxFrame];
        Span<byte> header = stackalloc byte[4];
        try
        {
            while (true)
            {
                int got = ReadExactly(peer, header);
                if (got == 0)
                {
                    break;
                }

                if (got < 4)
                {
                    reason = "stream ended inside a length prefix";
                    Counters.BadLength();
                    break;
                }

                uint length = BinaryPrimitives.ReadUInt32BigEndian(header);
                if (length == 0 || length > MaxFrame)
                {
                    Log.BadLength(Logger, Spec.Text, length);
                    Counters.BadLength();
                    reason = "bad frame length";
                    break;
                }

                if (ReadExactly(peer, buffer.AsSpan(0, (int)length)) < length)
                {
                    Counters.BadLength();
                    reason = "stream ended inside a frame";
                    break;
                }

                if (!PostFrame(buffer.AsSpan(0, (int)length)))
                {
                    reason = "netdev closed";
                    break;
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            reason = e.Message;
        }

        _peer = null;
        peer.Dispose();
        if (!Closing.IsCancellationRequested)
        {
            Log.Disconnected(Logger, Spec.Text, reason);
            PostCarrier(false);
        }
    }

    /// <summary>Reads until the span is full or the stream ends; returns the bytes read.</summary>
    private static int ReadExactly(Socket socket, Span<byte> destination)
    {
        int total = 0;
        while (total < destination.Length)
        {
            int n = socket.Receive(destination[total..]);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        return total;
    }
}
