using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Emu.Emulator.Wire;

/// <summary>
/// <c>socket,udp=…,localaddr=…</c> and <c>dgram</c>: one frame per datagram, no prefix (QEMU net/dgram.c). Datagrams
/// from any source are taken; an empty one is counted and ignored.
/// </summary>
public sealed class DatagramNetdev : Netdev
{
    private Socket? _socket;
    private EndPoint? _remote;
    private Thread? _thread;
    private volatile bool _stopping;

    internal DatagramNetdev(NetdevSpec spec, NodeLoop loop, ILogger? logger)
        : base(spec, loop, logger)
    {
    }

    public EndPoint? LocalEndPoint => _socket?.LocalEndPoint;

    protected override void Open()
    {
        NetdevEndpoint local = Spec.Local!;
        EndPoint localEndpoint = local.ToEndPoint();
        _remote = Spec.Remote!.ToEndPoint();
        _socket = new Socket(localEndpoint.AddressFamily, SocketType.Dgram, local.IsUnix ? ProtocolType.Unspecified : ProtocolType.Udp);
        if (local.IsUnix)
        {
            File.Delete(local.UnixPath!);
        }
        else
        {
            _socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        }

        _socket.Bind(localEndpoint);
        Log.Listening(Logger, Spec.Text, _socket.LocalEndPoint?.ToString() ?? local.ToString());
        _thread = new Thread(ReceiveLoop) { IsBackground = true, Name = "netdev " + Spec.Text };
        _thread.Start();
    }

    public override void ReceiveFrame(ReadOnlySpan<byte> frame)
    {
        try
        {
            _socket!.SendTo(frame, SocketFlags.None, _remote!);
            Counters.FrameOut();
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            Counters.SendError();
        }
    }

    public override void Dispose()
    {
        _stopping = true;
        Closing.Cancel();
        _socket?.Dispose();
        if (Spec.Local!.IsUnix)
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
    }

    private void ReceiveLoop()
    {
        byte[] buffer = new byte[MaxFrame];
        while (!_stopping)
        {
            int n;
            try
            {
                n = _socket!.Receive(buffer);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                if (!_stopping && e is SocketException { SocketErrorCode: SocketError.ConnectionReset })
                {
                    continue;   // an ICMP port-unreachable for an earlier send
                }

                return;
            }

            if (n == 0)
            {
                Counters.EmptyDatagram();
                continue;
            }

            if (!PostFrame(buffer.AsSpan(0, n)))
            {
                return;
            }
        }
    }
}
