using System.Net.NetworkInformation;
using Emu.Emulator.E1000;
using Emu.Emulator.Machine;

namespace Emu.Tests.Emulator;

/// <summary>The EEPROM image, EERD and the EECD Microwire interface (8254x manual §5.3.1, §5.6).</summary>
public sealed class EepromTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "firmware-fixtures", "eeprom", name);

    [Fact]
    public void DefaultImageSumsToBabaWithQemusChecksum()
    {
        EepromImage image = EepromImage.Default82540Em();
        Assert.True(image.ChecksumValid);
        Assert.Equal(0x79AD, image[EepromImage.ChecksumWord]);
        Assert.Equal("525400123456", image.MacAddress.ToString());
    }

    [Fact]
    public void PatchingTheMacRecomputesTheChecksum()
    {
        EepromImage image = EepromImage.Default82540Em().WithMacAddress(PhysicalAddress.Parse("02-11-22-33-44-55"));
        Assert.True(image.ChecksumValid);
        Assert.Equal(0x9CCB, image[EepromImage.ChecksumWord]);
    }

    [Fact]
    public void BadChecksumFixtureIsInvalid()
    {
        EepromImage image = EepromImage.Load(Fixture("82540em-bad-checksum.eeprom"));
        Assert.False(image.ChecksumValid);
        Assert.Equal(0xBAB9, image.Sum());
    }

    [Theory]
    [InlineData("0000", "expected 64 words, found 1")]
    [InlineData("zz", "'zz' is not a 16-bit hexadecimal word")]
    [InlineData("12345", "'12345' is not a 16-bit hexadecimal word")]
    public void MalformedImagesAreRejectedWithAReason(string text, string reason)
    {
        Assert.False(EepromImage.TryParse(text, out _, out string? error));
        Assert.Contains(reason, error);
    }

    [Fact]
    public void EerdReadsEveryWord()
    {
        var nic = new NicHarness();
        EepromImage image = nic.Nic.Eeprom.Image;
        for (uint word = 0; word < 64; word++)
        {
            nic.Write(E1000Reg.Eerd, (word << 8) | E1000Bits.EerdStart);
            uint eerd = nic.Read(E1000Reg.Eerd);
            Assert.NotEqual(0u, eerd & E1000Bits.EerdDone);
            Assert.Equal(image[(int)word], (ushort)(eerd >> 16));
        }
    }

    [Fact]
    public void MicrowireReadsEveryWordAsLinuxDoes()
    {
        // e1000_read_eeprom for a Microwire part: REQ/GNT, CS, opcode 110 + 6 address bits, 16 data bits MSB first.
        var nic = new NicHarness();
        EepromImage image = nic.Nic.Eeprom.Image;
        for (int word = 0; word < 64; word++)
        {
            Assert.Equal(image[word], MicrowireRead(nic, word));
        }
    }

    [Fact]
    public void RstReloadsTheStationAddressFromTheEeprom()
    {
        var nic = new NicHarness(new MachineOptions { Mac = PhysicalAddress.Parse("02-11-22-33-44-55") });
        Assert.Equal(0x3322_1102u, nic.Read(E1000Reg.Ral0));
        Assert.Equal(0x8000_5544u, nic.Read(E1000Reg.Rah0));
        nic.Write(E1000Reg.Ral0, 0);
        nic.Write(E1000Reg.Rah0, 0);
        nic.Write(E1000Reg.CtrlExt, E1000Bits.CtrlExtEeRst);
        Assert.Equal(0x3322_1102u, nic.Read(E1000Reg.Ral0));
        Assert.Equal(0x8000_5544u, nic.Read(E1000Reg.Rah0));
        Assert.Equal(0u, nic.Read(E1000Reg.CtrlExt) & E1000Bits.CtrlExtEeRst);
    }

    internal static ushort MicrowireRead(NicHarness nic, int word)
    {
        uint eecd = nic.Read(E1000Reg.Eecd) | E1000Bits.EecdReq;
        nic.Write(E1000Reg.Eecd, eecd);
        Assert.NotEqual(0u, nic.Read(E1000Reg.Eecd) & E1000Bits.EecdGnt);
        eecd &= ~(E1000Bits.EecdDi | E1000Bits.EecdSk);
        nic.Write(E1000Reg.Eecd, eecd);
        eecd |= E1000Bits.EecdCs;
        nic.Write(E1000Reg.Eecd, eecd);
        uint command = (0b110u << 6) | (uint)word;
        for (int bit = 8; bit >= 0; bit--)
        {
            eecd = ((command >> bit) & 1) != 0 ? eecd | E1000Bits.EecdDi : eecd & ~E1000Bits.EecdDi;
            nic.Write(E1000Reg.Eecd, eecd);
            nic.Write(E1000Reg.Eecd, eecd | E1000Bits.EecdSk);
            nic.Write(E1000Reg.Eecd, eecd);
        }

        eecd &= ~E1000Bits.EecdDi;
        ushort data = 0;
        for (int i = 0; i < 16; i++)
        {
            nic.Write(E1000Reg.Eecd, eecd | E1000Bits.EecdSk);
            data = (ushort)((data << 1) | ((nic.Read(E1000Reg.Eecd) & E1000Bits.EecdDo) != 0 ? 1 : 0));
            nic.Write(E1000Reg.Eecd, eecd);
        }

        nic.Write(E1000Reg.Eecd, eecd & ~(E1000Bits.EecdCs | E1000Bits.EecdReq));
        return data;
    }
}
