namespace Emu.Emulator.Wire;

/// <summary>Sees every frame at a port: what arrived (and whether it was dropped, and why) and what was sent.</summary>
public interface IPacketTap
{
    /// <param name="frame">The frame as on the wire, without FCS.</param>
    /// <param name="outbound">True for a frame the port transmitted.</param>
    /// <param name="dropReason">Null when the frame was taken; otherwise the counter that dropped it.</param>
    void Tap(ReadOnlySpan<byte> frame, bool outbound, string? dropReason);

    /// <summary>
    /// As <see cref="Tap(ReadOnlySpan{byte}, bool, string?)"/>, with a note on the frame: the faults that changed,
    /// delayed or duplicated it (issue 21: <c>fault 3 corrupt</c>). Taps that keep no notes ignore it.
    /// </summary>
    void Tap(ReadOnlySpan<byte> frame, bool outbound, string? dropReason, string? comment) => Tap(frame, outbound, dropReason);
}
