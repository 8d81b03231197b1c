using Emu.Emulator.E1000;

namespace Emu.Tests.Emulator;

/// <summary>MDIC and the internal PHY (8254x manual §13.4.7, chapter 11), with autonegotiation on the virtual clock.</summary>
public sealed class PhyTests
{
    [Fact]
    public void PhyIdentifiesAsM88E1011()
    {
        var nic = new NicHarness();
        Assert.Equal(0x0141, nic.PhyRead(M88Phy.Id1));
        Assert.Equal(0x0C20, nic.PhyRead(M88Phy.Id2));
    }

    [Fact]
    public void WrongPhyAddressAnswersErrorAndKeepsMdic()
    {
        var nic = new NicHarness();
        nic.PhyRead(M88Phy.Id1);
        uint before = nic.Read(E1000Reg.Mdic);
        nic.Write(E1000Reg.Mdic, E1000Bits.MdicOpRead | (2u << E1000Bits.MdicPhyShift));
        Assert.Equal(before | E1000Bits.MdicError | E1000Bits.MdicReady, nic.Read(E1000Reg.Mdic));
    }

    [Fact]
    public void MdicWithIntEnRaisesMdac()
    {
        var nic = new NicHarness();
        nic.Write(E1000Reg.Ims, E1000Bits.IcrMdac);
        nic.Write(E1000Reg.Mdic, E1000Bits.MdicOpRead | E1000Bits.MdicIntEn | (1u << E1000Bits.MdicPhyShift));
        Assert.True(nic.IrqLevel);
        Assert.Equal(E1000Bits.IcrMdac, nic.Read(E1000Reg.Icr));
    }

    [Fact]
    public void AutonegRestartDropsTheLinkForFiveHundredMilliseconds()
    {
        var nic = new NicHarness();
        nic.Write(E1000Reg.Ims, E1000Bits.IcrLsc);
        nic.PhyWrite(M88Phy.Control, 0x1340);
        Assert.Equal(0u, nic.Read(E1000Reg.Status) & E1000Bits.StatusLu);
        Assert.Equal(0x7949, nic.PhyRead(M88Phy.StatusReg));
        // §13.4.17: the drop is a link change too (deviation lsc-on-autoneg-link-drop).
        Assert.Equal(E1000Bits.IcrLsc, nic.Read(E1000Reg.Icr));

        nic.Machine.Scheduler.RunFor(E1000Device.AutonegDurationNs - 1);
        Assert.Equal(0u, nic.Read(E1000Reg.Status) & E1000Bits.StatusLu);
        Assert.False(nic.IrqLevel);
        nic.Machine.Scheduler.RunFor(1);
        Assert.True(nic.IrqLevel);
        Assert.Equal(0x8008_0783u, nic.Read(E1000Reg.Status));
        Assert.Equal(0x796D, nic.PhyRead(M88Phy.StatusReg));
        Assert.Equal(0x4DE1, nic.PhyRead(M88Phy.LinkPartnerAbility));   // deviation phy-link-partner-page
    }

    [Fact]
    public void WritingControlWithAutonegOffDoesNotRestart()
    {
        var nic = new NicHarness();
        nic.PhyWrite(M88Phy.Control, 0x0340);
        Assert.Equal(E1000Bits.StatusLu, nic.Read(E1000Reg.Status) & E1000Bits.StatusLu);
        Assert.Null(nic.Machine.Scheduler.NextDeadline);
    }

    [Fact]
    public void PhySoftResetRestartsAutonegotiation()
    {
        var nic = new NicHarness();
        nic.PhyWrite(M88Phy.Control, 0x9140);
        Assert.Equal(0x1140, nic.PhyRead(M88Phy.Control));
        Assert.Equal(0u, nic.Read(E1000Reg.Status) & E1000Bits.StatusLu);
        nic.Machine.Scheduler.RunFor(E1000Device.AutonegDurationNs);
        Assert.Equal(E1000Bits.StatusLu, nic.Read(E1000Reg.Status) & E1000Bits.StatusLu);
    }

    [Fact]
    public void CarrierLossTakesTheLinkDownWithLsc()
    {
        var nic = new NicHarness();
        nic.Write(E1000Reg.Ims, E1000Bits.IcrLsc);
        nic.Nic.SetCarrier(false);
        nic.Machine.SyncInterrupts();
        Assert.True(nic.IrqLevel);
        Assert.Equal(0x8008_0781u, nic.Read(E1000Reg.Status));
        Assert.Equal(0, nic.PhyRead(M88Phy.SpecificStatus) & M88Phy.SpecificStatusLinkBits);
        nic.Read(E1000Reg.Icr);

        // Back up with AN enabled and not complete: autonegotiation runs first.
        nic.Nic.SetCarrier(true);
        Assert.Equal(0u, nic.Read(E1000Reg.Status) & E1000Bits.StatusLu);
        nic.Machine.Scheduler.RunFor(E1000Device.AutonegDurationNs);
        Assert.Equal(E1000Bits.StatusLu, nic.Read(E1000Reg.Status) & E1000Bits.StatusLu);
        Assert.True(nic.IrqLevel);
    }

    [Fact]
    public void AutonegDoesNotCompleteWithoutCarrier()
    {
        var nic = new NicHarness();
        nic.Nic.SetCarrier(false);
        nic.PhyWrite(M88Phy.Control, 0x1340);
        nic.Machine.Scheduler.RunFor(2 * E1000Device.AutonegDurationNs);
        Assert.Equal(0u, nic.Read(E1000Reg.Status) & E1000Bits.StatusLu);
    }

    [Fact]
    public void RegistersQemuLacksExist()
    {
        // Deviation phy-register-set: 7, 8, 15, 18 and 19 answer without ERROR.
        var nic = new NicHarness();
        Assert.Equal(0x2001, nic.PhyRead(M88Phy.NextPageTransmit));
        Assert.Equal(0x3000, nic.PhyRead(M88Phy.ExtendedStatus));
        nic.PhyWrite(M88Phy.InterruptEnable, 0x6400);
        Assert.Equal(0x6400, nic.PhyRead(M88Phy.InterruptEnable));
        Assert.Equal(0, nic.PhyRead(M88Phy.InterruptStatus));
    }

    [Fact]
    public void AbsentPhyRegistersAnswerError()
    {
        var nic = new NicHarness();
        nic.Write(E1000Reg.Mdic, E1000Bits.MdicOpRead | (1u << E1000Bits.MdicPhyShift) | (0x1Fu << E1000Bits.MdicRegShift));
        Assert.NotEqual(0u, nic.Read(E1000Reg.Mdic) & E1000Bits.MdicError);
    }
}
