using System.Diagnostics;
using Emu.Host;
using Emu.Tests.Differential;

namespace Emu.Tests.Host;

/// <summary>The emu command: sub-commands, options and their errors.</summary>
public sealed class CommandLineTests
{
    private static (int Code, string Out, string Err) Run(string input, params string[] args)
    {
        var stdout = new StringWriter { NewLine = "\n" };
        var stderr = new StringWriter();
        int code = EmuCommandLine.Run(args, new StringReader(input), stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void QtestServesTheProtocol()
    {
        (int code, string output, _) = Run("outl 0xcf8 0x80001800\ninl 0xcfc\n\nreadl 0x0\n", "qtest");
        Assert.Equal(0, code);
        Assert.Equal("OK\nOK 0x100e8086\nOK 0x0000000000000000\n", output);
    }

    [Fact]
    public void QtestMacPatchesTheEeprom()
    {
        (int code, string output, _) = Run("outl 0xcf8 0x80001810\noutl 0xcfc 0xfebc0000\noutl 0xcf8 0x80001804\noutw 0xcfc 0x7\nreadl 0xfebc5400\n", "qtest", "--mac", "02:11:22:33:44:55");
        Assert.Equal(0, code);
        Assert.EndsWith("OK 0x0000000033221102\n", output);
    }

    [Fact]
    public void QtestLoadsAnEepromImageVerbatim()
    {
        string image = Path.Combine(AppContext.BaseDirectory, "firmware-fixtures", "eeprom", "82540em-bad-checksum.eeprom");
        (int code, string output, _) = Run("outl 0xcf8 0x80001810\noutl 0xcfc 0xfebc0000\noutl 0xcf8 0x80001804\noutw 0xcfc 0x7\nwritel 0xfebc0014 0x3f01\nreadl 0xfebc0014\n", "qtest", "--eeprom", image);
        Assert.Equal(0, code);
        Assert.EndsWith("OK 0x0000000079ac3f10\n", output);
    }

    [Theory]
    [InlineData("--mac", "zz", "is not a MAC address")]
    [InlineData("--mac", "01:02:03:04:05", "is not a MAC address")]
    [InlineData("--eeprom", "/nonexistent/file.eeprom", "no such file")]
    public void BadOptionsAreRefusedWithAReason(string option, string value, string reason)
    {
        (int code, _, string error) = Run(string.Empty, "qtest", option, value);
        Assert.Equal(2, code);
        Assert.Contains(reason, error);
    }

    [Fact]
    public void MacAndEepromDoNotGoTogether()
    {
        string image = Path.Combine(AppContext.BaseDirectory, "firmware-fixtures", "eeprom", "82540em-default.eeprom");
        (int code, _, string error) = Run(string.Empty, "run", "--mac", "02:00:00:00:00:01", "--eeprom", image);
        Assert.Equal(2, code);
        Assert.Contains("do not go together", error);
    }

    [Fact]
    public void MalformedEepromImageIsRefused()
    {
        string path = Path.GetTempFileName();
        File.WriteAllText(path, "1234 5678\n");
        try
        {
            (int code, _, string error) = Run(string.Empty, "qtest", "--eeprom", path);
            Assert.Equal(2, code);
            Assert.Contains("expected 64 words, found 2", error);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void UnknownCommandFails()
    {
        (int code, _, string error) = Run(string.Empty, "frobnicate");
        Assert.NotEqual(0, code);
        Assert.Contains("frobnicate", error);
    }

    [Fact]
    public void RunBringsTheNodeUpOnItsNetdevAndStopsWithASummary()
    {
        // A dgram netdev needs no peer: the link comes up, DAD ends, and --duration stops it.
        (int code, string output, string error) = Run(string.Empty, "run", "--netdev", "dgram,local.type=inet,local.host=127.0.0.1,local.port=0,remote.type=inet,remote.host=127.0.0.1,remote.port=9", "--duration", "2.5");
        Assert.True(code == 0, output + error);
        Assert.Contains("eth0: Intel(R) PRO/1000 Network Connection", output);
        Assert.Contains("emu run: node up; eth0 52:54:00:12:34:57", output);
        Assert.Contains("QEMU      -netdev dgram,id=n0,local.type=inet,local.host=127.0.0.1,local.port=9,remote.type=inet,remote.host=127.0.0.1,remote.port=0 -device e1000,netdev=n0,mac=52:54:00:12:34:56", output);
        Assert.Contains("eth0: NIC Link is Up 1000 Mbps Full Duplex, Flow Control: RX/TX", output);
        Assert.Contains("emu run: eth0: fe80::5054:ff:fe12:3457/64 ready", output);
        Assert.Contains("emu run: stopped after", output);
        Assert.Contains("Icmp6OutNeighborSolicits 1", output);   // the DAD probe
    }

    [Theory]
    [InlineData("--netdev", "tap,ifname=tap0", "netdev type 'tap' is not supported")]
    [InlineData("--duration", "-1", "--duration takes a positive number")]
    [InlineData("--mac", "52:54:00", "is not a MAC address")]
    public void RunRefusesBadOptions(string option, string value, string message)
    {
        (int code, _, string error) = Run(string.Empty, "run", option, value);
        Assert.Equal(2, code);
        Assert.Contains(message, error);
    }

    [Fact]
    public void EmuQtestProcessAnswersAScriptAsTheInProcessServer()
    {
        // The real `emu qtest` process, fed a whole script on stdin, against the in-process server.
        string emu = Path.Combine(AppContext.BaseDirectory, "emu.dll");
        QtestScript script = QtestScript.Load("20-interrupts-basic");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add(emu);
        start.ArgumentList.Add("qtest");
        using Process process = Process.Start(start)!;
        foreach (QtestStep step in script.Steps)
        {
            process.StandardInput.Write(step.Command + "\n");
        }

        process.StandardInput.Close();
        string output = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(30_000));
        Assert.Equal(0, process.ExitCode);

        using var inProcess = new EmuQtestTarget();
        var expected = new List<string>();
        foreach (QtestStep step in script.Steps)
        {
            expected.AddRange(inProcess.Send(step.Command).Split(" | "));
        }

        Assert.Equal(expected, output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
