using System.Buffers;
using Emu.Emulator.Machine;

namespace Emu.Emulator.Faults;

/// <summary>Hands a frame the wire faults held back to the device's side of the wire it was going to.</summary>
public delegate void WireDelivery(ReadOnlySpan<byte> frame, string? note);

/// <summary>
/// The frames wire faults hold back in one direction, as netem's tfifo holds them: ordered by the time each is due
/// (ties in arrival order, so jitter may reorder frames as netem's does), released by one timer on the virtual clock,
/// and with <c>slot</c> only at slot boundaries. Bounded: at most <see cref="Limit"/> frames (netem's default limit)
/// and <see cref="ByteLimit"/> bytes, held in pooled buffers; a frame over either bound is a counted drop.
/// </summary>
public sealed class WireQueue
{
    /// <summary>netem's default <c>limit</c> (tc-netem(8)): 1000 packets.</summary>
    public const int Limit = 1000;

    public const long ByteLimit = 16 << 20;

    private readonly PriorityQueue<int, (long Time, long Sequence)> _heap = new(Limit);
    private readonly Entry[] _entries = new Entry[Limit];
    private readonly int[] _free = new int[Limit];
    private readonly ArrayPool<byte> _pool = ArrayPool<byte>.Create(128 * 1024, Limit);
    private readonly VirtualTimer _timer;
    private readonly EventScheduler _scheduler;
    private readonly WireDelivery _deliver;
    private int _freeCount = Limit;
    private long _sequence;
    private long _bytes;

    public WireQueue(EventScheduler scheduler, string name, WireDelivery deliver)
    {
        _scheduler = scheduler;
        _deliver = deliver;
        _timer = scheduler.CreateTimer(name, Release);
        for (int i = 0; i < Limit; i++)
        {
            _free[i] = Limit - 1 - i;
        }
    }

    public int Count => _heap.Count;

    public long Bytes => _bytes;

    /// <summary>The latest due time among the frames held (netem's rate reference, its queue's last packet).</summary>
    public long LastTime { get; private set; } = long.MinValue;

    /// <summary>The slot schedule frames marked slotted wait for (null: no slot fault in this direction).</summary>
    public SlotSchedule? Slot { get; set; }

    /// <summary>Holds a copy of <paramref name="frame"/> until <paramref name="time"/>; false when the queue is full.</summary>
    public bool TryEnqueue(ReadOnlySpan<byte> frame, long time, bool slotted, string? note)
    {
        if (_freeCount == 0 || _bytes + frame.Length > ByteLimit)
        {
            return false;
        }

        int index = _free[--_freeCount];
        byte[] buffer = _pool.Rent(Math.Max(frame.Length, 1));
        frame.CopyTo(buffer);
        _entries[index] = new Entry(buffer, frame.Length, note, slotted);
        _bytes += frame.Length;
        _heap.Enqueue(index, (time, _sequence++));
        LastTime = Math.Max(LastTime, time);
        Schedule();
        return true;
    }

    /// <summary>Delivers every frame now due (and, for slotted frames, inside an open slot), then re-arms the timer.</summary>
    private void Release()
    {
        long now = _scheduler.Now;
        while (_heap.TryPeek(out int index, out (long Time, long Sequence) key))
        {
            ref Entry entry = ref _entries[index];
            SlotSchedule? slot = entry.Slotted ? Slot : null;
            if (slot is not null && slot.Next < key.Time)
            {
                slot.Open(now);   // sch_netem.c netem_dequeue: a frame due after the slot started waits for the next
            }

            if (key.Time > now || (slot is not null && slot.Next > now))
            {
                break;
            }

            _heap.Dequeue();
            Entry taken = entry;
            entry = default;
            _free[_freeCount++] = index;
            _bytes -= taken.Length;
            if (_heap.Count == 0)
            {
                LastTime = long.MinValue;
            }

            slot?.Consume(now, taken.Length);
            try
            {
                _deliver(taken.Buffer.AsSpan(0, taken.Length), taken.Note);
            }
            finally
            {
                _pool.Return(taken.Buffer);
            }
        }

        Schedule();
    }

    private void Schedule()
    {
        if (!_heap.TryPeek(out int index, out (long Time, long Sequence) key))
        {
            _timer.Cancel();
            return;
        }

        long due = key.Time;
        if (_entries[index].Slotted && Slot is { } slot)
        {
            due = Math.Max(due, slot.Next);
        }

        if (!_timer.IsPending || _timer.Deadline != due)
        {
            _timer.Arm(due);
        }
    }

    private readonly record struct Entry(byte[] Buffer, int Length, string? Note, bool Slotted);
}
