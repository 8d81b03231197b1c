namespace Emu.Emulator.Pci;

/// <summary>
/// PCI bus 0 behind configuration mechanism #1 (PCI 3.0 §3.2.2.3.2): CONFIG_ADDRESS at port 0xCF8 (latched only by a
/// 32-bit write) and CONFIG_DATA at 0xCFC–0xCFF. Absent functions read all ones and ignore writes.
/// </summary>
public sealed class PciBus
{
    public const ushort ConfigAddressPort = 0xCF8;
    public const ushort ConfigDataPort = 0xCFC;

    private readonly PciFunction?[] _functions = new PciFunction?[256];
    private (int DevFn, PciFunction Function)[] _attached = [];
    private uint _configAddress;

    /// <summary>The attached functions in device/function order, without allocating (the interrupt sync walks it per access).</summary>
    public ReadOnlySpan<(int DevFn, PciFunction Function)> Attached => _attached;

    public IEnumerable<(int DevFn, PciFunction Function)> Functions
    {
        get
        {
            for (int i = 0; i < _functions.Length; i++)
            {
                if (_functions[i] is { } f)
                {
                    yield return (i, f);
                }
            }
        }
    }

    public uint ConfigAddress => _configAddress;

    public void Attach(int device, int function, PciFunction pciFunction)
    {
        if (device is < 0 or > 31 || function is < 0 or > 7)
        {
            throw new ArgumentOutOfRangeException(nameof(device), $"{device:x2}.{function} is not a valid device.function.");
        }

        int devfn = (device << 3) | function;
        if (_functions[devfn] is not null)
        {
            throw new InvalidOperationException($"00:{device:x2}.{function} is already taken.");
        }

        _functions[devfn] = pciFunction;
        _attached = [.. _attached, (devfn, pciFunction)];
        Array.Sort(_attached, (x, y) => x.DevFn.CompareTo(y.DevFn));
    }

    public PciFunction? Find(int device, int function) => _functions[(device << 3) | function];

    public int DeviceOf(PciFunction function) => Array.IndexOf(_functions, function) >> 3;

    public static bool Claims(ushort port, int size) => port + size > ConfigAddressPort && port < ConfigDataPort + 4;

    /// <summary>A port read at 0xCF8–0xCFF.</summary>
    public uint IoRead(ushort port, int size)
    {
        if (port < ConfigDataPort)
        {
            // CONFIG_ADDRESS reads back the latch at any width and offset (as QEMU's pci_host_config_read).
            return (uint)(_configAddress & SizeMask(size));
        }

        PciFunction? target = Target(out int offset, port);
        return target is null ? (uint)SizeMask(size) : target.ConfigRead(offset, size);
    }

    public void IoWrite(ushort port, int size, uint value)
    {
        if (port < ConfigDataPort)
        {
            // Only a 32-bit write to 0xCF8 updates CONFIG_ADDRESS.
            if (port == ConfigAddressPort && size == 4)
            {
                _configAddress = value;
            }

            return;
        }

        Target(out int offset, port)?.ConfigWrite(offset, size, value);
    }

    private PciFunction? Target(out int offset, ushort port)
    {
        offset = (int)((_configAddress | (uint)(port & 3)) & 0xFF);
        if ((_configAddress & 0x8000_0000) == 0 || ((_configAddress >> 16) & 0xFF) != 0)
        {
            return null;
        }

        return _functions[(_configAddress >> 8) & 0xFF];
    }

    private static ulong SizeMask(int size) => size >= 8 ? ulong.MaxValue : (1UL << (8 * size)) - 1;
}
