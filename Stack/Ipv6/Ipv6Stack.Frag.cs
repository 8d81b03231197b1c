using System.Buffers.Binary;
using Emu.Stack.Core;
using Emu.Stack.Wire;

namespace Emu.Stack.Ipv6;

/// <summary>Fragmentation and reassembly (RFC 8200 §4.5, RFC 5722, RFC 6946, RFC 7112).</summary>
public sealed partial class Ipv6Stack
{
    /// <summary>RFC 8200 §4.5: reassembly gives up after 60 seconds.</summary>
    public const long ReassemblyTimeoutNs = 60_000_000_000;

    /// <summary>Linux ip6frag_high_thresh: the memory reassembly may hold.</summary>
    public const int ReassemblyMemoryLimit = 4 * 1024 * 1024;

    /// <summary>What each held fragment costs beyond its data (its bookkeeping; Linux charges the skb's truesize).</summary>
    public const int FragmentOverhead = 256;

    /// <summary>Fragments one datagram may arrive in before it is abandoned (a 64 KiB datagram over 1280-byte links needs 53).</summary>
    public const int MaxFragmentsPerDatagram = 512;

    private readonly Dictionary<(Ipv6Address, Ipv6Address, uint), FragQueue> _fragQueues = [];
    private int _fragMemory;

    /// <summary>A datagram being reassembled.</summary>
    private sealed class FragQueue
    {
        public List<(int Offset, byte[] Data)> Pieces { get; } = [];

        public int TotalLength { get; set; } = -1;

        public byte NextHeader { get; set; }

        public byte[]? FirstFragment { get; set; }

        public IKernelTimer? Timer { get; set; }

        public int Bytes { get; set; }
    }

    /// <summary>ip6_fragment: fragments of at most the MTU, offsets in 8-byte units, one unpredictable identification (RFC 7739).</summary>
    private int Fragment(SkBuff skb, Inet6Dev idev, Ipv6Address source, Ipv6Address destination, byte nextHeader, byte hopLimit, Ipv6Address nextHop, uint flowLabel)
    {
        int maxData = (PathMtu(idev, destination) - Ipv6Header.Length - 8) & ~7;
        uint id = (uint)_random.Next(1, int.MaxValue);
        ReadOnlySpan<byte> payload = skb.DataSpan;
        int result = 0;
        for (int offset = 0; offset < payload.Length; offset += maxData)
        {
            int size = Math.Min(maxData, payload.Length - offset);
            bool more = offset + size < payload.Length;
            SkBuff fragment = AllocSkb(size);
            payload.Slice(offset, size).CopyTo(fragment.Put(size));
            Span<byte> fh = fragment.Push(8);
            fh[0] = nextHeader;
            fh[1] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(fh[2..], (ushort)(offset | (more ? 1 : 0)));
            BinaryPrimitives.WriteUInt32BigEndian(fh[4..], id);
            Ipv6Header.Write(fragment.Push(Ipv6Header.Length), fragment.Len - Ipv6Header.Length, IpProto.Fragment, hopLimit, source, destination, flowLabel);
            fragment.NetworkHeader = fragment.Data;
            Snmp.Inc(Snmp6Counter.Ip6FragCreates);
            result = Ip6FinishOutput(fragment, idev, destination, nextHop);
        }

        Snmp.Inc(Snmp6Counter.Ip6FragOKs);
        skb.Free();
        return result;
    }

    /// <summary>ipv6_frag_rcv: skb data at the Fragment header; <paramref name="offset"/> is its place in the packet.</summary>
    private void Reassemble(SkBuff skb, Inet6Dev idev, Ipv6Address source, Ipv6Address destination, bool multicast, int offset)
    {
        ReadOnlySpan<byte> h = skb.DataSpan;
        if (h.Length < 8)
        {
            Drop(skb, Snmp6Counter.Ip6InHdrErrors);
            return;
        }

        Snmp.Inc(Snmp6Counter.Ip6ReasmReqds);
        byte nextHeader = h[0];
        ushort offsetField = BinaryPrimitives.ReadUInt16BigEndian(h[2..]);
        int fragmentOffset = offsetField & 0xFFF8;
        bool more = (offsetField & 1) != 0;
        uint id = BinaryPrimitives.ReadUInt32BigEndian(h[4..]);
        int dataLength = h.Length - 8;

        if (fragmentOffset == 0 && !more)
        {
            // RFC 6946: an atomic fragment is processed on its own, outside any reassembly.
            skb.Pull(8);
            Snmp.Inc(Snmp6Counter.Ip6ReasmOKs);
            Ip6Input(skb, idev, source, destination, multicast, nextHeader, offset + 8);
            return;
        }

        if (more && dataLength % 8 != 0)
        {
            // §4.5: all but the last fragment are a multiple of 8 bytes long; pointer at the Payload Length field.
            ParameterProblem(skb, idev, 0, 4, source, destination, multicast, forceEvenIfMulticast: false);
            Drop(skb, Snmp6Counter.Ip6InHdrErrors);
            return;
        }

        if (fragmentOffset + dataLength > 65535)
        {
            // §4.5: the reassembled packet would exceed 65,535 bytes; pointer at the Fragment Offset field.
            ParameterProblem(skb, idev, 0, offset + 2, source, destination, multicast, forceEvenIfMulticast: false);
            Drop(skb, Snmp6Counter.Ip6InHdrErrors);
            return;
        }

        if (fragmentOffset == 0 && !HeaderChainComplete(h[8..], nextHeader))
        {
            // RFC 7112 §5: the first fragment lacks the upper-layer header: Parameter Problem code 3.
            ParameterProblem(skb, idev, 3, 0, source, destination, multicast, forceEvenIfMulticast: false);
            Drop(skb, Snmp6Counter.Ip6ReasmFails);
            return;
        }

        var key = (source, destination, id);
        if (_fragMemory + dataLength + FragmentOverhead > ReassemblyMemoryLimit)
        {
            // The reassembly memory cap (Linux ip6frag_high_thresh): new fragments are refused while it is full.
            Drop(skb, Snmp6Counter.Ip6ReasmFails);
            return;
        }

        if (!_fragQueues.TryGetValue(key, out FragQueue? q))
        {
            q = new FragQueue();
            q.Timer = Clock.CreateTimer("reasm", () => ReassemblyTimeout(idev, key, source, destination));
            q.Timer.ArmIn(ReassemblyTimeoutNs);
            _fragQueues[key] = q;
        }

        // RFC 5722: any overlap abandons the whole datagram, silently; an exact duplicate (RFC 8200 §4.5) is only
        // itself dropped.
        foreach ((int pieceOffset, byte[] data) in q.Pieces)
        {
            if (fragmentOffset < pieceOffset + data.Length && pieceOffset < fragmentOffset + dataLength)
            {
                if (pieceOffset == fragmentOffset && data.AsSpan().SequenceEqual(h[8..]))
                {
                    Drop(skb, Snmp6Counter.Ip6InDiscards);
                    return;
                }

                DiscardQueue(key, q);
                Drop(skb, Snmp6Counter.Ip6ReasmFails);
                return;
            }
        }

        if (q.Pieces.Count >= MaxFragmentsPerDatagram)
        {
            DiscardQueue(key, q);
            Drop(skb, Snmp6Counter.Ip6ReasmFails);
            return;
        }

        if (!more)
        {
            if (q.TotalLength >= 0 && q.TotalLength != fragmentOffset + dataLength)
            {
                DiscardQueue(key, q);
                Drop(skb, Snmp6Counter.Ip6ReasmFails);
                return;
            }

            q.TotalLength = fragmentOffset + dataLength;
        }

        if (fragmentOffset == 0)
        {
            q.NextHeader = nextHeader;
            q.FirstFragment = skb.Buffer.AsSpan(skb.NetworkHeader, skb.Tail - skb.NetworkHeader).ToArray();
        }

        q.Pieces.Add((fragmentOffset, h[8..].ToArray()));
        q.Bytes += dataLength + FragmentOverhead;
        _fragMemory += dataLength + FragmentOverhead;
        skb.Free();

        if (q.TotalLength < 0 || q.FirstFragment is null)
        {
            return;
        }

        int covered = 0;
        foreach ((int o, byte[] d) in q.Pieces.OrderBy(p => p.Offset))
        {
            if (o != covered)
            {
                return;
            }

            covered += d.Length;
        }

        if (covered != q.TotalLength)
        {
            return;
        }

        // Complete: rebuild the packet with an IPv6 header in front (for errors about it), then deliver.
        DiscardQueue(key, q);
        SkBuff whole = AllocSkb(Ipv6Header.Length + q.TotalLength);
        Span<byte> packet = whole.Put(Ipv6Header.Length + q.TotalLength);
        Ipv6Header.Write(packet, q.TotalLength, q.NextHeader, q.FirstFragment[7], source, destination);
        foreach ((int o, byte[] d) in q.Pieces)
        {
            d.CopyTo(packet[(Ipv6Header.Length + o)..]);
        }

        whole.Dev = idev.Dev;
        whole.NetworkHeader = whole.Data;
        whole.Pull(Ipv6Header.Length);
        Snmp.Inc(Snmp6Counter.Ip6ReasmOKs);
        Ip6Input(whole, idev, source, destination, multicast, q.NextHeader, Ipv6Header.Length);
    }

    /// <summary>RFC 7112: the first fragment holds every extension header and the upper-layer header.</summary>
    private static bool HeaderChainComplete(ReadOnlySpan<byte> data, byte next)
    {
        int offset = 0;
        for (int i = 0; i < 8; i++)
        {
            switch (next)
            {
                case IpProto.HopByHop:
                case IpProto.Routing:
                case IpProto.DestOptions:
                    if (offset + 2 > data.Length || offset + ((data[offset + 1] + 1) * 8) > data.Length)
                    {
                        return false;
                    }

                    next = data[offset];
                    offset += (data[offset + 1] + 1) * 8;
                    continue;
                case IpProto.Udp:
                    return data.Length - offset >= 8;
                case IpProto.Icmpv6:
                    return data.Length - offset >= 4;
                case IpProto.Tcp:
                    return data.Length - offset >= 20;
                default:
                    return true;
            }
        }

        return false;
    }

    private void DiscardQueue((Ipv6Address, Ipv6Address, uint) key, FragQueue q)
    {
        q.Timer?.Cancel();
        _fragQueues.Remove(key);
        _fragMemory -= q.Bytes;
    }

    /// <summary>§4.5: 60 s without completion: discarded, and Time Exceeded code 1 if the first fragment came.</summary>
    private void ReassemblyTimeout(Inet6Dev idev, (Ipv6Address, Ipv6Address, uint) key, Ipv6Address source, Ipv6Address destination)
    {
        if (!_fragQueues.TryGetValue(key, out FragQueue? q))
        {
            return;
        }

        DiscardQueue(key, q);
        Snmp.Inc(Snmp6Counter.Ip6ReasmTimeout);
        Snmp.Inc(Snmp6Counter.Ip6ReasmFails);
        if (q.FirstFragment is not null)
        {
            SkBuff first = SkBuff.Alloc(q.FirstFragment.Length);
            q.FirstFragment.CopyTo(first.Put(q.FirstFragment.Length));
            first.NetworkHeader = first.Data;
            IcmpError(first, idev, IcmpTimeExceeded, 1, 0, source, destination, destination.IsMulticast, forceEvenIfMulticast: false);
            first.Free();
        }
    }
}
