namespace Emu.Driver.Kernel;

/// <summary>
/// struct pci_dev: a function found by enumeration, with its resources and IRQ as firmware assigned them. Its
/// configuration space is reached through mechanism #1 (ports 0xCF8/0xCFC), as Linux's pci_conf1 does.
/// </summary>
public sealed class PciDev
{
    private readonly GuestKernel _kernel;
    private readonly List<PciResource> _resources = [];

    internal PciDev(GuestKernel kernel, int device, int function)
    {
        _kernel = kernel;
        Device = device;
        Function = function;
        VendorId = (ushort)ConfigRead(0x00, 2);
        DeviceId = (ushort)ConfigRead(0x02, 2);
        Revision = (byte)ConfigRead(0x08, 1);
        ClassCode = ConfigRead(0x08, 4) >> 8;
        SubsystemVendorId = (ushort)ConfigRead(0x2C, 2);
        SubsystemId = (ushort)ConfigRead(0x2E, 2);
        Pin = (byte)ConfigRead(0x3D, 1);
    }

    public int Bus => 0;

    public int Device { get; }

    public int Function { get; }

    /// <summary>pci_name: "0000:00:03.0".</summary>
    public string Name => $"0000:{Bus:x2}:{Device:x2}.{Function}";

    public ushort VendorId { get; }

    public ushort DeviceId { get; }

    public byte Revision { get; }

    public uint ClassCode { get; }

    public ushort SubsystemVendorId { get; }

    public ushort SubsystemId { get; }

    public byte Pin { get; }

    public int Irq { get; internal set; } = -1;

    public IReadOnlyList<PciResource> Resources => _resources;

    public IPciDriver? Driver { get; internal set; }

    /// <summary>pci_set_drvdata/pci_get_drvdata.</summary>
    public object? DriverData { get; set; }

    public bool Enabled { get; private set; }

    public bool RegionsRequested { get; private set; }

    public GuestKernel Kernel => _kernel;

    public uint ConfigRead(int offset, int size)
    {
        _kernel.Bus.Out(0xCF8, 4, ConfigAddress(offset));
        return _kernel.Bus.In((ushort)(0xCFC + (offset & 3)), size);
    }

    public void ConfigWrite(int offset, int size, uint value)
    {
        _kernel.Bus.Out(0xCF8, 4, ConfigAddress(offset));
        _kernel.Bus.Out((ushort)(0xCFC + (offset & 3)), size, value);
    }

    /// <summary>pci_enable_device: decode the resources this function has (COMMAND.IO/MEM).</summary>
    public int EnableDevice()
    {
        ushort command = (ushort)ConfigRead(0x04, 2);
        foreach (PciResource r in _resources)
        {
            command |= r.IsIo ? (ushort)0x1 : (ushort)0x2;
        }

        ConfigWrite(0x04, 2, command);
        Enabled = true;
        return 0;
    }

    /// <summary>pci_disable_device.</summary>
    public void DisableDevice()
    {
        ushort command = (ushort)ConfigRead(0x04, 2);
        ConfigWrite(0x04, 2, (ushort)(command & ~0x7));
        Enabled = false;
    }

    /// <summary>pci_set_master: COMMAND.MASTER, so the function may DMA.</summary>
    public void SetMaster() => ConfigWrite(0x04, 2, ConfigRead(0x04, 2) | 0x4);

    public void ClearMaster() => ConfigWrite(0x04, 2, ConfigRead(0x04, 2) & ~0x4u);

    /// <summary>pci_request_regions: -EBUSY if already claimed.</summary>
    public int RequestRegions(string owner)
    {
        if (RegionsRequested)
        {
            return -16;
        }

        RegionsRequested = true;
        return 0;
    }

    public void ReleaseRegions() => RegionsRequested = false;

    public PciResource? Resource(int bar) => _resources.Find(r => r.Bar == bar);

    /// <summary>pci_ioremap_bar.</summary>
    public IoMem? IoremapBar(int bar) => Resource(bar) is { IsIo: false } r ? new IoMem(_kernel.Bus, r.Start, r.Length) : null;

    internal void AddResource(PciResource resource) => _resources.Add(resource);

    private uint ConfigAddress(int offset) => 0x8000_0000u | (uint)(Device << 11) | (uint)(Function << 8) | (uint)(offset & 0xFC);
}
