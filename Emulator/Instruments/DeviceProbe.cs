using Emu.Emulator.E1000;

namespace Emu.Emulator.Instruments;

/// <summary>
/// The one seam through which instruments watch the e1000 (issue 20): the trace (<see cref="DeviceTracer"/>), the
/// misuse checks (<see cref="DeviceChecker"/>) and anything later. The device calls it at each register access,
/// descriptor, DMA, interrupt edge, EEPROM and PHY access and frame; with no probe attached a call is one null test.
/// A probe observes and never changes the device. Calls arrive on the device's thread, in the device's order.
/// </summary>
public abstract class DeviceProbe
{
    /// <summary>A register read at a BAR0 offset, after it took effect (ICR is already cleared).</summary>
    public virtual void RegisterRead(uint offset, uint value)
    {
    }

    /// <summary>A register write at a BAR0 offset, before it takes effect (the registers still hold the old state).</summary>
    public virtual void RegisterWriting(uint offset, uint value)
    {
    }

    /// <summary>A transmit descriptor consumed at ring index <paramref name="index"/> (§3.3), as fetched.</summary>
    public virtual void TxDescriptor(uint index, ReadOnlySpan<byte> descriptor, bool statusWritten)
    {
    }

    /// <summary>A receive descriptor written back at ring index <paramref name="index"/> (§3.2.3).</summary>
    public virtual void RxDescriptor(uint index, ReadOnlySpan<byte> descriptor)
    {
    }

    /// <summary>A DMA transfer the device made (or tried: <paramref name="ok"/> false when it fell outside memory).</summary>
    public virtual void Dma(ulong address, int length, bool write, bool ok)
    {
    }

    /// <summary>The INTx line changed level; <paramref name="causes"/> is ICR &amp; IMS.</summary>
    public virtual void InterruptLine(bool asserted, uint causes)
    {
    }

    /// <summary>An EEPROM word read through EERD (§5.3.1) or the start of a Microwire read through EECD.</summary>
    public virtual void EepromRead(bool eerd, int word, ushort value)
    {
    }

    /// <summary>One MDIC operation (§13.4.7): what software wrote and what MDIC holds afterwards.</summary>
    public virtual void PhyAccess(uint command, uint result)
    {
    }

    /// <summary>A frame at the device's port (<paramref name="drop"/>: the counter that dropped it, else null).</summary>
    public virtual void Frame(ReadOnlySpan<byte> frame, bool outbound, string? drop)
    {
    }

    /// <summary>A TSO context the device refused for a packet (§3.3.6, §3.5.5), with the reason.</summary>
    public virtual void TsoContextRejected(in E1000Device.TxContext context, string reason)
    {
    }

    /// <summary>Combines probes (either may be null).</summary>
    public static DeviceProbe? Combine(DeviceProbe? a, DeviceProbe? b) => a is null ? b : b is null ? a : new Pair(a, b);

    private sealed class Pair(DeviceProbe a, DeviceProbe b) : DeviceProbe
    {
        public override void RegisterRead(uint offset, uint value)
        {
            a.RegisterRead(offset, value);
            b.RegisterRead(offset, value);
        }

        public override void RegisterWriting(uint offset, uint value)
        {
            a.RegisterWriting(offset, value);
            b.RegisterWriting(offset, value);
        }

        public override void TxDescriptor(uint index, ReadOnlySpan<byte> descriptor, bool statusWritten)
        {
            a.TxDescriptor(index, descriptor, statusWritten);
            b.TxDescriptor(index, descriptor, statusWritten);
        }

        public override void RxDescriptor(uint index, ReadOnlySpan<byte> descriptor)
        {
            a.RxDescriptor(index, descriptor);
            b.RxDescriptor(index, descriptor);
        }

        public override void Dma(ulong address, int length, bool write, bool ok)
        {
            a.Dma(address, length, write, ok);
            b.Dma(address, length, write, ok);
        }

        public override void InterruptLine(bool asserted, uint causes)
        {
            a.InterruptLine(asserted, causes);
            b.InterruptLine(asserted, causes);
        }

        public override void EepromRead(bool eerd, int word, ushort value)
        {
            a.EepromRead(eerd, word, value);
            b.EepromRead(eerd, word, value);
        }

        public override void PhyAccess(uint command, uint result)
        {
            a.PhyAccess(command, result);
            b.PhyAccess(command, result);
        }

        public override void Frame(ReadOnlySpan<byte> frame, bool outbound, string? drop)
        {
            a.Frame(frame, outbound, drop);
            b.Frame(frame, outbound, drop);
        }

        public override void TsoContextRejected(in E1000Device.TxContext context, string reason)
        {
            a.TsoContextRejected(context, reason);
            b.TsoContextRejected(context, reason);
        }
    }
}
