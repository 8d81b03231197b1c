namespace Emu.Stack.Core;

/// <summary>A queue of skbs (struct sk_buff_head): doubly linked through the skbs themselves, with its length.</summary>
public sealed class SkBuffHead
{
    private SkBuff? _first;
    private SkBuff? _last;

    public int QLen { get; private set; }

    public bool IsEmpty => QLen == 0;

    public SkBuff? Peek => _first;

    /// <summary>skb_queue_tail.</summary>
    public void EnqueueTail(SkBuff skb)
    {
        if (skb.Queued)
        {
            throw new InvalidOperationException("skb is already on a queue");
        }

        skb.Queued = true;
        skb.Prev = _last;
        skb.Next = null;
        if (_last is null)
        {
            _first = skb;
        }
        else
        {
            _last.Next = skb;
        }

        _last = skb;
        QLen++;
    }

    /// <summary>skb_queue_head.</summary>
    public void EnqueueHead(SkBuff skb)
    {
        if (skb.Queued)
        {
            throw new InvalidOperationException("skb is already on a queue");
        }

        skb.Queued = true;
        skb.Next = _first;
        skb.Prev = null;
        if (_first is null)
        {
            _last = skb;
        }
        else
        {
            _first.Prev = skb;
        }

        _first = skb;
        QLen++;
    }

    /// <summary>skb_dequeue: the first skb, or null.</summary>
    public SkBuff? Dequeue()
    {
        SkBuff? skb = _first;
        if (skb is null)
        {
            return null;
        }

        _first = skb.Next;
        if (_first is null)
        {
            _last = null;
        }
        else
        {
            _first.Prev = null;
        }

        skb.Next = skb.Prev = null;
        skb.Queued = false;
        QLen--;
        return skb;
    }

    /// <summary>skb_queue_purge: frees everything queued; returns how many.</summary>
    public int Purge()
    {
        int n = 0;
        while (Dequeue() is { } skb)
        {
            skb.Free();
            n++;
        }

        return n;
    }
}
