using Emu.Emulator.E1000;

namespace Emu.Tests.Emulator;

/// <summary>
/// Replays the register test of Linux's ethtool offline self-test (e1000_ethtool.c, e1000_reg_test) as it runs on an
/// 82540 (mac_type ≥ 82543): the same registers, masks, written values and patterns, in the same order. QEMU fails it
/// at FCAL (0x28); the 82540EM, and so Emu, passes.
/// </summary>
public sealed class LinuxRegisterTestTests
{
    private static readonly uint[] s_patterns = [0x5A5A_5A5A, 0xA5A5_A5A5, 0x0000_0000, 0xFFFF_FFFF];

    [Fact]
    public void E1000RegTestPassesOnThe82540Em()
    {
        var nic = new NicHarness();

        // STATUS is read-only: writing the toggle bits must not change them.
        const uint toggle = 0xFFFF_F833;
        uint before = nic.Read(E1000Reg.Status);
        uint value = nic.Read(E1000Reg.Status) & toggle;
        nic.Write(E1000Reg.Status, toggle);
        Assert.Equal(value, nic.Read(E1000Reg.Status) & toggle);
        nic.Write(E1000Reg.Status, before);

        PatternTest(nic, E1000Reg.Fcal, 0xFFFF_FFFF, 0xFFFF_FFFF);
        PatternTest(nic, E1000Reg.Fcah, 0x0000_FFFF, 0xFFFF_FFFF);
        PatternTest(nic, E1000Reg.Fct, 0x0000_FFFF, 0xFFFF_FFFF);
        PatternTest(nic, E1000Reg.Vet, 0x0000_FFFF, 0xFFFF_FFFF);
        PatternTest(nic, E1000Reg.Rdtr, 0x0000_FFFF, 0xFFFF_FFFF);
        PatternTest(nic, E1000Reg.Rdbah, 0xFFFF_FFFF, 0xFFFF_FFFF);
        PatternTest(nic, E1000Reg.Rdlen, 0x000F_FF80, 0x000F_FFFF);
        PatternTest(nic, E1000Reg.Rdh, 0x0000_FFFF, 0x0000_FFFF);
        PatternTest(nic, E1000Reg.Rdt, 0x0000_FFFF, 0x0000_FFFF);
        PatternTest(nic, E1000Reg.Fcrth, 0x0000_FFF8, 0x0000_FFF8);
        PatternTest(nic, E1000Reg.Fcttv, 0x0000_FFFF, 0x0000_FFFF);
        PatternTest(nic, E1000Reg.Tipg, 0x3FFF_FFFF, 0x3FFF_FFFF);
        PatternTest(nic, E1000Reg.Tdbah, 0xFFFF_FFFF, 0xFFFF_FFFF);
        PatternTest(nic, E1000Reg.Tdlen, 0x000F_FF80, 0x000F_FFFF);

        SetAndCheck(nic, E1000Reg.Rctl, 0xFFFF_FFFF, 0x0000_0000);
        const uint rctlMask = 0x06DF_B3FE;
        SetAndCheck(nic, E1000Reg.Rctl, rctlMask, 0x003F_FFFB);
        SetAndCheck(nic, E1000Reg.Tctl, 0xFFFF_FFFF, 0x0000_0000);
        SetAndCheck(nic, E1000Reg.Rctl, rctlMask, 0xFFFF_FFFF);
        PatternTest(nic, E1000Reg.Rdbal, 0xFFFF_FFF0, 0xFFFF_FFFF);
        PatternTest(nic, E1000Reg.Txcw, 0xC000_FFFF, 0x0000_FFFF);
        PatternTest(nic, E1000Reg.Tdbal, 0xFFFF_FFF0, 0xFFFF_FFFF);
        PatternTest(nic, E1000Reg.Tidv, 0x0000_FFFF, 0x0000_FFFF);
        for (uint i = 0; i < 16; i++)
        {
            PatternTest(nic, E1000Reg.Rah0 + (8 * i), 0x8003_FFFF, 0xFFFF_FFFF);
        }

        for (uint i = 0; i < 128; i++)
        {
            PatternTest(nic, E1000Reg.Mta + (4 * i), 0xFFFF_FFFF, 0xFFFF_FFFF);
        }
    }

    private static void PatternTest(NicHarness nic, uint register, uint mask, uint write)
    {
        foreach (uint pattern in s_patterns)
        {
            nic.Write(register, write & pattern);
            uint read = nic.Read(register);
            Assert.True(read == (write & pattern & mask), $"pattern test reg {register:X4} failed: got 0x{read:X8} expected 0x{write & pattern & mask:X8}");
        }
    }

    private static void SetAndCheck(NicHarness nic, uint register, uint mask, uint write)
    {
        nic.Write(register, write & mask);
        uint read = nic.Read(register);
        Assert.True((read & mask) == (write & mask), $"set/check reg {register:X4} test failed: got 0x{read & mask:X8} expected 0x{write & mask:X8}");
    }
}
