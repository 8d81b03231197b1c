using Emu.Emulator.Machine;
using Emu.Emulator.Replay;
using Emu.Emulator.Wire;

namespace Emu.Host.Replay;

/// <summary>The e1000's wire with a digest in front: each frame the node sends goes into <see cref="OutputDigest"/> with its virtual time, then on to <paramref name="inner"/> (none in a replay).</summary>
public sealed class DigestingSink(IFrameSink? inner, OutputDigest digest, EventScheduler scheduler) : IFrameSink
{
    public void ReceiveFrame(ReadOnlySpan<byte> frame)
    {
        digest.AddFrame(scheduler.Now, frame);
        inner?.ReceiveFrame(frame);
    }
}
