namespace Emu.Stack.Core;

/// <summary>
/// pfifo_fast, the default qdisc (net/sched/sch_generic.c): three FIFO bands chosen by skb->priority through prio2band,
/// band 0 dequeued first, each at most tx_queue_len long; a full band drops.
/// </summary>
public sealed class PfifoFast
{
    /// <summary>sch_generic.c prio2band for TC_PRIO 0..15.</summary>
    private static readonly int[] s_prio2band = [1, 2, 2, 2, 1, 2, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1];

    private readonly SkBuffHead[] _bands = [new(), new(), new()];

    /// <summary>A skb the driver refused (NETDEV_TX_BUSY), sent before anything else (q->gso_skb).</summary>
    internal SkBuff? Requeued { get; set; }

    public long Drops { get; private set; }

    public long Requeues { get; internal set; }

    public int QLen => _bands[0].QLen + _bands[1].QLen + _bands[2].QLen + (Requeued is null ? 0 : 1);

    public static int BandOf(uint priority) => s_prio2band[priority & 15];

    /// <summary>Enqueues; false (and the skb freed, counted) when the band is full.</summary>
    public bool Enqueue(SkBuff skb, int limit)
    {
        SkBuffHead band = _bands[BandOf(skb.Priority)];
        if (band.QLen >= limit)
        {
            Drops++;
            skb.Free();
            return false;
        }

        band.EnqueueTail(skb);
        return true;
    }

    public SkBuff? Dequeue()
    {
        if (Requeued is { } skb)
        {
            Requeued = null;
            return skb;
        }

        foreach (SkBuffHead band in _bands)
        {
            if (band.Dequeue() is { } next)
            {
                return next;
            }
        }

        return null;
    }

    public int Purge()
    {
        int n = 0;
        if (Requeued is { } skb)
        {
            Requeued = null;
            skb.Free();
            n++;
        }

        foreach (SkBuffHead band in _bands)
        {
            n += band.Purge();
        }

        return n;
    }
}
