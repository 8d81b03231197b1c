using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Emu.Emulator.Wire;

/// <summary>
/// <c>socket,listen=</c>/<c>socket,connect=</c> and <c>stream</c>: each frame is a 4-byte big-endian length and the
/// frame (QEMU net/stream.c, net_fill_rstate). A server serves one peer at a time and accepts the next after a
/// disconnect; a client retries every <c>reconnect-ms</c> when that is set. A length of 0 or above 69,632, or a stream
/// that ends inside a frame, closes that connection with a log line and a count; the node carries on.
/// </summary>
public sealed class StreamNetdev : Netdev
{
    private readonly CancellationTokenSource _stop = new();
    private readonly byte[] _sendBuffer = new byte[MaxFrame + 4];
    private Socket? _listener;
    private volatile Socket? _peer;
    private Thread? _thread;

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
    }

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

        // Prefix and frame go out in one buffer, written whole: a frame is never split by a partial write.
        BinaryPrimitives.WriteUInt32BigEndian(_sendBuffer, (uint)frame.Length);
        frame.CopyTo(_sendBuffer.AsSpan(4));
        int total = frame.Length + 4;
        try
        {
            int sent = 0;
            while (sent < total)
            {
                sent += peer.Send(_sendBuffer, sent, total - sent, SocketFlags.None);
            }

            Counters.FrameOut();
        }
        catch (SocketException)
        {
            Counters.SendError();
        }
        catch (ObjectDisposedException)
        {
            Counters.SendError();
        }
    }

    public override void Dispose()
    {
        _stop.Cancel();
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
        _stop.Dispose();
    }

    private void ServeLoop()
    {
        while (!_stop.IsCancellationRequested)
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
        while (!_stop.IsCancellationRequested)
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

                if (_stop.Token.WaitHandle.WaitOne(Spec.ReconnectMs))
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
            if (Spec.ReconnectMs <= 0 || _stop.Token.WaitHandle.WaitOne(Spec.ReconnectMs))
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

                PostFrame(buffer.AsSpan(0, (int)length));
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            reason = e.Message;
        }

        _peer = null;
        peer.Dispose();
        if (!_stop.IsCancellationRequested)
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
