namespace Emu.Emulator.Pci;

/// <summary>
/// The i440FX host bridge at 00:00.0, present so that bus enumeration finds the function QEMU's pc machine has there.
/// Only its identity is modelled (8086:1237, class 060000); its memory-controller registers are out of scope.
/// </summary>
public sealed class HostBridge : PciFunction
{
    public HostBridge()
        : base("i440fx")
    {
        Config.SetWord(PciConfigSpace.VendorId, 0x8086);
        Config.SetWord(PciConfigSpace.DeviceId, 0x1237);
        Config.SetByte(PciConfigSpace.Revision, 0x02);
        Config.SetByte(PciConfigSpace.ClassCode + 2, 0x06);
        Config.SetWord(PciConfigSpace.SubsystemVendorId, 0x1AF4);
        Config.SetWord(PciConfigSpace.SubsystemId, 0x1100);
    }
}
