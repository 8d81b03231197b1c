using Emu.Stack.Ipv6;
using Emu.Stack.Sockets;
using Emu.Stack.Tcp;
using Emu.Stack.Wire;

namespace Emu.Host.Services;

/// <summary>
/// A TCP service on our stack's socket API: a listener whose DataReady accepts every waiting connection, each
/// connection driven by its own DataReady/WriteSpace callbacks on the node's loop — several at once, no threads.
/// </summary>
public abstract class TcpService : IDisposable
{
    private readonly List<TcpConnection> _connections = [];
    private TcpSocket? _listener;

    public abstract string Name { get; }

    public ushort Port { get; private set; }

    public int ActiveConnections => _connections.Count;

    public long ConnectionsServed { get; private set; }

    /// <summary>Binds and listens on <paramref name="port"/>; false if the port is taken.</summary>
    public bool Start(Ipv6Stack stack, ushort port)
    {
        stack.Sockets.Create(SockType.Stream, IpProto.Tcp, out Socket? s);
        var listener = (TcpSocket)s!;
        if (listener.Bind(new Ipv6EndPoint(Ipv6Address.Unspecified, port)) != 0 || listener.Listen(64) != 0)
        {
            listener.Dispose();
            return false;
        }

        Port = port;
        _listener = listener;
        listener.DataReady = _ =>
        {
            while (listener.TryAccept(out TcpSocket? socket))
            {
                ConnectionsServed++;
                TcpConnection connection = Open(socket!);
                _connections.Add(connection);
                connection.Closed += () => _connections.Remove(connection);
                connection.Start();
            }
        };
        return true;
    }

    /// <summary>The handler for one accepted connection.</summary>
    protected abstract TcpConnection Open(TcpSocket socket);

    public void Dispose()
    {
        _listener?.Dispose();
        foreach (TcpConnection c in _connections.ToArray())
        {
            c.Abort();
        }
    }
}

/// <summary>
/// One connection of a service: reads what arrives (OnData), writes with back-pressure (Write queues what the socket
/// cannot take yet and sends it as space returns), and closes once the peer has finished and all is sent.
/// </summary>
public abstract class TcpConnection
{
    private readonly byte[] _readBuffer = new byte[64 * 1024];
    private byte[] _pending = new byte[16 * 1024];
    private int _pendingStart;
    private int _pendingCount;
    private bool _closing;
    private bool _done;

    protected TcpConnection(TcpSocket socket)
    {
        Socket = socket;
    }

    public event Action? Closed;

    protected TcpSocket Socket { get; }

    /// <summary>Bytes written but not yet taken by the socket: a handler stops reading while this is large.</summary>
    protected int Backlog => _pendingCount;

    internal void Start()
    {
        Socket.DataReady = _ => Pump();
        Socket.WriteSpace = _ => Flush();
        OnOpen();
        Pump();
    }

    protected virtual void OnOpen()
    {
    }

    /// <summary>Data from the peer.</summary>
    protected abstract void OnData(ReadOnlySpan<byte> data);

    /// <summary>The peer finished sending (EOF); by default the connection closes once its output is sent.</summary>
    protected virtual void OnEndOfStream() => CloseWhenSent();

    /// <summary>The socket has room again (after <see cref="Flush"/> emptied the backlog).</summary>
    protected virtual void OnWritable()
    {
    }

    protected void Write(ReadOnlySpan<byte> data)
    {
        if (_done)
        {
            return;
        }

        if (_pendingCount == 0)
        {
            int n = Socket.Send(data);
            if (n < 0 && n != -Errno.EAgain)
            {
                Abort();
                return;
            }

            data = data[Math.Max(0, n)..];
        }

        if (data.Length == 0)
        {
            return;
        }

        if (_pendingStart + _pendingCount + data.Length > _pending.Length)
        {
            byte[] bigger = new byte[Math.Max(_pending.Length * 2, _pendingCount + data.Length)];
            _pending.AsSpan(_pendingStart, _pendingCount).CopyTo(bigger);
            _pending = bigger;
            _pendingStart = 0;
        }

        data.CopyTo(_pending.AsSpan(_pendingStart + _pendingCount));
        _pendingCount += data.Length;
    }

    /// <summary>Closes after everything written has gone to the socket (a FIN follows the data).</summary>
    protected void CloseWhenSent()
    {
        _closing = true;
        if (_pendingCount == 0)
        {
            Finish();
        }
    }

    internal void Abort()
    {
        Socket.LingerZero = true;
        Finish();
    }

    private void Pump()
    {
        while (!_done && Backlog < 256 * 1024)
        {
            int n = Socket.Receive(_readBuffer);
            if (n > 0)
            {
                OnData(_readBuffer.AsSpan(0, n));
                continue;
            }

            if (n == 0)
            {
                Socket.DataReady = null;
                OnEndOfStream();
            }
            else if (n != -Errno.EAgain)
            {
                Finish();   // reset or timed out
            }

            return;
        }
    }

    private void Flush()
    {
        while (_pendingCount > 0)
        {
            int n = Socket.Send(_pending.AsSpan(_pendingStart, _pendingCount));
            if (n == -Errno.EAgain || n == 0)
            {
                return;
            }

            if (n < 0)
            {
                Finish();
                return;
            }

            _pendingStart += n;
            _pendingCount -= n;
        }

        _pendingStart = 0;
        if (_closing)
        {
            Finish();
            return;
        }

        OnWritable();
        Pump();
    }

    private void Finish()
    {
        if (_done)
        {
            return;
        }

        _done = true;
        Socket.DataReady = null;
        Socket.WriteSpace = null;
        Socket.Dispose();
        Closed?.Invoke();
    }
}
