using Emu.Stack.Ipv6;

namespace Emu.Stack.Sockets;

/// <summary>
/// struct socket with its struct sock for AF_INET6: what every protocol shares (addresses, getsockname/getpeername,
/// hop limit, close) and the operations each protocol supplies (bind, connect, sendto), as Linux's proto_ops dispatch
/// to a struct proto. Datagram protocols build on <see cref="DatagramSocket"/>, TCP on Tcp.TcpSocket.
/// </summary>
public abstract class Socket : IDisposable
{
    protected Socket(Ipv6Stack stack, SockType type, byte protocol)
    {
        Stack = stack;
        Type = type;
        Protocol = protocol;
    }

    public Ipv6Stack Stack { get; }

    public SockType Type { get; }

    public byte Protocol { get; }

    public Ipv6EndPoint Local { get; protected set; }

    public Ipv6EndPoint Remote { get; protected set; }

    public bool Connected { get; protected set; }

    public bool Closed { get; private set; }

    /// <summary>IPV6_UNICAST_HOPS / IPV6_MULTICAST_HOPS; -1 for the route's default.</summary>
    public int HopLimit { get; set; } = -1;

    /// <summary>getsockname.</summary>
    public Ipv6EndPoint GetSockName() => Local;

    /// <summary>getpeername: the connected peer, or -ENOTCONN.</summary>
    public int GetPeerName(out Ipv6EndPoint peer)
    {
        peer = Remote;
        return Connected ? 0 : -Errno.ENotConn;
    }

    public abstract int Bind(Ipv6EndPoint local);

    public abstract int Connect(Ipv6EndPoint remote);

    /// <summary>sendto: the bytes sent (or queued), or a negative errno.</summary>
    public abstract int SendTo(ReadOnlySpan<byte> payload, Ipv6EndPoint to);

    /// <summary>send on a connected socket.</summary>
    public virtual int Send(ReadOnlySpan<byte> payload) => Connected ? SendTo(payload, Remote) : -Errno.EDestAddrReq;

    /// <summary>close.</summary>
    public void Dispose()
    {
        if (Closed)
        {
            return;
        }

        Closed = true;
        OnClose();
    }

    /// <summary>What close does for this protocol (unhash, flush, FIN or RST).</summary>
    protected abstract void OnClose();
}
