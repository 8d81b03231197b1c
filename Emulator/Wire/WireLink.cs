using Emu.Emulator.Machine;

namespace Emu.Emulator.Wire;

/// <summary>
/// An in-process cable between two ports (device↔device, or device↔test probe), deterministic in virtual time: a frame
/// sent at one end arrives at the other <see cref="LatencyNs"/> later, as an event on the shared scheduler (never
/// inside the sender's call), in sending order. Frames travel in preallocated slots, so steady traffic allocates
/// nothing; a full queue drops the frame and counts it.
/// </summary>
public sealed class WireLink
{
    public const int DefaultQueueFrames = 1024;

    public WireLink(EventScheduler scheduler, long latencyNs = 0, int queueFrames = DefaultQueueFrames)
    {
        Scheduler = scheduler;
        LatencyNs = latencyNs;
        A = new End(this, "A", queueFrames);
        B = new End(this, "B", queueFrames);
        A.Peer = B;
        B.Peer = A;
    }

    public EventScheduler Scheduler { get; }

    public long LatencyNs { get; }

    /// <summary>One end: give it to a device as its wire (frames it takes go to the other end's <see cref="End.Receiver"/>).</summary>
    public End A { get; }

    public End B { get; }

    /// <summary>Connects a device's port to an end: the device transmits into the end and receives what arrives there.</summary>
    public static void Attach(End end, E1000.E1000Device device)
    {
        device.Wire = end;
        end.Receiver = device;
    }

    /// <summary>One end of the cable.</summary>
    public sealed class End : IFrameSink
    {
        private const int SlotSize = 16 * 1024 + 64;
        private readonly WireLink _link;
        private readonly byte[][] _slots;
        private readonly int[] _lengths;
        private readonly long[] _due;
        private readonly VirtualTimer _timer;
        private int _head;
        private int _count;

        internal End(WireLink link, string name, int capacity)
        {
            _link = link;
            Name = name;
            _slots = new byte[capacity][];
            _lengths = new int[capacity];
            _due = new long[capacity];
            _timer = link.Scheduler.CreateTimer("wire " + name, Deliver);
        }

        public string Name { get; }

        /// <summary>Who takes the frames that arrive at this end.</summary>
        public IFrameSink? Receiver { get; set; }

        public End Peer { get; internal set; } = null!;

        /// <summary>Frames sent into this end that the queue had no room for, or too long for a slot.</summary>
        public long Dropped { get; private set; }

        /// <summary>Frames arriving at this end that the injected loss took (see <see cref="SetLoss"/>).</summary>
        public long Lost { get; private set; }

        private Random? _loss;
        private double _lossProbability;

        /// <summary>Fault injection: each frame arriving at this end is lost with <paramref name="probability"/>, from a seeded generator (reproducible).</summary>
        public void SetLoss(double probability, int seed)
        {
            _lossProbability = Math.Clamp(probability, 0, 1);
            _loss = _lossProbability > 0 ? new Random(seed) : null;
        }

        public long Delivered { get; private set; }

        /// <summary>A frame transmitted into this end travels to the peer end.</summary>
        public void ReceiveFrame(ReadOnlySpan<byte> frame) => Peer.Enqueue(frame);

        private void Enqueue(ReadOnlySpan<byte> frame)
        {
            if (_loss is not null && _loss.NextDouble() < _lossProbability)
            {
                Lost++;
                return;
            }

            if (_count == _slots.Length || frame.Length > SlotSize)
            {
                Dropped++;
                return;
            }

            int tail = (_head + _count) % _slots.Length;
            byte[] slot = _slots[tail] ??= new byte[SlotSize];
            frame.CopyTo(slot);
            _lengths[tail] = frame.Length;
            _due[tail] = _link.Scheduler.Now + _link.LatencyNs;
            _count++;
            if (!_timer.IsPending)
            {
                _timer.Arm(_due[_head]);
            }
        }

        private void Deliver()
        {
            long now = _link.Scheduler.Now;
            while (_count > 0 && _due[_head] <= now)
            {
                int index = _head;
                _head = (_head + 1) % _slots.Length;
                _count--;
                Delivered++;
                Receiver?.ReceiveFrame(_slots[index].AsSpan(0, _lengths[index]));
            }

            if (_count > 0)
            {
                _timer.Arm(_due[_head]);
            }
        }
    }
}
