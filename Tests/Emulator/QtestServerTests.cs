using Emu.Tests.Differential;

namespace Emu.Tests.Emulator;

/// <summary>The qtest protocol as QEMU 11 speaks it, and our answers where QEMU would abort.</summary>
public sealed class QtestServerTests
{
    [Theory]
    [InlineData("inb 0x80", "OK 0x00ff")]
    [InlineData("inw 0x80", "OK 0xffff")]
    [InlineData("readl 0x100000", "OK 0x0000000000000000")]
    [InlineData("endianness", "OK little")]
    [InlineData("frobnicate 1", "FAIL Unknown command 'frobnicate'")]
    [InlineData(" readl 0x0", "FAIL Unknown command ''")]
    [InlineData("endianness\r", "FAIL Unknown command 'endianness\r'")]
    [InlineData("readl 0x100000 extra words", "OK 0x0000000000000000")]
    [InlineData("readl 010", "OK 0x0000000000000000")]
    [InlineData("clock_step", "FAIL cannot advance clock to the next deadline because there is no pending deadline")]
    [InlineData("clock_step 0", "FAIL could not advance time")]
    [InlineData("clock_step 10", "OK 10")]
    [InlineData("clock_set 5", "OK 5")]
    [InlineData("irq_intercept_in ioapic", "OK")]
    [InlineData("irq_intercept_in /machine/ioapic", "FAIL Unknown device")]
    [InlineData("irq_intercept_in i440fx", "FAIL No intercepts installed")]
    [InlineData("irq_intercept_in ioapic x", "FAIL Interception of named in-GPIOs not yet supported")]
    [InlineData("b64read 0x100000 0", "OK ")]
    [InlineData("write 0x100000 2 0x", "ERR invalid argument size")]
    [InlineData("b64write 0x100000 2 AA", "ERR invalid argument size")]
    [InlineData("module_load a b", "FAIL")]
    public void AnswersAsQemu11(string command, string reply)
    {
        using var emu = new EmuQtestTarget();
        Assert.Equal(reply, emu.Send(command));
    }

    [Theory]
    [InlineData("readl", "ERR readl: missing argument 1")]
    [InlineData("readl  0x1", "ERR readl: '' is not a number")]
    [InlineData("readl 0xZZ", "ERR readl: '0xZZ' is not a number")]
    [InlineData("readl 1e", "ERR readl: '1e' is not a number")]
    [InlineData("readl 0x1ffffffffffffffff", "ERR readl: '0x1ffffffffffffffff' is not a number")]
    [InlineData("outb 0x10000 1", "ERR outb: port 0x10000 is above 0xffff")]
    [InlineData("read 0x100000 0", "ERR read: size must not be 0")]
    [InlineData("clock_step abc", "ERR clock_step: 'abc' is not a number")]
    [InlineData("set_irq_in ioapic unnamed-gpio-in 99 1", "ERR ioapic has no input unnamed-gpio-in 99")]
    public void MalformedInputGetsErrAndTheServerKeepsServing(string command, string reply)
    {
        using var emu = new EmuQtestTarget();
        Assert.Equal(reply, emu.Send(command));
        Assert.Equal("OK 0x100e8086", emu.Send("outl 0xcf8 0x80001800") == "OK" ? emu.Send("inl 0xcfc") : "setup failed");
    }

    [Fact]
    public void EmptyLinesGetNoAnswer()
    {
        using var emu = new EmuQtestTarget();
        Assert.Equal(string.Empty, emu.Send(string.Empty));
    }

    [Fact]
    public void MemoryCommandsRoundTrip()
    {
        using var emu = new EmuQtestTarget();
        Assert.Equal("OK", emu.Send("write 0x100000 4 0xdeadbeef"));
        Assert.Equal("OK 0xdeadbeef", emu.Send("read 0x100000 4"));
        Assert.Equal("OK 3q2+7w==", emu.Send("b64read 0x100000 4"));
        Assert.Equal("OK", emu.Send("b64write 0x100010 3 AQID"));
        Assert.Equal("OK 0x010203", emu.Send("read 0x100010 3"));
        Assert.Equal("OK", emu.Send("memset 0x100020 4 0x1ab"));
        Assert.Equal("OK 0x00000000abababab", emu.Send("readq 0x100020"));
        Assert.Equal("OK", emu.Send("write 0x100030 2 0x1z"));
        Assert.Equal("OK 0xff00", emu.Send("read 0x100030 2"));
        Assert.Equal("OK", emu.Send("writeb 0x100040 0x1ff"));
        Assert.Equal("OK 0x00000000000000ff", emu.Send("readl 0x100040"));
    }

    [Fact]
    public void IrqLinesPrecedeTheReplyThatCausedThem()
    {
        using var emu = new EmuQtestTarget();
        foreach (string setup in new[]
        {
            "outl 0xcf8 0x80001810", "outl 0xcfc 0xfebc0000", "outl 0xcf8 0x80001804", "outw 0xcfc 0x7",
            "outl 0xcf8 0x80000860", "outb 0xcfe 0xb", "irq_intercept_in ioapic", "writel 0xfebc00d0 0x4",
        })
        {
            Assert.Equal("OK", emu.Send(setup));
        }

        Assert.Equal("IRQ raise 11 | OK", emu.Send("writel 0xfebc00c8 0x4"));
        Assert.Equal("IRQ lower 11 | OK 0x0000000000000004", emu.Send("readl 0xfebc00c0"));
        // Restarting autonegotiation drops the link: LSC at once (deviation lsc-on-autoneg-link-drop), again at link-up.
        Assert.Equal("IRQ raise 11 | OK", emu.Send("writel 0xfebc0020 0x04201340"));
        Assert.Equal("IRQ lower 11 | OK 0x0000000000000004", emu.Send("readl 0xfebc00c0"));
        Assert.Equal("IRQ raise 11 | OK 500000000", emu.Send("clock_step"));
    }
}

/// <summary>Random garbage never kills the qtest server: every non-empty line gets exactly one reply.</summary>
public sealed class QtestFuzzTests
{
    [Fact]
    public void RandomLinesGetOneReplyEachAndNoException()
    {
        var random = new Random(7);
        string[] words = ["outb", "outw", "outl", "inb", "inw", "inl", "readb", "readw", "readl", "readq", "writeb", "writew", "writel", "writeq", "read", "write", "memset", "b64read", "b64write", "clock_step", "clock_set", "irq_intercept_in", "irq_intercept_out", "set_irq_in", "endianness", "module_load", "0x", "0xfebc0000", "-1", "010", "ioapic", "0x10000", "", "AAAA", "0xffffffffffffffff", "99999999999999999999", "0xcf8", "0xcfc", "0x80001800"];
        using var emu = new EmuQtestTarget();
        for (int i = 0; i < 100_000; i++)
        {
            int n = random.Next(1, 6);
            string line = string.Join(' ', Enumerable.Range(0, n).Select(_ => random.Next(8) == 0 ? random.Next().ToString("x", System.Globalization.CultureInfo.InvariantCulture) : words[random.Next(words.Length)]));
            if (line.Length == 0)
            {
                continue;
            }

            string reply = emu.Send(line);
            string last = reply.Split(" | ")[^1];
            Assert.True(last.StartsWith("OK", StringComparison.Ordinal) || last.StartsWith("FAIL", StringComparison.Ordinal) || last.StartsWith("ERR", StringComparison.Ordinal), $"'{line}' → '{reply}'");
        }
    }
}
