using System.Diagnostics;

namespace Emu.Stack.Core;

/// <summary>
/// A socket buffer (Linux include/linux/skbuff.h): one linear buffer with head ≤ data ≤ tail ≤ end, plus the metadata
/// the layers set on the way (device, protocol, packet type, header offsets, checksum state, GSO). Buffers and headers
/// are pooled: <see cref="Alloc"/> and <see cref="Free"/> allocate nothing in steady state. A clone shares the data
/// (reference-counted), as Linux's skb_clone does; a copy does not.
/// </summary>
public sealed class SkBuff
{
    /// <summary>NET_SKB_PAD: max(32, L1_CACHE_BYTES) with 64-byte cache lines (x86).</summary>
    public const int NetSkbPad = 64;

    /// <summary>NET_IP_ALIGN: 0 on x86 (arch/x86/include/asm/processor.h), where unaligned IP headers cost nothing.</summary>
    public const int NetIpAlign = 0;

    [ThreadStatic]
    private static Stack<SkBuff>? t_pool;

    [ThreadStatic]
    private static Stack<Shared>? t_sharedPool;


    private Shared _shared = null!;

    /// <summary>The buffer and its reference count, shared by clones.</summary>
    private sealed class Shared
    {
        public byte[] Buffer = [];
        public int References;
    }

    private SkBuff()
    {
    }

    public byte[] Buffer => _shared.Buffer;

    public int Head => 0;

    public int Data { get; private set; }

    public int Tail { get; private set; }

    public int End { get; private set; }

    /// <summary>Bytes from data to tail.</summary>
    public int Len => Tail - Data;

    public int Headroom => Data - Head;

    public int Tailroom => End - Tail;

    public Span<byte> DataSpan => _shared.Buffer.AsSpan(Data, Len);

    public NetDevice? Dev { get; set; }

    /// <summary>skb->protocol: the EtherType, host order.</summary>
    public ushort Protocol { get; set; }

    public PacketType PktType { get; set; }

    public int MacHeader { get; set; } = -1;

    public int NetworkHeader { get; set; } = -1;

    public int TransportHeader { get; set; } = -1;

    public ChecksumState IpSummed { get; set; }

    /// <summary>CHECKSUM_PARTIAL: where the device starts summing (from data) and where it stores the result.</summary>
    public int CsumStart { get; set; }

    public int CsumOffset { get; set; }

    /// <summary>GSO: the segment payload size and kind (0 when not a GSO packet).</summary>
    public int GsoSize { get; set; }

    public GsoType GsoType { get; set; }

    public uint Priority { get; set; }

    public bool VlanPresent { get; set; }

    public ushort VlanTci { get; set; }

    /// <summary>When the skb was queued (for diagnostics and the TX watchdog).</summary>
    public long Timestamp { get; set; }

    internal SkBuff? Next { get; set; }

    internal SkBuff? Prev { get; set; }

    internal bool Queued { get; set; }

    public bool IsCloned => _shared.References > 1;

    /// <summary>alloc_skb: <paramref name="size"/> bytes of data room, data = tail = head.</summary>
    public static SkBuff Alloc(int size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        SkBuff skb = Rent();
        Shared shared = t_sharedPool is { Count: > 0 } sharedPool ? sharedPool.Pop() : new Shared();
        shared.Buffer = PacketBufferPool.Rent(Math.Max(size, 1));
        shared.References = 1;
        skb._shared = shared;
        skb.End = size;
        return skb;
    }

    /// <summary>netdev_alloc_skb: NET_SKB_PAD of headroom reserved before <paramref name="length"/> bytes.</summary>
    public static SkBuff NetdevAlloc(NetDevice? dev, int length)
    {
        SkBuff skb = Alloc(length + NetSkbPad + NetIpAlign);
        skb.Reserve(NetSkbPad + NetIpAlign);
        skb.Dev = dev;
        return skb;
    }

    /// <summary>skb_reserve: data and tail move forward by <paramref name="length"/> (headroom for headers).</summary>
    public void Reserve(int length)
    {
        if (length < 0 || Tail + length > End)
        {
            throw new InvalidOperationException($"skb_reserve({length}) past the end");
        }

        Data += length;
        Tail += length;
    }

    /// <summary>skb_put: extends the data at the tail; returns the new bytes.</summary>
    public Span<byte> Put(int length)
    {
        if (length < 0 || Tail + length > End)
        {
            throw new InvalidOperationException($"skb_over_panic: put {length} with tailroom {Tailroom}");
        }

        int old = Tail;
        Tail += length;
        return _shared.Buffer.AsSpan(old, length);
    }

    /// <summary>skb_push: extends the data at the front (into headroom); returns the new bytes.</summary>
    public Span<byte> Push(int length)
    {
        if (length < 0 || Data - length < Head)
        {
            throw new InvalidOperationException($"skb_under_panic: push {length} with headroom {Headroom}");
        }

        Data -= length;
        return _shared.Buffer.AsSpan(Data, length);
    }

    /// <summary>skb_pull: removes bytes from the front; false (nothing pulled) when fewer than that are present.</summary>
    public bool Pull(int length)
    {
        if (length < 0 || length > Len)
        {
            return false;
        }

        Data += length;
        return true;
    }

    /// <summary>skb_trim: cuts the data to <paramref name="length"/> bytes.</summary>
    public void Trim(int length)
    {
        if (length < Len)
        {
            Tail = Data + Math.Max(0, length);
        }
    }

    /// <summary>skb_clone: a new header sharing this data (read-only by convention while shared).</summary>
    public SkBuff Clone()
    {
        SkBuff clone = Rent();
        clone._shared = _shared;
        _shared.References++;
        clone.CopyHeaderFrom(this);
        return clone;
    }

    /// <summary>skb_copy: a private copy of header and data.</summary>
    public SkBuff Copy()
    {
        SkBuff copy = Alloc(End);
        _shared.Buffer.AsSpan(0, End).CopyTo(copy._shared.Buffer);
        copy.CopyHeaderFrom(this);
        return copy;
    }

    /// <summary>kfree_skb: returns the header to the pool and, with the last reference, the buffer.</summary>
    public void Free()
    {
        Debug.Assert(!Queued, "freeing an skb that is still on a queue");
        if (--_shared.References == 0)
        {
            PacketBufferPool.Return(_shared.Buffer);
            _shared.Buffer = [];
            (t_sharedPool ??= new Stack<Shared>()).Push(_shared);
        }

        _shared = null!;
        Dev = null;
        (t_pool ??= new Stack<SkBuff>()).Push(this);
    }

    private static SkBuff Rent()
    {
        SkBuff skb = t_pool is { Count: > 0 } pool ? pool.Pop() : new SkBuff();
        skb.Data = 0;
        skb.Tail = 0;
        skb.End = 0;
        skb.Protocol = 0;
        skb.PktType = PacketType.Host;
        skb.MacHeader = skb.NetworkHeader = skb.TransportHeader = -1;
        skb.IpSummed = ChecksumState.None;
        skb.CsumStart = skb.CsumOffset = skb.GsoSize = 0;
        skb.GsoType = GsoType.None;
        skb.Priority = 0;
        skb.VlanPresent = false;
        skb.VlanTci = 0;
        skb.Timestamp = 0;
        skb.Next = skb.Prev = null;
        skb.Queued = false;
        return skb;
    }

    private void CopyHeaderFrom(SkBuff other)
    {
        Data = other.Data;
        Tail = other.Tail;
        End = other.End;
        Dev = other.Dev;
        Protocol = other.Protocol;
        PktType = other.PktType;
        MacHeader = other.MacHeader;
        NetworkHeader = other.NetworkHeader;
        TransportHeader = other.TransportHeader;
        IpSummed = other.IpSummed;
        CsumStart = other.CsumStart;
        CsumOffset = other.CsumOffset;
        GsoSize = other.GsoSize;
        GsoType = other.GsoType;
        Priority = other.Priority;
        VlanPresent = other.VlanPresent;
        VlanTci = other.VlanTci;
        Timestamp = other.Timestamp;
    }
}

/// <summary>skb->pkt_type (include/uapi/linux/if_packet.h).</summary>
public enum PacketType : byte
{
    Host = 0,
    Broadcast = 1,
    Multicast = 2,
    OtherHost = 3,
    Outgoing = 4,
    Loopback = 5,
}

/// <summary>skb->ip_summed (include/linux/skbuff.h).</summary>
public enum ChecksumState : byte
{
    None = 0,
    Unnecessary = 1,
    Complete = 2,
    Partial = 3,
}

/// <summary>skb_shinfo(skb)->gso_type, as far as the e1000 offers segmentation.</summary>
public enum GsoType : byte
{
    None = 0,
    TcpV4 = 1,
    TcpV6 = 2,
}
