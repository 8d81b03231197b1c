namespace Emu.Stack.Tcp;

/// <summary>One segment sent and not yet cumulatively acknowledged: the retransmission queue and SACK scoreboard entry.</summary>
public struct SentSegment
{
    public uint Seq;
    public int Length;
    public long SentAt;
    public bool Syn;
    public bool Fin;
    public bool Psh;
    public bool Sacked;
    public bool Lost;
    public bool Retransmitted;

    /// <summary>Sequence space the segment covers (data, plus one for SYN or FIN).</summary>
    public readonly uint End => Seq + (uint)Length + (Syn ? 1u : 0u) + (Fin ? 1u : 0u);
}

/// <summary>
/// The outstanding segments in sequence order (RFC 6675's scoreboard): a growable ring, so that ACKs remove from the
/// front and sends append at the back without allocating in steady state.
/// </summary>
public sealed class Scoreboard
{
    private SentSegment[] _items = new SentSegment[64];
    private int _head;

    public int Count { get; private set; }

    /// <summary>Segments that are SACKed, lost or retransmitted: with none, pipe is the flight size (a fast path).</summary>
    public int Marked { get; private set; }

    /// <summary>Segments marked lost and waiting for their retransmission.</summary>
    public int LostQueued { get; private set; }

    public ref SentSegment this[int i] => ref _items[(_head + i) % _items.Length];

    public ref SentSegment Last => ref this[Count - 1];

    /// <summary>Sets a segment's SACKed, lost and retransmitted flags (the counts follow).</summary>
    public void SetFlags(int i, bool sacked, bool lost, bool retransmitted)
    {
        ref SentSegment s = ref this[i];
        Account(s, -1);
        s.Sacked = sacked;
        s.Lost = lost;
        s.Retransmitted = retransmitted;
        Account(s, 1);
    }

    private void Account(in SentSegment s, int sign)
    {
        if (s.Sacked || s.Lost || s.Retransmitted)
        {
            Marked += sign;
        }

        if (s.Lost && !s.Retransmitted && !s.Sacked)
        {
            LostQueued += sign;
        }
    }

    public void Add(in SentSegment segment)
    {
        Account(segment, 1);
        if (Count == _items.Length)
        {
            var next = new SentSegment[_items.Length * 2];
            for (int i = 0; i < Count; i++)
            {
                next[i] = this[i];
            }

            _items = next;
            _head = 0;
        }

        _items[(_head + Count) % _items.Length] = segment;
        Count++;
    }

    public void RemoveFirst()
    {
        Account(this[0], -1);
        _head = (_head + 1) % _items.Length;
        Count--;
    }

    public void Clear()
    {
        _head = 0;
        Count = 0;
        Marked = 0;
        LostQueued = 0;
    }

    /// <summary>Index of the segment holding <paramref name="seq"/>, or -1.</summary>
    public int Find(uint seq)
    {
        for (int i = 0; i < Count; i++)
        {
            ref SentSegment s = ref this[i];
            if (SeqMath.InRange(seq, s.Seq, s.End))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Splits segment <paramref name="i"/> so that a new one starts at <paramref name="seq"/> (data only).</summary>
    public void SplitAt(int i, uint seq)
    {
        SentSegment s = this[i];
        int first = (int)(seq - s.Seq);
        if (first <= 0 || first >= s.Length)
        {
            return;
        }

        Add(default);
        for (int k = Count - 1; k > i + 1; k--)
        {
            this[k] = this[k - 1];
        }

        ref SentSegment a = ref this[i];
        a.Length = first;
        a.Fin = false;
        a.Psh = false;
        ref SentSegment b = ref this[i + 1];
        Account(b, -1);
        b = s;
        b.Seq = seq;
        b.Length = s.Length - first;
        b.Syn = false;
        Account(b, 1);
    }
}
