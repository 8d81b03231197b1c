namespace Emu.Emulator.Faults;

/// <summary>
/// netem's <c>slot MIN [MAX] [packets N] [bytes N]</c> (tc-netem(8); sch_netem.c get_slot_next): frames leave only
/// once a slot has started; each slot starts MIN..MAX (uniform) after the previous one ended and carries at most
/// <c>packets</c> frames and <c>bytes</c> bytes (default unlimited), after which the next slot is drawn.
/// </summary>
public sealed class SlotSchedule
{
    private readonly long _min;
    private readonly long _max;
    private readonly long _packets;
    private readonly long _bytes;
    private long _packetsLeft;
    private long _bytesLeft;

    public SlotSchedule(Fault fault, long now)
    {
        Fault = fault;
        FaultSpec s = fault.Spec;
        _min = s.Nanoseconds("min", 0);
        _max = Math.Max(_min, s.Nanoseconds("max", _min));
        _packets = s.Has("packets") ? (long)s.Number("packets", 0) : long.MaxValue;
        _bytes = s.Has("bytes") ? (long)s.Number("bytes", 0) : long.MaxValue;
        _packetsLeft = _packets;
        _bytesLeft = _bytes;
        Next = now;   // netem starts the first slot when the qdisc is configured
    }

    public Fault Fault { get; }

    /// <summary>When the current (or next) slot starts, ns.</summary>
    public long Next { get; private set; }

    /// <summary>Draws the next slot's start from <paramref name="now"/> and refills its budget.</summary>
    public void Open(long now)
    {
        Next = now + _min + (long)(Fault.Random.NextDouble() * (_max - _min));
        _packetsLeft = _packets;
        _bytesLeft = _bytes;
    }

    /// <summary>A frame left in the current slot: when its budget is spent, the next slot is drawn.</summary>
    public void Consume(long now, int length)
    {
        _packetsLeft--;
        _bytesLeft -= length;
        if (_packetsLeft <= 0 || _bytesLeft <= 0)
        {
            Open(now);
        }
    }
}
