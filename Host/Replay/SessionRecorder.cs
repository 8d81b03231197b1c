using System.Buffers.Binary;
using System.Text;
using Emu.Emulator.Machine;
using Emu.Emulator.Replay;

namespace Emu.Host.Replay;

/// <summary>
/// <c>--record FILE</c> for a node on the wall clock (issue 22): every input that reaches the node from outside — a
/// frame or a carrier change from the netdev, a control-socket command that changes the fault plan — goes into the
/// trace with the virtual time it was handled at, and after every loop step that produced output, and at least
/// every <see cref="TraceHeader.DigestIntervalNs"/>, a digest of the outputs so far (frames sent, kernel log). The
/// node is deterministic given those, so <c>emu replay</c> can rebuild it and check every digest. A write failure
/// stops the node (<see cref="Failed"/>), or with <c>--record-continue</c> only the recording, with one warning.
/// Use on the node's loop.
/// </summary>
public sealed class SessionRecorder : IDisposable
{
    public const long DefaultDigestIntervalNs = 1_000_000_000;

    private readonly TraceWriter _writer;
    private readonly EventScheduler _scheduler;
    private readonly string _path;
    private readonly bool _continueOnError;
    private readonly TextWriter _errors;
    private readonly long _interval;
    private readonly byte[] _digest = new byte[33];
    private bool _inputSinceStep;
    private bool _lastStepRanClock = true;
    private long _nextDigest;
    private ulong _writtenCount;
    private bool _stopped;

    private SessionRecorder(TraceWriter writer, EventScheduler scheduler, string path, bool continueOnError, TextWriter errors, long interval)
    {
        _writer = writer;
        _scheduler = scheduler;
        _path = path;
        _continueOnError = continueOnError;
        _errors = errors;
        _interval = interval;
        _nextDigest = scheduler.Now + interval;
    }

    /// <summary>The outputs' digest; the runner feeds it (a <see cref="DigestingSink"/> on the wire, the kernel log).</summary>
    public OutputDigest Digest { get; } = new();

    /// <summary>The same over the inputs recorded, so a replay can tell a trace altered after the fact.</summary>
    public OutputDigest Inputs { get; } = new();

    /// <summary>Set when recording failed and the node must stop (without <c>--record-continue</c>).</summary>
    public bool Failed { get; private set; }

    /// <summary>Raised once when <see cref="Failed"/> becomes true, so the runner can end its loop.</summary>
    public Action? FailedStop { get; set; }

    public TraceWriter Writer => _writer;

    public static bool TryStart(string path, TraceHeader header, EventScheduler scheduler, bool continueOnError, TextWriter errors, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out SessionRecorder? recorder, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        recorder = null;
        if (!TraceWriter.TryCreate(path, header, out TraceWriter? writer, out error))
        {
            return false;
        }

        recorder = new SessionRecorder(writer, scheduler, path, continueOnError, errors, header.DigestIntervalNs > 0 ? header.DigestIntervalNs : DefaultDigestIntervalNs);
        return true;
    }

    public void Frame(ReadOnlySpan<byte> frame)
    {
        _inputSinceStep = true;
        Inputs.AddFrame(_scheduler.Now, frame);
        Append(TraceRecordKind.FrameIn, frame);
    }

    public void Carrier(bool up)
    {
        _inputSinceStep = true;
        Inputs.AddText('C', up ? "up" : "down");
        Append(TraceRecordKind.Carrier, [up ? (byte)1 : (byte)0]);
    }

    public void Control(string line)
    {
        _inputSinceStep = true;
        Inputs.AddText('X', line);
        Append(TraceRecordKind.Control, Encoding.UTF8.GetBytes(line));
    }

    public void QtestLine(string line)
    {
        _inputSinceStep = true;
        Inputs.AddText('Q', line);
        Append(TraceRecordKind.QtestLine, Encoding.UTF8.GetBytes(line));
    }

    /// <summary>After each loop step (a clock run or an input): a digest record when it produced output, or when the interval passed.</summary>
    public void AfterStep()
    {
        bool afterInput = _inputSinceStep;
        _inputSinceStep = false;
        _lastStepRanClock = !afterInput;
        if (_stopped || (Digest.Count == _writtenCount && _scheduler.Now < _nextDigest))
        {
            return;
        }

        // Byte 32 says how the loop got here: 1, it ran the clock to this time (events due then have run); 0, it
        // handled an input at this time (events that input armed for "now" run at the loop's next step, after us).
        WriteDigest(_digest);
        _digest[32] = afterInput ? (byte)0 : (byte)1;
        Append(TraceRecordKind.Digest, _digest);
        _writtenCount = Digest.Count;
        _nextDigest = _scheduler.Now + _interval;
    }

    /// <summary>Ends the trace: the final digest and the counters as text, then closes the file.</summary>
    public void End(string counters)
    {
        if (!_stopped)
        {
            byte[] end = new byte[33 + Encoding.UTF8.GetByteCount(counters)];
            WriteDigest(end);
            end[32] = _lastStepRanClock && !_inputSinceStep ? (byte)1 : (byte)0;
            Encoding.UTF8.GetBytes(counters, end.AsSpan(33));
            Append(TraceRecordKind.End, end);
            _writer.Flush();
        }

        Dispose();
    }

    private void WriteDigest(Span<byte> into)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(into, Digest.Count);
        BinaryPrimitives.WriteUInt64LittleEndian(into[8..], Digest.Value);
        BinaryPrimitives.WriteUInt64LittleEndian(into[16..], Inputs.Count);
        BinaryPrimitives.WriteUInt64LittleEndian(into[24..], Inputs.Value);
    }

    private void Append(TraceRecordKind kind, ReadOnlySpan<byte> payload)
    {
        if (_stopped || _writer.Append(kind, _scheduler.Now, payload))
        {
            return;
        }

        _stopped = true;
        if (_continueOnError)
        {
            _errors.WriteLine($"emu: --record {_path}: {_writer.Error}; recording stopped, the node goes on (--record-continue)");
            return;
        }

        _errors.WriteLine($"emu: --record {_path}: {_writer.Error}; stopping (give --record-continue to keep running without recording)");
        Failed = true;
        FailedStop?.Invoke();
    }

    public void Dispose() => _writer.Dispose();
}
