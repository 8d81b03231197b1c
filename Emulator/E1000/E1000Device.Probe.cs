using Emu.Emulator.Instruments;

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
    public Faults.DeviceFaults? Faults { get; set; }

    private bool DmaRead(ulong address, Span<byte> destination)
    {
        bool ok = Dma!.TryRead(address, destination);
        _probe?.Dma(address, destination.Length, write: false, ok);
        return ok;
    }

    private bool DmaWrite(ulong address, ReadOnlySpan<byte> source)
    {
        bool ok = Dma!.TryWrite(address, source);
        _probe?.Dma(address, source.Length, write: true, ok);
        return ok;
    }
}
