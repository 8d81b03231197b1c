namespace Emu.Emulator.Pci;

/// <summary>
/// The PIIX3 PCI-to-ISA bridge at 00:01.0, reduced to what routes PCI interrupts: the four PIRQ route control
/// registers at config 0x60–0x63 (Intel 82371SB datasheet §2.2.9). A value below 16 routes that PIRQ to the ISA IRQ of
/// the same number; bit 7 set (the reset value 0x80) disables the route. Device <c>d</c>'s INTA uses PIRQ
/// <c>(d - 1) &amp; 3</c>, INTB the next one, and so on, as on QEMU's pc board.
/// </summary>
public sealed class Piix3 : PciFunction
{
    public const int PirqRouteBase = 0x60;

    public Piix3()
        : base("piix3")
    {
        Config.SetWord(PciConfigSpace.VendorId, 0x8086);
        Config.SetWord(PciConfigSpace.DeviceId, 0x7000);
        Config.SetByte(PciConfigSpace.ClassCode + 1, 0x01);
        Config.SetByte(PciConfigSpace.ClassCode + 2, 0x06);
        Config.SetByte(PciConfigSpace.HeaderType, 0x80);
        Config.SetWord(PciConfigSpace.SubsystemVendorId, 0x1AF4);
        Config.SetWord(PciConfigSpace.SubsystemId, 0x1100);
        Config.SetWriteMask(PirqRouteBase, 4, 0xFFFF_FFFF);
        ResetRoutes();
    }

    /// <summary>The PIRQ (0 = A … 3 = D) that a device's interrupt pin (1 = INTA … 4 = INTD) is wired to.</summary>
    public static int PirqOf(int device, int pin) => (device + pin - 2) & 3;

    /// <summary>The ISA IRQ a PIRQ is routed to, or -1 when the route is disabled.</summary>
    public int IrqOf(int pirq)
    {
        byte route = Config.GetByte(PirqRouteBase + pirq);
        return route < 16 ? route : -1;
    }

    public override void PciReset()
    {
        base.PciReset();
        ResetRoutes();
    }

    private void ResetRoutes()
    {
        for (int i = 0; i < 4; i++)
        {
            Config.SetByte(PirqRouteBase + i, 0x80);
        }
    }
}
