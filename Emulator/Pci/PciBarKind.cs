namespace Emu.Emulator.Pci;

public enum PciBarKind
{
    Memory32,
    Io,
    ExpansionRom,
}
