using System.Buffers.Binary;
using Emu.Stack.Core;
using Emu.Stack.Ipv6;
using Emu.Stack.Sockets;
using Emu.Stack.Wire;

namespace Emu.Stack.Tcp;

/// <summary>
/// TCP over IPv6 for one node (tcpv6_prot and tcp_v6_rcv): socket creation, ports, the established and listening
/// lookup tables, passive opens into a listener's SYN and accept queues, RSTs for segments nobody owns (RFC 9293
/// §3.10.7.1), initial sequence numbers (RFC 6528) and the challenge-ACK limit (RFC 5961 §7).
/// </summary>
public sealed class Tcp6
{
    public const int EphemeralLow = 32768;
    public const int EphemeralHigh = 60999;

    /// <summary>Challenge ACKs per second across the node (Linux tcp_challenge_ack_limit).</summary>
    public const int ChallengeAckLimit = 1000;

    private readonly Ipv6Stack _stack;
    private readonly Dictionary<(Ipv6Address, ushort, Ipv6Address, ushort), TcpSocket> _connections = [];
    private readonly Dictionary<ushort, List<TcpSocket>> _bound = [];
    private readonly Dictionary<ushort, List<TcpSocket>> _listeners = [];
    private readonly ulong _isnKey;
    private readonly ulong _tsKey;
    private int _nextEphemeral;
    private long _challengeWindowStart;
    private int _challengeCount;

    internal Tcp6(Ipv6Stack stack, Random random)
    {
        _stack = stack;
        _isnKey = (ulong)random.NextInt64();
        _tsKey = (ulong)random.NextInt64();
        _nextEphemeral = EphemeralLow + random.Next(EphemeralHigh - EphemeralLow);
    }

    public Snmp6 Snmp => _stack.Snmp;

    /// <summary>What is told about every connection's events (a CSV trace, a text trace); null: nothing (a null check).</summary>
    public TcpProbe? Probe { get; set; }

    /// <summary>Connections known to the lookup table (any state but LISTEN and CLOSED).</summary>
    public int ConnectionCount => _connections.Count;

    public TcpSocket Socket() => new(this, _stack);

    /// <summary>Adds to <paramref name="counts"/> (indexed by <see cref="TcpState"/>) the connections in the lookup table and the listeners, for status displays.</summary>
    public void CountByState(Span<int> counts)
    {
        foreach (TcpSocket socket in _connections.Values)
        {
            counts[(int)socket.State]++;
        }

        foreach (List<TcpSocket> list in _listeners.Values)
        {
            foreach (TcpSocket socket in list)
            {
                counts[(int)socket.State]++;
            }
        }
    }

    // ---- Ports ----

    internal bool BindPort(TcpSocket socket, Ipv6Address address, ushort port, out ushort chosen)
    {
        chosen = port;
        if (port == 0)
        {
            for (int i = 0; i <= EphemeralHigh - EphemeralLow; i++)
            {
                ushort candidate = NextEphemeral();
                if (!PortInUse(candidate, address))
                {
                    chosen = candidate;
                    break;
                }
            }

            if (chosen == 0)
            {
                return false;
            }
        }
        else if (PortInUse(port, address))
        {
            return false;
        }

        if (!_bound.TryGetValue(chosen, out List<TcpSocket>? list))
        {
            list = [];
            _bound[chosen] = list;
        }

        list.Add(socket);
        return true;
    }

    /// <summary>inet_hash_connect: an ephemeral port that makes the four-tuple unique.</summary>
    internal bool BindEphemeral(TcpSocket socket, Ipv6Address source, Ipv6EndPoint remote, out ushort chosen)
    {
        chosen = 0;
        for (int i = 0; i <= EphemeralHigh - EphemeralLow; i++)
        {
            ushort candidate = NextEphemeral();
            if (!_bound.ContainsKey(candidate) && !_connections.ContainsKey((source, candidate, remote.Address, remote.Port)))
            {
                chosen = candidate;
                _bound[candidate] = [socket];
                return true;
            }
        }

        return false;
    }

    private ushort NextEphemeral()
    {
        ushort p = (ushort)_nextEphemeral;
        _nextEphemeral = _nextEphemeral == EphemeralHigh ? EphemeralLow : _nextEphemeral + 1;
        return p;
    }

    private bool PortInUse(ushort port, Ipv6Address address)
    {
        if (!_bound.TryGetValue(port, out List<TcpSocket>? list))
        {
            return false;
        }

        foreach (TcpSocket s in list)
        {
            if (s.Local.Address.IsUnspecified || address.IsUnspecified || s.Local.Address == address)
            {
                return true;
            }
        }

        return false;
    }

    internal void Unbind(TcpSocket socket)
    {
        if (_bound.TryGetValue(socket.Local.Port, out List<TcpSocket>? list))
        {
            list.Remove(socket);
            if (list.Count == 0)
            {
                _bound.Remove(socket.Local.Port);
            }
        }
    }

    // ---- Lookup tables ----

    internal bool Hash(TcpSocket socket) => _connections.TryAdd(Key(socket), socket);

    internal void Unhash(TcpSocket socket)
    {
        if (_connections.TryGetValue(Key(socket), out TcpSocket? found) && found == socket)
        {
            _connections.Remove(Key(socket));
        }
    }

    private static (Ipv6Address, ushort, Ipv6Address, ushort) Key(TcpSocket s) => (s.Local.Address, s.Local.Port, s.Remote.Address, s.Remote.Port);

    internal void AddListener(TcpSocket socket)
    {
        if (!_listeners.TryGetValue(socket.Local.Port, out List<TcpSocket>? list))
        {
            list = [];
            _listeners[socket.Local.Port] = list;
        }

        list.Add(socket);
    }

    internal void RemoveListener(TcpSocket socket)
    {
        if (_listeners.TryGetValue(socket.Local.Port, out List<TcpSocket>? list))
        {
            list.Remove(socket);
            if (list.Count == 0)
            {
                _listeners.Remove(socket.Local.Port);
            }
        }
    }

    internal List<TcpSocket> ChildrenOf(TcpSocket listener)
    {
        var children = new List<TcpSocket>();
        foreach (TcpSocket s in _connections.Values)
        {
            if (s.Parent == listener && !s.InAcceptQueue)
            {
                children.Add(s);
            }
        }

        return children;
    }

    private TcpSocket? FindListener(Ipv6Address destination, ushort port, Inet6Dev idev)
    {
        if (!_listeners.TryGetValue(port, out List<TcpSocket>? list))
        {
            return null;
        }

        TcpSocket? wildcard = null;
        foreach (TcpSocket s in list)
        {
            if (s.Local.ScopeId != 0 && s.Local.ScopeId != idev.Dev.IfIndex)
            {
                continue;
            }

            if (s.Local.Address == destination)
            {
                return s;
            }

            if (s.Local.Address.IsUnspecified)
            {
                wildcard = s;
            }
        }

        return wildcard;
    }

    // ---- Numbers ----

    /// <summary>RFC 6528 §3: ISN = M + F(local, remote, secret), M a clock ticking every 4 µs (Linux: 64 ns).</summary>
    internal uint NewIsn(Ipv6EndPoint local, Ipv6EndPoint remote)
        => (uint)(_stack.Clock.Now / 64) + (uint)Hash(_isnKey, local, remote);

    /// <summary>A per-connection offset for TSval (Linux's tsoffset), so that timestamps reveal no clock.</summary>
    internal uint TimestampOffset(Ipv6EndPoint local, Ipv6EndPoint remote) => (uint)Hash(_tsKey, local, remote);

    private static ulong Hash(ulong key, Ipv6EndPoint local, Ipv6EndPoint remote)
    {
        ulong h = key;
        h = Mix(h, local.Address.High);
        h = Mix(h, local.Address.Low);
        h = Mix(h, remote.Address.High);
        h = Mix(h, remote.Address.Low);
        h = Mix(h, ((ulong)local.Port << 16) | remote.Port);
        return h ^ (h >> 32);

        static ulong Mix(ulong h, ulong v)
        {
            h ^= v;
            h *= 0x9E37_79B9_7F4A_7C15UL;
            return h ^ (h >> 29);
        }
    }

    internal bool TakeChallengeAckToken()
    {
        long now = _stack.Clock.Now;
        if (now - _challengeWindowStart >= 1_000_000_000)
        {
            _challengeWindowStart = now;
            _challengeCount = 0;
        }

        return ++_challengeCount <= ChallengeAckLimit;
    }

    // ---- tcp_v6_rcv ----

    /// <summary>A segment (skb data at the TCP header) for a local address.</summary>
    internal void Rcv(SkBuff skb, Inet6Dev idev, Ipv6Address source, Ipv6Address destination, bool multicast)
    {
        ReadOnlySpan<byte> segment = skb.DataSpan;
        if (multicast || source.IsMulticast)
        {
            _stack.Drop(skb, Snmp6Counter.TcpInErrs);   // TCP is unicast only
            return;
        }

        if (!TcpHeader.TryParse(segment, out TcpHeader h, out _))
        {
            _stack.Drop(skb, Snmp6Counter.TcpInErrs);
            return;
        }

        if (skb.IpSummed != ChecksumState.Unnecessary && !Checksum.Verify(source, destination, IpProto.Tcp, segment))
        {
            Snmp.Inc(Snmp6Counter.TcpInCsumErrors);
            _stack.Drop(skb, Snmp6Counter.TcpInErrs);
            return;
        }

        Snmp.Inc(Snmp6Counter.TcpInSegs);
        ReadOnlySpan<byte> payload = segment[h.DataOffset..];
        if (_connections.TryGetValue((destination, h.DestinationPort, source, h.SourcePort), out TcpSocket? socket))
        {
            if (socket.State == TcpState.TimeWait)
            {
                socket.OnTimeWaitSegment(h);
            }
            else
            {
                socket.OnSegment(h, payload);
            }

            Probe?.OnEvent(socket, new TcpProbeEvent(TcpProbeKind.Receive, string.Empty, h.Seq, payload.Length, h.Ack, h.Flags));
            skb.Free();
            return;
        }

        TcpSocket? listener = FindListener(destination, h.DestinationPort, idev);
        if (listener is not null)
        {
            OnListen(listener, idev, source, destination, h, payload.Length);
            skb.Free();
            return;
        }

        SendResetFor(idev, source, destination, h, payload.Length);
        skb.Free();
    }

    /// <summary>LISTEN (§3.10.7.2): a SYN makes a child in SYN-RECEIVED if the queues have room; an ACK gets a RST.</summary>
    private void OnListen(TcpSocket listener, Inet6Dev idev, Ipv6Address source, Ipv6Address destination, in TcpHeader h, int payloadLength)
    {
        if (h.Has(TcpFlags.Rst))
        {
            return;
        }

        if (h.Has(TcpFlags.Ack))
        {
            SendResetFor(idev, source, destination, h, payloadLength);
            return;
        }

        if (!h.Has(TcpFlags.Syn))
        {
            return;
        }

        if (listener.AcceptQueueFull || listener.SynQueueLength >= Math.Max(listener.Backlog, 128))
        {
            // Linux: a full accept queue drops the SYN (the peer retransmits it).
            if (listener.AcceptQueueFull)
            {
                Snmp.Inc(Snmp6Counter.TcpExtListenOverflows);
            }

            Snmp.Inc(Snmp6Counter.TcpExtListenDrops);
            return;
        }

        int scope = source.IsLinkLocal ? idev.Dev.IfIndex : 0;
        var local = new Ipv6EndPoint(destination, h.DestinationPort, scope);
        var remote = new Ipv6EndPoint(source, h.SourcePort, scope);
        TcpSocket child = Socket();
        listener.SynQueueLength++;
        child.Parent = listener;
        _connections[(destination, h.DestinationPort, source, h.SourcePort)] = child;
        child.InitPassive(listener, idev, local, remote, h, NewIsn(local, remote));
        Probe?.OnEvent(child, new TcpProbeEvent(TcpProbeKind.Receive, "passive open", h.Seq, payloadLength, h.Ack, h.Flags));
    }

    /// <summary>
    /// A RST for a segment nobody owns (§3.10.7.1): &lt;SEQ=SEG.ACK&gt;&lt;CTL=RST&gt; when it carried an ACK, otherwise
    /// &lt;SEQ=0&gt;&lt;ACK=SEG.SEQ+SEG.LEN&gt;&lt;CTL=RST,ACK&gt;. Never for a RST.
    /// </summary>
    internal void SendResetFor(Inet6Dev idev, Ipv6Address source, Ipv6Address destination, in TcpHeader h, int payloadLength)
    {
        if (h.Has(TcpFlags.Rst))
        {
            return;
        }

        uint seq = h.Has(TcpFlags.Ack) ? h.Ack : 0;
        uint segLen = (uint)payloadLength + (h.Has(TcpFlags.Syn) ? 1u : 0u) + (h.Has(TcpFlags.Fin) ? 1u : 0u);
        uint ack = h.Seq + segLen;
        TcpFlags flags = h.Has(TcpFlags.Ack) ? TcpFlags.Rst : TcpFlags.Rst | TcpFlags.Ack;
        SkBuff skb = Ipv6Stack.AllocSkb(TcpHeader.MinLength);
        Span<byte> segment = skb.Put(TcpHeader.MinLength);
        TcpHeader.Write(segment, h.DestinationPort, h.SourcePort, seq, (flags & TcpFlags.Ack) != 0 ? ack : 0, TcpHeader.MinLength, flags, 0);
        BinaryPrimitives.WriteUInt16BigEndian(segment[16..], Checksum.Compute(destination, source, IpProto.Tcp, segment));
        Snmp.Inc(Snmp6Counter.TcpOutSegs);
        Snmp.Inc(Snmp6Counter.TcpOutRsts);
        _stack.Ip6Xmit(skb, destination, source, IpProto.Tcp, idev.Dev, fixedSource: true);
    }
}
