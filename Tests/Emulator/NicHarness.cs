using Emu.Emulator.E1000;
using Emu.Emulator.Machine;
using Emu.Emulator.Pci;

namespace Emu.Tests.Emulator;

/// <summary>A machine with the e1000 enumerated as firmware leaves it: BAR0, BAR1, IO+MEM+MASTER, PIRQC → IRQ 11.</summary>
internal sealed class NicHarness
{
    public const ulong Bar0 = 0xFEBC_0000;
    public const ushort Bar1 = 0xC000;
    public const int Irq = 11;

    public NicHarness(MachineOptions? options = null, Microsoft.Extensions.Logging.ILoggerFactory? loggerFactory = null)
    {
        Machine = new PcMachine(options, loggerFactory);
        ConfigWrite(PciConfigSpace.Bar0, 4, (uint)Bar0);
        ConfigWrite(PciConfigSpace.Bar0 + 4, 4, Bar1 | 1u);
        ConfigWrite(PciConfigSpace.Command, 2, 0x7);
        Machine.WriteIo(PciBus.ConfigAddressPort, 4, 0x8000_0800u | Piix3.PirqRouteBase);
        Machine.WriteIo(PciBus.ConfigDataPort + 2, 1, Irq);
    }

    public PcMachine Machine { get; }

    public E1000Device Nic => Machine.Nic;

    public bool IrqLevel => Machine.Interrupts.Level(Irq);

    public uint Read(uint offset) => (uint)Machine.ReadMemory(Bar0 + offset, 4);

    public void Write(uint offset, uint value) => Machine.WriteMemory(Bar0 + offset, 4, value);

    public uint ConfigRead(int offset, int size)
    {
        Machine.WriteIo(PciBus.ConfigAddressPort, 4, 0x8000_1800u | (uint)(offset & 0xFC));
        return Machine.ReadIo((ushort)(PciBus.ConfigDataPort + (offset & 3)), size);
    }

    public void ConfigWrite(int offset, int size, uint value)
    {
        Machine.WriteIo(PciBus.ConfigAddressPort, 4, 0x8000_1800u | (uint)(offset & 0xFC));
        Machine.WriteIo((ushort)(PciBus.ConfigDataPort + (offset & 3)), size, value);
    }

    public ushort PhyRead(int register)
    {
        Write(E1000Reg.Mdic, E1000Bits.MdicOpRead | (1u << E1000Bits.MdicPhyShift) | ((uint)register << E1000Bits.MdicRegShift));
        uint mdic = Read(E1000Reg.Mdic);
        Assert.True((mdic & E1000Bits.MdicReady) != 0);
        Assert.True((mdic & E1000Bits.MdicError) == 0, $"PHY register {register} answered ERROR");
        return (ushort)mdic;
    }

    public void PhyWrite(int register, ushort value)
    {
        Write(E1000Reg.Mdic, E1000Bits.MdicOpWrite | (1u << E1000Bits.MdicPhyShift) | ((uint)register << E1000Bits.MdicRegShift) | value);
        Assert.True((Read(E1000Reg.Mdic) & (E1000Bits.MdicReady | E1000Bits.MdicError)) == E1000Bits.MdicReady);
    }
}
