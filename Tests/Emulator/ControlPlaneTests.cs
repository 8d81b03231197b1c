using Emu.Emulator.E1000;

namespace Emu.Tests.Emulator;

/// <summary>Resets, the I/O BAR, statistics and access widths (8254x manual §13.2, §13.4, §13.7).</summary>
public sealed class ControlPlaneTests
{
    [Fact]
    public void ResetValuesAreTheTableValues()
    {
        var nic = new NicHarness();
        Assert.Equal(0x0014_0240u, nic.Read(E1000Reg.Ctrl));
        Assert.Equal(0x8008_0783u, nic.Read(E1000Reg.Status));
        Assert.Equal(0x0000_0188u, nic.Read(E1000Reg.Eecd));
        Assert.Equal(0x0000_8100u, nic.Read(E1000Reg.Vet));
        Assert.Equal(0x0000_0602u, nic.Read(E1000Reg.Ledctl));
        Assert.Equal(0x0010_0030u, nic.Read(E1000Reg.Pba));
        Assert.Equal(0x0022_2300u, nic.Read(E1000Reg.Manc));
        Assert.Equal(0x1200_5452u, nic.Read(E1000Reg.Ral0));
        Assert.Equal(0x8000_5634u, nic.Read(E1000Reg.Rah0));
    }

    [Fact]
    public void UndefinedOffsetsReadZeroAndIgnoreWrites()
    {
        var nic = new NicHarness();
        foreach (uint offset in new uint[] { 0x0004, 0x0024, 0x00CC, 0x1008, 0x4024, 0x6000, 0x8000, 0xC000 })
        {
            nic.Write(offset, 0xFFFF_FFFF);
            Assert.Equal(0u, nic.Read(offset));
        }
    }

    [Fact]
    public void CtrlRstResetsTheMacButNotPciConfiguration()
    {
        // Deviation ctrl-rst-resets: §13.4.1.
        var nic = new NicHarness();
        nic.Write(E1000Reg.Ims, 0x1F);
        nic.Write(E1000Reg.Ics, E1000Bits.IcrLsc);
        nic.Write(E1000Reg.Rctl, 0x0400_8002);
        nic.Write(E1000Reg.Tdlen, 0x1000);
        nic.Write(E1000Reg.Ral0, 0xDEAD_BEEF);
        nic.Write(E1000Reg.Mta, 0x1234);
        Assert.True(nic.IrqLevel);

        nic.Write(E1000Reg.Ctrl, nic.Read(E1000Reg.Ctrl) | E1000Bits.CtrlRst);

        Assert.False(nic.IrqLevel);
        Assert.Equal(0x0014_0240u, nic.Read(E1000Reg.Ctrl));
        Assert.Equal(0u, nic.Read(E1000Reg.Ims));
        Assert.Equal(0u, nic.Read(E1000Reg.Rctl));
        Assert.Equal(0u, nic.Read(E1000Reg.Tdlen));
        Assert.Equal(0u, nic.Read(E1000Reg.Mta));
        Assert.Equal(0x1200_5452u, nic.Read(E1000Reg.Ral0));
        Assert.Equal(0xFEBC_0000u, nic.ConfigRead(0x10, 4));
        Assert.Equal(0x7u, nic.ConfigRead(0x04, 2) & 0x7);
    }

    [Fact]
    public void LinuxResetsThe82540ThroughTheIoBar()
    {
        // e1000_reset_hw for the 82540: IMC all, RCTL/TCTL 0, then CTRL.RST written through IOADDR/IODATA.
        var nic = new NicHarness();
        nic.Write(E1000Reg.Rctl, 0x8002);
        nic.Write(E1000Reg.Fcal, 0x00C2_8001);
        uint ctrl = nic.Read(E1000Reg.Ctrl);
        nic.Machine.WriteIo(NicHarness.Bar1, 4, E1000Reg.Ctrl);
        nic.Machine.WriteIo(NicHarness.Bar1 + 4, 4, ctrl | E1000Bits.CtrlRst);
        Assert.Equal(0u, nic.Read(E1000Reg.Rctl));
        Assert.Equal(0u, nic.Read(E1000Reg.Fcal));

        nic.Machine.WriteIo(NicHarness.Bar1, 4, E1000Reg.Status);
        Assert.Equal(E1000Reg.Status, nic.Machine.ReadIo(NicHarness.Bar1, 4));
        Assert.Equal(0x8008_0783u, nic.Machine.ReadIo(NicHarness.Bar1 + 4, 4));
    }

    [Fact]
    public void IoAddrIgnoresNarrowWritesAndHighBits()
    {
        var nic = new NicHarness();
        nic.Machine.WriteIo(NicHarness.Bar1, 4, 0xFFF0_0008);
        Assert.Equal(0x0000_0008u, nic.Machine.ReadIo(NicHarness.Bar1, 4));
        nic.Machine.WriteIo(NicHarness.Bar1, 2, 0x0010);
        Assert.Equal(0x0000_0008u, nic.Machine.ReadIo(NicHarness.Bar1, 4));
        Assert.Equal(0u, nic.Machine.ReadIo(NicHarness.Bar1 + 8, 4));
        Assert.Equal(0xFFFF_FFFFu, nic.Machine.ReadIo(NicHarness.Bar1 + 0x40, 4));
    }

    [Fact]
    public void StatisticsClearOnReadAndPairsClearOnTheHighHalf()
    {
        var nic = new NicHarness();
        nic.Nic.IncrementCounter(E1000Reg.Mpc);
        nic.Nic.AddCounter64(E1000Reg.Torl, 0x1_0000_0040);
        Assert.Equal(1u, nic.Read(E1000Reg.Mpc));
        Assert.Equal(0u, nic.Read(E1000Reg.Mpc));
        Assert.Equal(0x40u, nic.Read(E1000Reg.Torl));
        Assert.Equal(0x40u, nic.Read(E1000Reg.Torl));
        Assert.Equal(1u, nic.Read(E1000Reg.Torh));
        Assert.Equal(0u, nic.Read(E1000Reg.Torl));
    }

    [Fact]
    public void CountersSaturate()
    {
        var nic = new NicHarness();
        nic.Nic[E1000Reg.Gprc] = uint.MaxValue;
        nic.Nic.IncrementCounter(E1000Reg.Gprc);
        Assert.Equal(uint.MaxValue, nic.Read(E1000Reg.Gprc));
        nic.Nic.AddCounter64(E1000Reg.Gorcl, ulong.MaxValue);
        nic.Nic.AddCounter64(E1000Reg.Gorcl, 5);
        Assert.Equal(uint.MaxValue, nic.Read(E1000Reg.Gorcl));
    }

    [Fact]
    public void NarrowReadsReturnTheLowBytesOfTheRegister()
    {
        // The manual leaves sub-dword accesses open; QEMU's memory core answers with the register's low bytes.
        var nic = new NicHarness();
        Assert.Equal(0x83UL, nic.Machine.ReadMemory(NicHarness.Bar0 + 9, 1));
        Assert.Equal(0x0783UL, nic.Machine.ReadMemory(NicHarness.Bar0 + 0xA, 2));
        Assert.Equal(0x0007_8383UL, nic.Machine.ReadMemory(NicHarness.Bar0 + 9, 4));
    }

    [Fact]
    public void NarrowWritesReplaceTheWholeRegister()
    {
        var nic = new NicHarness();
        nic.Machine.WriteMemory(NicHarness.Bar0 + E1000Reg.Tipg + 1, 1, 0xAB);
        Assert.Equal(0xABu, nic.Read(E1000Reg.Tipg));
        nic.Machine.WriteMemory(NicHarness.Bar0 + E1000Reg.Tdbal, 8, 0x1122_3344_5566_7788);
        Assert.Equal(0x5566_7780u, nic.Read(E1000Reg.Tdbal));
        Assert.Equal(0x1122_3344u, nic.Read(E1000Reg.Tdbah));
    }

    [Fact]
    public void MemoryDecodingOffHidesTheRegisters()
    {
        var nic = new NicHarness();
        nic.ConfigWrite(0x04, 2, 0x5);
        Assert.Equal(0UL, nic.Machine.ReadMemory(NicHarness.Bar0 + E1000Reg.Status, 4));
        nic.Machine.WriteMemory(NicHarness.Bar0 + E1000Reg.Fcal, 4, 0x1234);
        nic.ConfigWrite(0x04, 2, 0x7);
        Assert.Equal(0u, nic.Read(E1000Reg.Fcal));
    }

    [Fact]
    public void PciIdentityIsAsQemuPresentsIt()
    {
        var nic = new NicHarness();
        Assert.Equal(0x100E_8086u, nic.ConfigRead(0x00, 4));
        Assert.Equal(0x0200_0003u, nic.ConfigRead(0x08, 4));
        Assert.Equal(0x1100_1AF4u, nic.ConfigRead(0x2C, 4));
        Assert.Equal(0u, nic.ConfigRead(0x34, 1));
        Assert.Equal(1u, nic.ConfigRead(0x3D, 1));
        nic.ConfigWrite(0x10, 4, 0xFFFF_FFFF);
        Assert.Equal(0xFFFE_0000u, nic.ConfigRead(0x10, 4));
        nic.ConfigWrite(0x14, 4, 0xFFFF_FFFF);
        Assert.Equal(0xFFFF_FFC1u, nic.ConfigRead(0x14, 4));
    }

    [Fact]
    public void AbsentFunctionsReadAllOnes()
    {
        var nic = new NicHarness();
        nic.Machine.WriteIo(0xCF8, 4, 0x8000_2800);
        Assert.Equal(0xFFFF_FFFFu, nic.Machine.ReadIo(0xCFC, 4));
        Assert.Equal(0xFFu, nic.Machine.ReadIo(0xCFC, 1));
        nic.Machine.WriteIo(0xCF8, 4, 0x8001_1800);
        Assert.Equal(0xFFFF_FFFFu, nic.Machine.ReadIo(0xCFC, 4));
    }

    [Fact]
    public void PbaTxaFollowsRxa()
    {
        // Table 13-62 (deviation pba-txa-computed).
        var nic = new NicHarness();
        nic.Write(E1000Reg.Pba, 0xFFFF_0028);
        Assert.Equal(0x0018_0028u, nic.Read(E1000Reg.Pba));
    }

    [Fact]
    public void MachineResetReturnsPciStateAndRegistersToPowerOn()
    {
        var nic = new NicHarness();
        nic.Write(E1000Reg.Fcal, 5);
        nic.Machine.Reset();
        Assert.Equal(0u, nic.ConfigRead(0x10, 4) & 0xFFFF_FFF0);
        nic.ConfigWrite(0x10, 4, (uint)NicHarness.Bar0);
        nic.ConfigWrite(0x04, 2, 0x7);
        Assert.Equal(0u, nic.Read(E1000Reg.Fcal));
    }
}
