namespace Emu.Driver.Kernel;

/// <summary>struct pci_device_id: vendor and device a driver claims.</summary>
public sealed record PciDeviceId(ushort Vendor, ushort Device);
