namespace Emu.Driver.Kernel;

/// <summary>struct pci_driver: name, id table, probe and remove.</summary>
public interface IPciDriver
{
    string Name { get; }

    IReadOnlyList<PciDeviceId> IdTable { get; }

    /// <summary>0 on success or a negative errno; on failure the core leaves the device unbound.</summary>
    int Probe(PciDev pdev, PciDeviceId id);

    void Remove(PciDev pdev);
}
