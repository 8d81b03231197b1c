namespace Emu.Emulator.Wire;

/// <summary>Sees every frame at a port: what arrived (and whether it was dropped, and why) and what was sent.</summary>
public interface IPacketTap
{
    /// <param name="frame">The frame as on the wire, without FCS.</param>
    /// <param name="outbound">True for a frame the port transmitted.</param>
    /// <param name="dropReason">Null when the frame was taken; otherwise the counter that dropped it.</param>
    void Tap(ReadOnlySpan<byte> frame, bool outbound, string? dropReason);
}
