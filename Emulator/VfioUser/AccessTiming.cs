using System.Buffers.Binary;
using System.Diagnostics;

namespace Emu.Emulator.VfioUser;

/// <summary>
/// Register round trips as the guest sees them, measured on our side: for each BAR read (or posted write) that the next
/// BAR access follows within 2 ms — a vCPU in a register loop such as Linux's register test — the time from its arrival
/// to the next one's (our service, the reply's way back, QEMU, the vCPU's next instruction); and, for reads, our own
/// part (arrival to reply sent). Microseconds.
/// </summary>
public sealed class AccessTiming
{
    private const int MaxSamples = 200_000;
    private static readonly long BurstTicks = Stopwatch.Frequency / 500;   // 2 ms
    private readonly List<double> _reads = [];
    private readonly List<double> _postedWrites = [];
    private readonly List<double> _service = [];
    private long _lastArrival;
    private int _lastKind;   // 0 none, 1 read, 2 posted write

    public int Reads => _reads.Count;

    public int PostedWrites => _postedWrites.Count;

    public double MedianReadMicroseconds => Median(_reads);

    public double MedianPostedWriteMicroseconds => Median(_postedWrites);

    /// <summary>Our part of a read: its arrival on the socket to its reply sent.</summary>
    public double MedianReadServiceMicroseconds => Median(_service);

    internal void Note(VfioUserMessage m, bool write)
    {
        long now = m.Received != 0 ? m.Received : Stopwatch.GetTimestamp();
        if (m.Payload.Length < 16 || BinaryPrimitives.ReadUInt32LittleEndian(m.Payload.AsSpan(8)) >= VfioUserServer.RegionConfig)
        {
            return;   // config space is not a register access
        }

        long gap = now - _lastArrival;
        if (_lastKind != 0 && gap <= BurstTicks)
        {
            List<double> list = _lastKind == 1 ? _reads : _postedWrites;
            if (list.Count < MaxSamples)
            {
                list.Add(gap * 1e6 / Stopwatch.Frequency);
            }
        }

        _lastArrival = now;
        _lastKind = !write ? 1 : m.Header.WantsReply ? 0 : 2;
    }

    internal void NoteReplied(VfioUserMessage m)
    {
        if (m.Received != 0 && _service.Count < MaxSamples)
        {
            _service.Add((Stopwatch.GetTimestamp() - m.Received) * 1e6 / Stopwatch.Frequency);
        }
    }

    public void Reset()
    {
        _reads.Clear();
        _postedWrites.Clear();
        _service.Clear();
    }

    private static double Median(List<double> values)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        double[] sorted = [.. values];
        Array.Sort(sorted);
        return sorted[sorted.Length / 2];
    }
}
