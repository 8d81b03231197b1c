using Emu.Emulator.Faults;
using Emu.Emulator.Instruments;
using Emu.Emulator.Machine;
using Emu.Emulator.Pci;
using Microsoft.Extensions.Logging;

namespace Emu.Emulator.E1000;

/// <summary>The instruments' seam (issue 20): every access the device makes or answers is reported to <see cref="Probe"/>.</summary>
public sealed partial class E1000Device
{
    private DeviceProbe? _probe;

    /// <summary>The attached instruments (trace, checks), or null: then each hook is one null test.</summary>
    public DeviceProbe? Probe
    {
        get => _probe;
        set
        {
            _probe = value;
            Eeprom.ReadStarted = value is null ? null : (word, data) => value.EepromRead(eerd: false, word, data);
        }
    }

    /// <summary>The armed fault plan's hooks (issue 21), or null: then each hook is one null test.</summary>
    public Faults.DeviceFaults? Faults
    {
        get => _faults;
        set
        {
            _faults = value;
            Eeprom.Faults = value;
        }
    }

    private Faults.DeviceFaults? _faults;

    /// <summary>The device's logger (the fault layer logs its firings through it).</summary>
    internal ILogger Logger => _logger;

    private bool DmaRead(ulong address, Span<byte> destination, DmaTarget target)
    {
        if (_faults is { } f && f.DmaFails(target, address))
        {
            return InjectMasterAbort();
        }

        bool ok = Dma!.TryRead(address, destination);
        _probe?.Dma(address, destination.Length, write: false, ok);
        return ok;
    }

    private bool DmaWrite(ulong address, ReadOnlySpan<byte> source, DmaTarget target)
    {
        if (_faults is { } f && f.DmaFails(target, address))
        {
            return InjectMasterAbort();
        }

        bool ok = Dma!.TryWrite(address, source);
        _probe?.Dma(address, source.Length, write: true, ok);
        return ok;
    }

    /// <summary>
    /// An injected DMA failure is a PCI master abort: the master records it in its configuration STATUS as Received
    /// Master Abort (bit 13, PCI 3.0 §6.2.3; the 8254x manual's PCI Status register, §4.1). The 8254x manual says
    /// nothing of what the data path does after one, so the device does what it does with any failed access: the
    /// frame is dropped and counted (RxDmaError/TxDmaError) and the ring moves on. The fault layer logs it; the probe
    /// is not told (its check would call it an address outside memory). Always false: the access failed.
    /// </summary>
    private bool InjectMasterAbort()
    {
        Config.SetWord(PciConfigSpace.Status, (ushort)(Config.GetWord(PciConfigSpace.Status) | ReceivedMasterAbort));
        _dmaFaultInjected = true;
        return false;
    }

    /// <summary>The failed access the caller is about to count was injected (not an address outside memory).</summary>
    private bool _dmaFaultInjected;

    private const ushort ReceivedMasterAbort = 0x2000;

    /// <summary>Re-evaluates INTx (the fault layer raised or dropped a spurious level).</summary>
    internal void RefreshInterrupt() => UpdateInterrupt();

    /// <summary>The transmit unit comes back from a hang: it processes what waits from TDH to TDT.</summary>
    internal void ResumeTransmit() => ProcessTransmitRing();

    /// <summary>A timer on the device's clock behind the device's guard (for the fault layer).</summary>
    internal VirtualTimer CreateFaultTimer(string name, Action callback) => CreateDeviceTimer(name, callback);
}
