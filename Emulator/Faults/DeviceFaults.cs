namespace Emu.Emulator.Faults;

/// <summary>
/// The fault seam of one e1000 (issue 21): the device consults it where frames cross the wire and, for the NIC's own
/// failures, where it does DMA, raises interrupts and answers EEPROM and PHY accesses. Null on the device when no plan
/// is armed: then each hook is one null test. Implementations keep their decisions in the plan's faults.
/// </summary>
public abstract class DeviceFaults
{
    /// <summary>
    /// A frame leaves the device for the wire (after padding and VLAN insertion). True: the fault layer took it (dropped,
    /// or it will send what it makes of it through <see cref="E1000.E1000Device.SendToWire"/>, now or later).
    /// </summary>
    public virtual bool WireTransmit(ReadOnlySpan<byte> frame) => false;

    /// <summary>
    /// A frame arrives from the wire. True: the fault layer took it (dropped, or it will deliver what it makes of it
    /// through <see cref="E1000.E1000Device.ReceiveFromWire"/>, now or later).
    /// </summary>
    public virtual bool WireReceive(ReadOnlySpan<byte> frame) => false;
}
