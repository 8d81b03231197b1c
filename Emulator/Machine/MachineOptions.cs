using System.Net.NetworkInformation;
using Emu.Emulator.E1000;

namespace Emu.Emulator.Machine;

/// <summary>What a machine is built with.</summary>
public sealed class MachineOptions
{
    /// <summary>QEMU's default NIC address, 52:54:00:12:34:56.</summary>
    public static readonly PhysicalAddress DefaultMac = PhysicalAddress.Parse("52-54-00-12-34-56");

    public ulong RamSize { get; init; } = GuestMemory.DefaultSize;

    /// <summary>The EEPROM image; null means the default 82540EM image with <see cref="Mac"/> patched in.</summary>
    public EepromImage? Eeprom { get; init; }

    public PhysicalAddress Mac { get; init; } = DefaultMac;

    /// <summary>PCI device number of the e1000 on bus 0 (QEMU: addr=03.0).</summary>
    public int NicSlot { get; init; } = 3;
}
