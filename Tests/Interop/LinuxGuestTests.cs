using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Emu.Tests.Interop;

/// <summary>
/// The Linux guest fixture on its own, with no Emu stack: real Debian kernels with their e1000 driver under QEMU's e1000,
/// talking to each other over a QEMU socket netdev; command output, status and boot log come back apart.
/// </summary>
[Trait("Category", "Qemu")]
[Collection(LinuxGuest.Collection)]
public sealed class LinuxGuestTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(90);

    private readonly ITestOutputHelper _log;

    public LinuxGuestTests(ITestOutputHelper log)
    {
        _log = log;
    }

    [Fact]
    public void TwoGuestsOnOneWirePingOverLinkLocalIpv6()
    {
        LinuxGuest.EnsureInstalled();
        int port = FreePort();
        var clock = Stopwatch.StartNew();

        // A answers B's echo requests, and powers off once it has answered three (the kernel's own counter).
        const string answerThree = """
            n=0; i=0
            while [ "$n" -lt 3 ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); n=$(awk '/^Icmp6InEchos /{print $2}' /proc/net/snmp6); done
            sleep 0.5
            echo "echo requests: $n, echo replies: $(awk '/^Icmp6OutEchoReplies /{print $2}' /proc/net/snmp6)"
            """;
        using LinuxGuest a = LinuxGuest.Start(LinuxGuestOptions.Listen($"127.0.0.1:{port}") with { Mac = "52:54:00:12:34:58" }, answerThree, s_timeout);
        LinuxGuestResult b = LinuxGuest.Run(LinuxGuestOptions.Connect($"127.0.0.1:{port}") with { Mac = "52:54:00:12:34:59" },
            "ping6 -c 3 fe80::5054:ff:fe12:3458%eth0", s_timeout);
        LinuxGuestResult resultA = a.Wait();
        _log.WriteLine($"A: {resultA.Elapsed.TotalSeconds:F1} s, B: {b.Elapsed.TotalSeconds:F1} s, both: {clock.Elapsed.TotalSeconds:F1} s");
        _log.WriteLine(b.Output);

        Assert.True(b.ExitCode == 0, b.ToString());
        Assert.Contains("3 packets transmitted, 3 packets received, 0% packet loss", b.Output, StringComparison.Ordinal);
        Assert.True(resultA.ExitCode == 0, resultA.ToString());
        Assert.Contains("echo requests: 3, echo replies: 3", resultA.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void GuestProbesTheE1000AndEthtoolNamesItsDriver()
    {
        LinuxGuestResult result = LinuxGuest.Run(LinuxGuestOptions.Listen($"127.0.0.1:{FreePort()}") with { Tools = ["ethtool"] },
            "dmesg | grep e1000; ethtool -i eth0", s_timeout);
        _log.WriteLine($"{result.Elapsed.TotalSeconds:F1} s");
        _log.WriteLine(result.Output);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches(new Regex(@"e1000 0000:00:03\.0 eth0: Intel\(R\) PRO/1000 Network Connection"), result.Output);
        Assert.Matches(new Regex("^driver: e1000$", RegexOptions.Multiline), result.Output);
        Assert.Matches(new Regex("^bus-info: 0000:00:03.0$", RegexOptions.Multiline), result.Output);
    }

    [Fact]
    public void CommandsOutputAndStatusComeBackApartFromTheBootLog()
    {
        LinuxGuestResult result = LinuxGuest.Run(LinuxGuestOptions.Dgram($"127.0.0.1:{FreePort()}", $"127.0.0.1:{FreePort()}"),
            "echo to-stdout; echo to-stderr >&2; ip -6 addr show dev eth0 | grep -o 'fe80::[^ ]*'; exit 7", s_timeout);
        _log.WriteLine($"{result.Elapsed.TotalSeconds:F1} s");

        Assert.True(result.Finished, result.ToString());
        Assert.Equal(7, result.ExitCode);
        Assert.Equal("to-stdout\nto-stderr\nfe80::5054:ff:fe12:3456/64\n", result.Output);
        Assert.Contains("EMU-GUEST: ready", result.BootLog, StringComparison.Ordinal);
        Assert.DoesNotContain("EMU-GUEST", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BackgroundGuestStreamsItsOutputAndCanBeKilled()
    {
        using LinuxGuest guest = LinuxGuest.Start(LinuxGuestOptions.Listen($"127.0.0.1:{FreePort()}"), "echo started; sleep 600", s_timeout);
        Assert.True(guest.WaitForOutput("started", s_timeout), guest.OutputSoFar);
        Assert.True(guest.CommandsStarted);
        Assert.False(guest.Completion.IsCompleted);

        guest.Kill();
        LinuxGuestResult result = await guest.WaitAsync(TimeSpan.FromSeconds(30));
        _log.WriteLine(result.ToString());

        Assert.False(result.Finished);
        Assert.Equal(124, result.ExitCode);
        Assert.Equal("started\n", result.Output);
    }

    [Fact]
    public void SetupErrorComesBackAtOnceWithItsReason()
    {
        LinuxGuestResult result = LinuxGuest.Run(LinuxGuestOptions.Listen($"127.0.0.1:{FreePort()}") with { Modules = ["no_such_module"] }, "true", s_timeout);

        Assert.False(result.Finished);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("module no_such_module not found", result.BootLog, StringComparison.Ordinal);
        Assert.True(result.Elapsed < TimeSpan.FromSeconds(30), result.ToString());
    }

    private static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}
