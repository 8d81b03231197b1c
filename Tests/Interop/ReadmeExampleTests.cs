using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Xunit.Abstractions;

namespace Emu.Tests.Interop;

/// <summary>
/// README.md's "attach-linux-guest" example, run as written: its two commands, with a free port for 5555 and the built
/// emu.dll for <c>dotnet run --project Host --</c>. The real <c>emu run</c> process must come up, the guest's pings must
/// all be answered, and SIGTERM must stop emu cleanly with its summary.
/// </summary>
[Trait("Category", "Qemu")]
[Collection(LinuxGuest.Collection)]
public sealed class ReadmeExampleTests
{
    private readonly ITestOutputHelper _log;

    public ReadmeExampleTests(ITestOutputHelper log)
    {
        _log = log;
    }

    private static string RepoRoot()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "Emu.sln")))
        {
            dir = Path.GetDirectoryName(dir);
        }

        Assert.NotNull(dir);
        return dir;
    }

    /// <summary>The command lines of a README example block (comments and blank lines left out).</summary>
    public static List<string> ExampleCommands(string name)
    {
        string readme = File.ReadAllText(Path.Combine(RepoRoot(), "README.md"));
        int start = readme.IndexOf($"<!-- example: {name}", StringComparison.Ordinal);
        Assert.True(start >= 0, $"README.md has no example '{name}'");
        int end = readme.IndexOf("<!-- end example -->", start, StringComparison.Ordinal);
        return readme[start..end].Split('\n')
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith('#') && !l.StartsWith("<!--", StringComparison.Ordinal) && !l.StartsWith("```", StringComparison.Ordinal))
            .ToList();
    }

    [Fact]
    public async Task AttachLinuxGuestExampleWorksAsWritten()
    {
        LinuxGuest.EnsureInstalled();
        List<string> commands = ExampleCommands("attach-linux-guest");
        Assert.Equal(2, commands.Count);
        string port = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        string emuCommand = commands[0].Replace("5555", port, StringComparison.Ordinal);
        string guestCommand = commands[1].Replace("5555", port, StringComparison.Ordinal);
        const string runPrefix = "dotnet run --project Host -- ";
        Assert.StartsWith(runPrefix, emuCommand, StringComparison.Ordinal);
        Assert.StartsWith("Tests/scripts/linux-guest.sh ", guestCommand, StringComparison.Ordinal);

        // Terminal 1: emu run, as a real process.
        var emuStart = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        emuStart.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "emu.dll"));
        foreach (string arg in emuCommand[runPrefix.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            emuStart.ArgumentList.Add(arg);
        }

        var emuOut = new StringBuilder();
        using Process emu = Process.Start(emuStart)!;
        emu.OutputDataReceived += (_, e) =>
        {
            lock (emuOut)
            {
                emuOut.AppendLine(e.Data);
            }
        };
        emu.ErrorDataReceived += (_, e) =>
        {
            lock (emuOut)
            {
                emuOut.AppendLine(e.Data);
            }
        };
        emu.BeginOutputReadLine();
        emu.BeginErrorReadLine();
        try
        {
            // Terminal 2: the guest, through bash from the repository root, as a user types it.
            var guestStart = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = RepoRoot() };
            guestStart.ArgumentList.Add("-c");
            guestStart.ArgumentList.Add(guestCommand.Replace("Tests/scripts/", Path.Combine(AppContext.BaseDirectory, "scripts") + "/", StringComparison.Ordinal));
            using Process guest = Process.Start(guestStart)!;
            Task<string> guestErr = guest.StandardError.ReadToEndAsync();
            string guestOut = await guest.StandardOutput.ReadToEndAsync();
            Assert.True(guest.WaitForExit(180_000), "the guest did not finish");
            _log.WriteLine(guestOut);
            string err = await guestErr;
            Assert.True(guest.ExitCode == 0, guestOut + err + emuOut);
            Assert.Contains("3 packets transmitted, 3 packets received, 0% packet loss", guestOut, StringComparison.Ordinal);
        }
        finally
        {
            // SIGTERM, as a service manager stops it.
            if (!emu.HasExited)
            {
                using var kill = Process.Start("kill", ["-TERM", emu.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
                kill.WaitForExit();
            }

            Assert.True(emu.WaitForExit(30_000), "emu run did not stop on SIGTERM");
        }

        emu.WaitForExit();
        string text;
        lock (emuOut)
        {
            text = emuOut.ToString();
        }

        _log.WriteLine(text);
        Assert.Equal(0, emu.ExitCode);
        Assert.Contains($"QEMU      -netdev socket,id=n0,connect=127.0.0.1:{port} -device e1000,netdev=n0,mac=52:54:00:12:34:56", text, StringComparison.Ordinal);
        Assert.Contains("emu run: eth0: fe80::5054:ff:fe12:3457/64 ready", text, StringComparison.Ordinal);
        Assert.Contains("emu run: stopped after", text, StringComparison.Ordinal);
        Assert.Contains("Icmp6OutEchoReplies", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VfioUserGuestExampleWorksAsWritten()
    {
        LinuxGuest.EnsureInstalled(["ethtool"]);
        List<string> commands = ExampleCommands("vfio-user-guest");
        Assert.Equal(2, commands.Count);
        string socket = Path.Combine(Path.GetTempPath(), $"emu-readme-{Guid.NewGuid():N}.sock");
        string deviceCommand = commands[0].Replace("/tmp/emu-e1000.sock", socket, StringComparison.Ordinal);
        string guestCommand = commands[1].Replace("/tmp/emu-e1000.sock", socket, StringComparison.Ordinal);
        const string runPrefix = "dotnet run --project Host -- ";
        Assert.StartsWith(runPrefix, deviceCommand, StringComparison.Ordinal);

        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "emu.dll"));
        foreach (string arg in deviceCommand[runPrefix.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            start.ArgumentList.Add(arg);
        }

        var deviceOut = new StringBuilder();
        using Process device = Process.Start(start)!;
        device.OutputDataReceived += (_, e) => { lock (deviceOut) { deviceOut.AppendLine(e.Data); } };
        device.ErrorDataReceived += (_, e) => { lock (deviceOut) { deviceOut.AppendLine(e.Data); } };
        device.BeginOutputReadLine();
        device.BeginErrorReadLine();
        string guestOut;
        try
        {
            var guestStart = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = RepoRoot() };
            guestStart.ArgumentList.Add("-c");
            guestStart.ArgumentList.Add(guestCommand.Replace("Tests/scripts/", Path.Combine(AppContext.BaseDirectory, "scripts") + "/", StringComparison.Ordinal));
            using Process guest = Process.Start(guestStart)!;
            Task<string> guestErr = guest.StandardError.ReadToEndAsync();
            guestOut = await guest.StandardOutput.ReadToEndAsync();
            Assert.True(guest.WaitForExit(240_000), "the guest did not finish");
            string err = await guestErr;
            _log.WriteLine(guestOut);
            Assert.True(guest.ExitCode == 0, guestOut + err + deviceOut);
        }
        finally
        {
            if (!device.HasExited)
            {
                using var kill = Process.Start("kill", ["-TERM", device.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
                kill.WaitForExit();
            }

            Assert.True(device.WaitForExit(30_000), "emu device did not stop on SIGTERM");
            File.Delete(socket);
        }

        Assert.Contains("The test result is PASS", guestOut, StringComparison.Ordinal);
        Assert.Contains("3 packets transmitted, 3 packets received, 0% packet loss", guestOut, StringComparison.Ordinal);
        Assert.Equal(0, device.ExitCode);
        lock (deviceOut)
        {
            Assert.Contains("emu device: client connected", deviceOut.ToString(), StringComparison.Ordinal);
        }
    }

    private static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}
