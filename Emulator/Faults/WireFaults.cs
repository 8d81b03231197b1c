using System.Globalization;
using Emu.Emulator.E1000;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Emu.Emulator.Faults;

/// <summary>
/// The wire kinds of issue 21 on one e1000's port, with tc-netem's meaning of each parameter. A frame crossing the
/// wire (rx: wire → device, tx: device → wire) goes through netem's enqueue order (sch_netem.c netem_enqueue):
/// duplicate (the copy goes through the faults again, without duplication), loss, corrupt (and truncate), then its
/// due time from reorder, delay and rate; frames due later wait in a bounded <see cref="WireQueue"/> per direction,
/// released by a timer on the virtual clock (with <c>slot</c>, at slot starts). Every firing is counted on its
/// <see cref="Fault"/>; a frame dropped, changed, delayed or duplicated reaches the device's tap with a note naming
/// the faults (<c>fault 3 loss-ge</c>). All draws come from each fault's seeded generator: the same seed and plan
/// give the same run. A frame no fault is eligible for costs a filter test per armed fault and allocates nothing.
/// </summary>
public sealed partial class WireFaults : DeviceFaults
{
    private readonly E1000Device _device;
    private readonly FaultPlan _plan;
    private readonly ILogger _logger;
    private readonly WireQueue _rx;
    private readonly WireQueue _tx;
    private readonly byte[] _scratch = new byte[(64 * 1024) + 512];
    private readonly Dictionary<Fault, object> _models = [];
    private readonly Dictionary<Fault, int> _bits = [];
    private readonly Dictionary<ulong, string> _notes = [];
    private Fault[] _duplicate = [];
    private LossModel[] _loss = [];
    private Fault[] _corrupt = [];
    private Fault[] _truncate = [];
    private ReorderModel[] _reorder = [];
    private DelayModel[] _delay = [];
    private Fault[] _rate = [];
    private Gate[] _gates = [];
    private readonly ulong[][] _etherTypes = [new ulong[1024], new ulong[1024]];
    private readonly (int Min, int Max)[] _anyTypeLengths = new (int, int)[2];

    public WireFaults(E1000Device device, FaultPlan plan, ILogger? logger = null)
    {
        _device = device;
        _plan = plan;
        _logger = logger ?? NullLogger.Instance;
        _rx = new WireQueue(device.Scheduler, "fault wire rx", (frame, note) => _device.ReceiveFromWire(frame, note));
        _tx = new WireQueue(device.Scheduler, "fault wire tx", (frame, note) => _device.SendToWire(frame, note));
        plan.Changed += Rebuild;
        Rebuild();
    }

    public FaultPlan Plan => _plan;

    /// <summary>Frames a fault would have held back, dropped because the queue was full (netem's limit).</summary>
    public long QueueOverflows { get; private set; }

    /// <summary>Frames held back now, both directions.</summary>
    public int Queued => _rx.Count + _tx.Count;

    public override bool WireTransmit(ReadOnlySpan<byte> frame) => MayAct(frame, FaultDirection.Tx) && Process(frame, FaultDirection.Tx, 0, duplicate: true);

    public override bool WireReceive(ReadOnlySpan<byte> frame) => MayAct(frame, FaultDirection.Rx) && Process(frame, FaultDirection.Rx, 0, duplicate: true);

    /// <summary>
    /// The fast path: whether any armed frame fault could be eligible, from the direction, the window, the length and
    /// the EtherType alone (one pass over flat gates), so that a plan whose filters match nothing costs little.
    /// </summary>
    private bool MayAct(ReadOnlySpan<byte> frame, FaultDirection direction)
    {
        Gate[] gates = _gates;
        if (gates.Length == 0)
        {
            return false;
        }

        // First the EtherTypes the direction's faults need (a bitmap), and the length hull of those that take any
        // EtherType: most frames stop here.
        int d = direction == FaultDirection.Rx ? 0 : 1;
        int etherType = FrameFilter.EtherTypeOf(frame);
        bool known = etherType >= 0 && (_etherTypes[d][etherType >> 6] & (1UL << etherType)) != 0;
        (int min, int max) = _anyTypeLengths[d];
        if (!known && (frame.Length < min || frame.Length > max))
        {
            return false;
        }

        long now = _device.Scheduler.Now;
        foreach (ref readonly Gate g in gates.AsSpan())
        {
            if ((g.Direction & direction) != 0 && frame.Length >= g.MinLength && frame.Length <= g.MaxLength
                && (g.EtherType < 0 || g.EtherType == etherType) && now >= g.After && (g.Until == 0 || now < g.Until))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Checks a plan's wire faults for what a single spec cannot say (netem's own refusals); never throws.</summary>
    public static bool TryCheck(IReadOnlyList<FaultSpec> specs, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        foreach (FaultSpec s in specs)
        {
            string k = s.Kind.Name;
            error = k switch
            {
                "loss-ge" when !s.Has("p") => "loss-ge: p= is required (netem gemodel p [r [1-h [1-k]]])",
                "loss-4state" when !s.Has("p13") => "loss-4state: p13= is required (netem state p13 [p31 [p32 [p23 [p14]]]])",
                "reorder" when !s.Has("time") && !specs.Any(o => o.Kind == FaultKind.Delay && o.Has("time")) => "reorder: time= is required, or a delay fault with time= (netem: reordering is not possible without some delay)",
                "reorder" when s.Has("gap") && s.Number("gap", 0) < 1 => "reorder: gap= must be at least 1",
                "delay" when !s.Has("time") && !s.Has("jitter") => "delay: time= is required",
                "rate" when !s.Has("bps") => "rate: bps= is required",
                "slot" when !s.Has("min") && !s.Has("max") => "slot: min= is required",
                "slot" when s.Has("max") && s.Nanoseconds("max", 0) < s.Nanoseconds("min", 0) => "slot: max= is below min=",
                "slot" when (s.Has("packets") && s.Number("packets", 0) < 1) || (s.Has("bytes") && s.Number("bytes", 0) < 1) => "slot: packets= and bytes= must be at least 1",
                "truncate" when !s.Has("len") => "truncate: len= is required",
                "corrupt" when s.Has("bits") && s.Number("bits", 1) < 1 => "corrupt: bits= must be at least 1",
                "link-flap" when !s.Has("down") || s.Nanoseconds("down", 0) <= 0 => "link-flap: down= is required (how long the carrier stays off)",
                "link-flap" when s.Has("every") && s.Nanoseconds("every", 0) <= s.Nanoseconds("down", 0) => "link-flap: every= must be longer than down=",
                _ => null,
            };
            if (error is not null)
            {
                return false;
            }
        }

        error = null;
        return true;
    }

    /// <summary>The plan changed: keep the models (and their state) of faults still armed, add the new, drop the gone.</summary>
    private void Rebuild()
    {
        var duplicate = new List<Fault>();
        var loss = new List<LossModel>();
        var corrupt = new List<Fault>();
        var truncate = new List<Fault>();
        var reorder = new List<ReorderModel>();
        var delay = new List<DelayModel>();
        var rate = new List<Fault>();
        SlotSchedule? rxSlot = null, txSlot = null;
        foreach (Fault fault in _plan.Faults)
        {
            FaultKind kind = fault.Spec.Kind;
            if (kind.Site != FaultSite.Wire)
            {
                continue;
            }

            if (!_bits.ContainsKey(fault))
            {
                _bits[fault] = Math.Min(_bits.Count, 63);
            }

            if (!fault.Armed)
            {
                if (_models.Remove(fault, out object? gone) && gone is LinkFlapper flapper)
                {
                    flapper.Stop();
                }

                continue;
            }

            if (!_models.TryGetValue(fault, out object? model))
            {
                model = kind.Name switch
                {
                    "loss" or "loss-ge" or "loss-4state" => LossModel.Create(fault),
                    "reorder" => new ReorderModel(fault),
                    "delay" => new DelayModel(fault),
                    "slot" => new SlotSchedule(fault, _device.Scheduler.Now),
                    "link-flap" => new LinkFlapper(_device, fault, _logger),
                    _ => fault,
                };
                _models[fault] = model;
            }

            switch (model)
            {
                case LossModel m:
                    loss.Add(m);
                    break;
                case ReorderModel m:
                    reorder.Add(m);
                    break;
                case DelayModel m:
                    delay.Add(m);
                    break;
                case SlotSchedule m:
                    rxSlot ??= (m.Fault.Spec.Trigger.Direction & FaultDirection.Rx) != 0 ? m : null;
                    txSlot ??= (m.Fault.Spec.Trigger.Direction & FaultDirection.Tx) != 0 ? m : null;
                    break;
                case LinkFlapper:
                    break;
                default:
                    (kind.Name switch { "duplicate" => duplicate, "corrupt" => corrupt, "truncate" => truncate, _ => rate }).Add(fault);
                    break;
            }
        }

        _duplicate = [.. duplicate];
        _loss = [.. loss];
        _corrupt = [.. corrupt];
        _truncate = [.. truncate];
        _reorder = [.. reorder];
        _delay = [.. delay];
        _rate = [.. rate];
        _rx.Slot = rxSlot;
        _tx.Slot = txSlot;
        var gates = new List<Gate>();
        foreach (Fault f in _plan.Faults)
        {
            if (f.Armed && f.Spec.Kind.Site == FaultSite.Wire && f.Spec.Kind.FrameKind)
            {
                FaultTrigger t = f.Spec.Trigger;
                FrameFilter? filter = f.Spec.Filter;
                gates.Add(new Gate(t.Direction, filter?.MinLength ?? 0, filter?.MaxLength ?? int.MaxValue, filter?.RequiredEtherType ?? -1, t.AfterNs, t.UntilNs));
            }
        }

        _gates = [.. gates];
        for (int d = 0; d < 2; d++)
        {
            FaultDirection direction = d == 0 ? FaultDirection.Rx : FaultDirection.Tx;
            Array.Clear(_etherTypes[d]);
            (int min, int max) hull = (int.MaxValue, -1);
            foreach (Gate g in gates.Where(g => (g.Direction & direction) != 0))
            {
                if (g.EtherType >= 0)
                {
                    _etherTypes[d][g.EtherType >> 6] |= 1UL << g.EtherType;
                }
                else
                {
                    hull = (Math.Min(hull.min, g.MinLength), Math.Max(hull.max, g.MaxLength));
                }
            }

            _anyTypeLengths[d] = hull;
        }
    }

    /// <summary>What a fault needs of a frame before its filters are read: direction, length, EtherType, window.</summary>
    private readonly record struct Gate(FaultDirection Direction, int MinLength, int MaxLength, int EtherType, long After, long Until);

    /// <summary>One frame through the faults; true when they took it (dropped it, or deliver what they made of it).</summary>
    private bool Process(ReadOnlySpan<byte> frame, FaultDirection direction, ulong inherited, bool duplicate)
    {
        long now = _device.Scheduler.Now;
        ulong mask = inherited;
        int copies = 1;
        if (duplicate)
        {
            foreach (Fault f in _duplicate)
            {
                if (f.TryFire(now, direction, frame))
                {
                    copies++;
                    mask |= Fired(f, direction, frame.Length);
                }
            }
        }

        bool lost = false;
        foreach (LossModel m in _loss)
        {
            if (m.Lose(now, direction, frame))
            {
                lost = true;
                mask |= Fired(m.Fault, direction, frame.Length);
            }
        }

        // netem: a duplicate and a loss cancel out (count is incremented, then decremented); none left, the frame is gone.
        if (lost && --copies == 0)
        {
            Tap(frame, direction, Note(mask), dropped: true);
            return true;
        }

        ulong duplicated = mask & DuplicateBits();
        bool taken = Emit(frame, direction, now, mask);
        for (int i = 1; i < copies; i++)
        {
            // sch_netem.c: the clone goes through the qdisc again with duplication off (its own loss, corruption, delay).
            if (!Process(frame, direction, duplicated, duplicate: false))
            {
                Deliver(frame, direction, Note(duplicated));
            }
        }

        return taken;
    }

    /// <summary>Corrupt, truncate, then the due time; delivers now or queues. False when no fault acted (the device goes on).</summary>
    private bool Emit(ReadOnlySpan<byte> frame, FaultDirection direction, long now, ulong mask)
    {
        ReadOnlySpan<byte> data = frame;
        foreach (Fault f in _corrupt)
        {
            if (f.TryFire(now, direction, data))
            {
                if (!Overlaps(data))
                {
                    data.CopyTo(_scratch);
                    data = _scratch.AsSpan(0, data.Length);
                }

                Corrupt(_scratch.AsSpan(0, data.Length), (int)f.Spec.Number("bits", 1), f.Random);
                mask |= Fired(f, direction, data.Length);
            }
        }

        foreach (Fault f in _truncate)
        {
            int len = (int)f.Spec.Number("len", int.MaxValue);
            if (len < data.Length && f.TryFire(now, direction, data))
            {
                data = data[..len];
                mask |= Fired(f, direction, data.Length);
            }
        }

        int d = direction == FaultDirection.Rx ? 0 : 1;
        bool reordered = false;
        double delay = 0;
        foreach (ReorderModel r in _reorder)
        {
            if (!r.Fault.IsEligible(now, direction, data) || !r.Fault.Admit())
            {
                continue;
            }

            // sch_netem.c: every gap-th frame is sent at once with probability prob; the others take the delay.
            if (!reordered && r.Counter[d] >= r.Gap - 1 && (r.Probability >= 1 || r.Random[d].Next() < r.Probability))
            {
                reordered = true;
                r.Counter[d] = 0;
                r.Fault.CountFiring();
                mask |= Fired(r.Fault, direction, data.Length);
            }
            else
            {
                r.Counter[d]++;
                delay += r.Time;
                mask |= r.Time > 0 ? Bit(r.Fault) : 0;
            }
        }

        WireQueue queue = d == 0 ? _rx : _tx;
        if (reordered)
        {
            Deliver(data, direction, Note(mask));   // netem puts it at the head of the queue: out before everything held
            return true;
        }

        foreach (DelayModel m in _delay)
        {
            if (m.Fault.TryFire(now, direction, data))
            {
                delay += DelayDistributions.Delay(m.Distribution, m.Time, m.Jitter, m.Random[d]);
                mask |= Fired(m.Fault, direction, data.Length);
            }
        }

        double packetTime = 0;
        foreach (Fault f in _rate)
        {
            if (f.TryFire(now, direction, data))
            {
                // netem packet_time_ns: (length + overhead) bytes at bps.
                packetTime = Math.Max(packetTime, (data.Length + f.Spec.Number("overhead", 0)) * 8e9 / f.Spec.Number("bps", 1e9));
                mask |= Fired(f, direction, data.Length);
            }
        }

        bool slotted = queue.Slot is { } slot && slot.Fault.TryFire(now, direction, data);
        if (slotted)
        {
            mask |= Fired(queue.Slot!.Fault, direction, data.Length);
        }

        if (mask == 0)
        {
            return false;
        }

        long wait = (long)Math.Max(0, delay);
        long time = now + wait;
        if (packetTime > 0)
        {
            // netem: the last frame held is the reference point; the delay already spent behind it is not waited again.
            long start = now;
            if (queue.Count > 0 && queue.LastTime > now)
            {
                wait = Math.Max(0, wait - (queue.LastTime - now));
                start = queue.LastTime;
            }

            time = start + wait + (long)Math.Round(packetTime);
        }

        string? note = Note(mask);
        if (time <= now && !slotted)
        {
            Deliver(data, direction, note);
            return true;
        }

        if (!queue.TryEnqueue(data, time, slotted, note))
        {
            QueueOverflows++;
            Log.QueueFull(_logger, direction == FaultDirection.Rx ? "rx" : "tx", data.Length);
            Tap(data, direction, "fault queue full (" + note + ")", dropped: true);
        }

        return true;
    }

    private bool Overlaps(ReadOnlySpan<byte> data) => data.Overlaps(_scratch);

    /// <summary>Flips <paramref name="bits"/> distinct random bits (netem flips one: corrupt with bits=1).</summary>
    private static void Corrupt(Span<byte> data, int bits, Random random)
    {
        long total = (long)data.Length * 8;
        int n = (int)Math.Min(bits, total);
        int flipped = 0;
        Span<long> chosen = n <= 64 ? stackalloc long[n] : new long[n];
        while (flipped < n)
        {
            long bit = random.NextInt64(total);
            if (chosen[..flipped].Contains(bit))
            {
                continue;
            }

            chosen[flipped++] = bit;
            data[(int)(bit >> 3)] ^= (byte)(1 << (int)(bit & 7));
        }
    }

    private void Deliver(ReadOnlySpan<byte> frame, FaultDirection direction, string? note)
    {
        if (direction == FaultDirection.Rx)
        {
            _device.ReceiveFromWire(frame, note);
        }
        else
        {
            _device.SendToWire(frame, note);
        }
    }

    private void Tap(ReadOnlySpan<byte> frame, FaultDirection direction, string? reason, bool dropped)
    {
        bool outbound = direction == FaultDirection.Tx;
        _device.Tap?.Tap(frame, outbound, dropped ? reason : null, dropped ? null : reason);
        _device.Probe?.Frame(frame, outbound, reason);
    }

    private ulong Bit(Fault fault) => 1UL << _bits[fault];

    private ulong DuplicateBits()
    {
        ulong bits = 0;
        foreach (Fault f in _duplicate)
        {
            bits |= Bit(f);
        }

        return bits;
    }

    private ulong Fired(Fault fault, FaultDirection direction, int length)
    {
        Log.Fired(_logger, fault.Id, fault.Spec.Kind.Name, direction == FaultDirection.Rx ? "rx" : "tx", length);
        return Bit(fault);
    }

    /// <summary>The note naming the faults of <paramref name="mask"/>, built once per combination.</summary>
    private string? Note(ulong mask)
    {
        if (mask == 0)
        {
            return null;
        }

        if (_notes.TryGetValue(mask, out string? note))
        {
            return note;
        }

        var names = new List<string>();
        foreach ((Fault fault, int bit) in _bits)
        {
            if ((mask & (1UL << bit)) != 0)
            {
                names.Add(fault.Label);
            }
        }

        note = string.Join(", ", names);
        if (note.Length > 512)
        {
            note = note[..509] + "...";
        }

        _notes[mask] = note;
        return note;
    }

    /// <summary>netem reorder: gap, the delay of the frames not reordered (time=), and the per-direction gap counter.</summary>
    private sealed class ReorderModel
    {
        public ReorderModel(Fault fault)
        {
            Fault = fault;
            Gap = (long)fault.Spec.Number("gap", 1);
            Time = fault.Spec.Nanoseconds("time", 0);
            Probability = fault.Spec.Trigger.Probability;
            double corr = fault.Spec.Number("corr", 0);
            Random = [new CorrelatedRandom(fault.Random, corr), new CorrelatedRandom(fault.Random, corr)];
        }

        public Fault Fault { get; }

        public long Gap { get; }

        public long Time { get; }

        public double Probability { get; }

        public long[] Counter { get; } = new long[2];

        public CorrelatedRandom[] Random { get; }
    }

    /// <summary>netem delay TIME JITTER CORR distribution DIST, with the correlation state per direction.</summary>
    private sealed class DelayModel
    {
        public DelayModel(Fault fault)
        {
            Fault = fault;
            FaultSpec s = fault.Spec;
            Time = s.Nanoseconds("time", 0);
            Jitter = s.Nanoseconds("jitter", 0);
            Distribution = DelayDistributions.Parse(s.Word("dist"));
            double corr = s.Number("corr", 0);
            Random = [new CorrelatedRandom(fault.Random, corr), new CorrelatedRandom(fault.Random, corr)];
        }

        public Fault Fault { get; }

        public double Time { get; }

        public double Jitter { get; }

        public DelayDistribution Distribution { get; }

        public CorrelatedRandom[] Random { get; }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2150, Level = LogLevel.Debug, Message = "fault {Id} {Kind} fired ({Direction}, {Length}-byte frame)")]
        public static partial void Fired(ILogger logger, int id, string kind, string direction, int length);

        [LoggerMessage(EventId = 2151, Level = LogLevel.Information, Message = "wire faults: the {Direction} queue is full (1000 frames or 16 MiB, netem's limit); a {Length}-byte frame is dropped")]
        public static partial void QueueFull(ILogger logger, string direction, int length);
    }
}
