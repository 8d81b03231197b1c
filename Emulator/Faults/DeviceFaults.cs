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

    // ---- The 82540EM's own failures (device kinds). Each default is "no fault". ----

    /// <summary>
    /// A frame passed the filters and reaches the packet buffer (§3.2.1): whether it arrives with a bad FCS or a PHY
    /// receive error, overruns the FIFO, or finds the descriptors looking used.
    /// </summary>
    public virtual ReceiveFault Receive(ReadOnlySpan<byte> frame) => ReceiveFault.None;

    /// <summary>The EOP descriptor of a received frame is about to be written back: a wrong length or status.</summary>
    public virtual bool ReceiveWriteback(ReadOnlySpan<byte> frame, ref ushort length, ref byte status) => false;

    /// <summary>A descriptor is done (receive, or transmit with RS): true withholds its DD.</summary>
    public virtual bool WithholdDescriptorDone(FaultDirection direction) => false;

    /// <summary>A DMA access the device masters: true makes it fail as a PCI master abort.</summary>
    public virtual bool DmaFails(DmaTarget target, ulong address) => false;

    /// <summary>The transmit engine has descriptors to process: true while the transmit unit is hung.</summary>
    public virtual bool TransmitHung() => false;

    /// <summary>CTRL.RST (through BAR0 or IOADDR/IODATA) or a power-on reset: the MAC's state is gone.</summary>
    public virtual void DeviceReset()
    {
    }

    /// <summary>The causes that drive INTx (ICR &amp; IMS); what the line follows instead.</summary>
    public virtual uint InterruptPending(uint pending, bool asserted) => pending;

    /// <summary>Software read ICR (which clears it).</summary>
    public virtual void InterruptCausesRead()
    {
    }

    /// <summary>An EEPROM word as the device reads it (EECD bit-bang, EERD, or the load at reset).</summary>
    public virtual ushort EepromWord(int address, ushort value) => value;

    /// <summary>Software requests the EEPROM (EECD.EE_REQ, or EERD.START): true means it never completes.</summary>
    public virtual bool EepromRequestHangs(bool eerd) => false;

    /// <summary>An MDIC write starts a PHY access.</summary>
    public virtual MdicFault PhyAccess(uint command) => MdicFault.None;

    /// <summary>Autonegotiation would complete: true makes this attempt fail (the PHY tries again).</summary>
    public virtual bool AutonegFails() => false;
}
