using System.Globalization;
using Emu.Emulator.E1000;
using Emu.Emulator.Machine;
using Emu.Emulator.Pci;

namespace Emu.Host;

/// <summary>
/// <c>emu run</c> for now: power the machine on, enumerate the e1000 as firmware would (BARs, COMMAND, PIRQ route),
/// restart autonegotiation through MDIC, run virtual time until the link is up, and print what a driver would see.
/// </summary>
internal static class DeviceReport
{
    private const uint Bar0Address = 0xFEBC_0000;
    private const ushort Bar1Address = 0xC000;

    public static int Run(PcMachine machine, TextWriter output)
    {
        int slot = machine.NicSlot;
        uint configBase = 0x8000_0000u | ((uint)slot << 11);
        machine.WriteIo(PciBus.ConfigAddressPort, 4, configBase | PciConfigSpace.Bar0);
        machine.WriteIo(PciBus.ConfigDataPort, 4, Bar0Address);
        machine.WriteIo(PciBus.ConfigAddressPort, 4, configBase | (PciConfigSpace.Bar0 + 4));
        machine.WriteIo(PciBus.ConfigDataPort, 4, Bar1Address | 1u);
        machine.WriteIo(PciBus.ConfigAddressPort, 4, configBase | PciConfigSpace.Command);
        machine.WriteIo(PciBus.ConfigDataPort, 2, 0x7);
        machine.WriteIo(PciBus.ConfigAddressPort, 4, 0x8000_0800u | Piix3.PirqRouteBase);
        machine.WriteIo((ushort)(PciBus.ConfigDataPort + Piix3.PirqOf(slot, 1)), 1, 11);

        uint Read(uint offset) => (uint)machine.ReadMemory(Bar0Address + offset, 4);
        void Write(uint offset, uint value) => machine.WriteMemory(Bar0Address + offset, 4, value);

        Write(E1000Reg.Ims, E1000Bits.IcrLsc);
        Write(E1000Reg.Mdic, E1000Bits.MdicOpWrite | (1u << E1000Bits.MdicPhyShift) | 0x1340);
        long start = machine.Scheduler.Now;
        bool up = machine.Scheduler.RunUntil(() => (Read(E1000Reg.Status) & E1000Bits.StatusLu) != 0, 5_000_000_000);

        EepromImage eeprom = machine.Nic.Eeprom.Image;
        var c = CultureInfo.InvariantCulture;
        output.WriteLine(string.Create(c, $"emu run: machine up; the e1000 driver and IPv6 stack are not part of this build yet, so the device runs alone."));
        output.WriteLine(string.Create(c, $"  PCI 00:{slot:x2}.0  {E1000Device.VendorIntel:x4}:{E1000Device.Device82540Em:x4} (82540EM)  BAR0 0x{Bar0Address:x8}  BAR1 0x{Bar1Address:x4}  IRQ 11"));
        output.WriteLine(string.Create(c, $"  MAC {FormatMac(eeprom)}  EEPROM checksum {(eeprom.ChecksumValid ? "valid" : "INVALID")} (sum 0x{eeprom.Sum():x4})"));
        output.WriteLine(string.Create(c, $"  link {(up ? "up" : "down")} after {(machine.Scheduler.Now - start) / 1_000_000} ms of autonegotiation; STATUS 0x{Read(E1000Reg.Status):x8}; IRQ 11 {(machine.Interrupts.Level(11) ? "asserted (LSC)" : "idle")}"));
        return up ? 0 : 1;
    }

    private static string FormatMac(EepromImage eeprom)
        => string.Join(':', Array.ConvertAll(eeprom.MacAddress.GetAddressBytes(), b => b.ToString("x2", CultureInfo.InvariantCulture)));
}
