namespace Emu.Emulator.Wire;

/// <summary>Something that takes Ethernet frames (without FCS, as QEMU's netdevs carry them).</summary>
public interface IFrameSink
{
    /// <summary>Takes one frame; the span is only valid during the call.</summary>
    void ReceiveFrame(ReadOnlySpan<byte> frame);
}
