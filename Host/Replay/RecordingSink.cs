using Emu.Emulator.Wire;

namespace Emu.Host.Replay;

/// <summary>A netdev's port with the recorder in front: each frame from the wire goes into the trace, then on to <paramref name="inner"/> (the e1000).</summary>
public sealed class RecordingSink(SessionRecorder recorder, IFrameSink inner) : IFrameSink
{
    public void ReceiveFrame(ReadOnlySpan<byte> frame)
    {
        recorder.Frame(frame);
        inner.ReceiveFrame(frame);
    }
}
