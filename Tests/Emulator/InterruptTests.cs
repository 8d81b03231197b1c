using Emu.Emulator.E1000;

namespace Emu.Tests.Emulator;

/// <summary>ICR/ICS/IMS/IMC and ITR throttling (8254x manual §13.4.17–21), in virtual time.</summary>
public sealed class InterruptTests
{
    [Fact]
    public void LineIsIcrAndImsAndIcrReadClearsAllCauses()
    {
        var nic = new NicHarness();
        nic.Write(E1000Reg.Ics, E1000Bits.IcrLsc | E1000Bits.IcrRxt0);
        Assert.False(nic.IrqLevel);
        nic.Write(E1000Reg.Ims, E1000Bits.IcrLsc);
        Assert.True(nic.IrqLevel);
        Assert.Equal(E1000Bits.IcrLsc | E1000Bits.IcrRxt0, nic.Read(E1000Reg.Icr));
        Assert.False(nic.IrqLevel);
        Assert.Equal(0u, nic.Read(E1000Reg.Icr));
    }

    [Fact]
    public void IcrWriteOneClearsOnlyThoseCauses()
    {
        var nic = new NicHarness();
        nic.Write(E1000Reg.Ims, 0xFFFF);
        nic.Write(E1000Reg.Ics, E1000Bits.IcrLsc | E1000Bits.IcrRxt0);
        nic.Write(E1000Reg.Icr, E1000Bits.IcrLsc);
        Assert.True(nic.IrqLevel);
        nic.Write(E1000Reg.Icr, E1000Bits.IcrRxt0);
        Assert.False(nic.IrqLevel);
    }

    [Fact]
    public void ImcMasksTheLineWithoutClearingTheCause()
    {
        var nic = new NicHarness();
        nic.Write(E1000Reg.Ims, E1000Bits.IcrTxdw);
        nic.Write(E1000Reg.Ics, E1000Bits.IcrTxdw);
        Assert.True(nic.IrqLevel);
        nic.Write(E1000Reg.Imc, E1000Bits.IcrTxdw);
        Assert.False(nic.IrqLevel);
        Assert.Equal(0u, nic.Read(E1000Reg.Ims));
        Assert.Equal(E1000Bits.IcrTxdw, nic.Read(E1000Reg.Icr));
    }

    [Fact]
    public void ConfigStatusBit3FollowsTheLineAndIntxDisableMasksIt()
    {
        var nic = new NicHarness();
        nic.Write(E1000Reg.Ims, E1000Bits.IcrLsc);
        nic.Write(E1000Reg.Ics, E1000Bits.IcrLsc);
        Assert.Equal(0x8u, nic.ConfigRead(0x06, 2) & 0x8);
        nic.ConfigWrite(0x04, 2, 0x0407);
        Assert.False(nic.IrqLevel);
        Assert.Equal(0x8u, nic.ConfigRead(0x06, 2) & 0x8);
        nic.ConfigWrite(0x04, 2, 0x0007);
        Assert.True(nic.IrqLevel);
    }

    [Fact]
    public void ThePirqRouteDecidesTheIoApicInput()
    {
        var nic = new NicHarness();
        nic.Machine.WriteIo(0xCF8, 4, 0x8000_0860);
        nic.Machine.WriteIo(0xCFE, 1, 0x80);
        nic.Write(E1000Reg.Ims, E1000Bits.IcrLsc);
        nic.Write(E1000Reg.Ics, E1000Bits.IcrLsc);
        Assert.False(nic.Machine.Interrupts.Level(NicHarness.Irq));
        nic.Machine.WriteIo(0xCFE, 1, 10);
        Assert.True(nic.Machine.Interrupts.Level(10));
    }

    [Fact]
    public void ItrHoldsTheNextRisingEdgeForItsInterval()
    {
        // §13.4.18: ITR = 0x1000 × 256 ns = 1,048,576 ns between interrupts.
        var nic = new NicHarness();
        nic.Write(E1000Reg.Itr, 0x1000);
        nic.Write(E1000Reg.Ims, E1000Bits.IcrLsc);
        nic.Write(E1000Reg.Ics, E1000Bits.IcrLsc);
        Assert.True(nic.IrqLevel);
        nic.Read(E1000Reg.Icr);
        nic.Write(E1000Reg.Ics, E1000Bits.IcrLsc);
        Assert.False(nic.IrqLevel);
        nic.Machine.Scheduler.RunFor(1_048_575);
        Assert.False(nic.IrqLevel);
        nic.Machine.Scheduler.RunFor(1);
        Assert.True(nic.IrqLevel);
    }

    [Fact]
    public void ItrZeroDisablesThrottling()
    {
        // §13.4.18: "ITR = 0 disables throttling" (QEMU keeps a 128 µs floor: deviation itr-no-floor).
        var nic = new NicHarness();
        nic.Write(E1000Reg.Ims, E1000Bits.IcrLsc);
        for (int i = 0; i < 3; i++)
        {
            nic.Write(E1000Reg.Ics, E1000Bits.IcrLsc);
            Assert.True(nic.IrqLevel);
            nic.Read(E1000Reg.Icr);
            Assert.False(nic.IrqLevel);
        }
    }

    [Fact]
    public void LinuxInterruptSelfTestSeesEachCause()
    {
        // e1000_intr_test (ethtool): for causes 0–9, masked causes must not interrupt, unmasked ones must.
        var nic = new NicHarness();
        nic.Write(E1000Reg.Imc, 0xFFFF_FFFF);
        for (int i = 0; i < 10; i++)
        {
            uint mask = 1u << i;
            nic.Write(E1000Reg.Imc, mask);
            nic.Write(E1000Reg.Ics, mask);
            Assert.False(nic.IrqLevel);
            nic.Read(E1000Reg.Icr);

            nic.Write(E1000Reg.Ims, mask);
            nic.Write(E1000Reg.Ics, mask);
            Assert.True(nic.IrqLevel);
            Assert.Equal(mask, nic.Read(E1000Reg.Icr) & mask);

            nic.Write(E1000Reg.Imc, ~mask & 0x7FFF);
            nic.Write(E1000Reg.Ics, ~mask & 0x7FFF);
            Assert.False(nic.IrqLevel);
            nic.Read(E1000Reg.Icr);
        }
    }
}
