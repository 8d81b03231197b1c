using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Emu.Emulator.Machine;
using Emu.Emulator.VfioUser;
using Emu.Emulator.Wire;
using Microsoft.Extensions.Logging.Abstractions;

namespace Emu.Host.Bench;

/// <summary>
/// <c>emu bench vfio-user</c>: the same Linux guest twice on this machine — once on QEMU's built-in e1000 (a socket
/// netdev to an Emu node, as `emu run`), once on Emu's 82540EM over vfio-user (with the same kind of node on its wire) —
/// sending one TCP stream to the node's discard service; goodput of both, their ratio, and our register round trips
/// (the gaps between back-to-back BAR accesses during Linux's ethtool register test). Needs Tests/scripts/linux-guest.sh
/// (QEMU 11 and the guest are installed by it on first use).
/// </summary>
public static partial class VfioUserBench
{
    private const string NodeAddress = "fe80::5054:ff:fe12:3457";

    public sealed record Result(double BuiltInMbps, double OursMbps, double ReadMicroseconds, double PostedWriteMicroseconds, int Reads, int Writes, double ReadServiceMicroseconds)
    {
        public double Ratio => OursMbps / BuiltInMbps;
    }

    public static string? FindScript()
    {
        for (string? dir = AppContext.BaseDirectory; dir is not null; dir = Path.GetDirectoryName(dir))
        {
            foreach (string candidate in new[] { Path.Combine(dir, "scripts", "linux-guest.sh"), Path.Combine(dir, "Tests", "scripts", "linux-guest.sh") })
            {
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        string cwd = Path.Combine(Directory.GetCurrentDirectory(), "Tests", "scripts", "linux-guest.sh");
        return File.Exists(cwd) ? cwd : null;
    }

    private static string Commands(int megabytes, bool selfTest) => $"""
        i=0; while [ $i -lt 50 ] && ! ping6 -c 1 -W 1 {NodeAddress}%eth0 >/dev/null 2>&1; do sleep 0.2; i=$((i+1)); done
        s=$(cut -d' ' -f1 /proc/uptime)
        dd if=/dev/zero bs=1M count={megabytes} 2>/dev/null | socat -u - 'TCP6:[{NodeAddress}%eth0]:9'
        e=$(cut -d' ' -f1 /proc/uptime)
        echo "BENCH {megabytes} $s $e"
        {(selfTest ? "ethtool -t eth0 offline >/dev/null; echo SELFTEST-DONE" : string.Empty)}
        """;

    [GeneratedRegex(@"BENCH (\d+) ([\d.]+) ([\d.]+)")]
    private static partial Regex BenchLine();

    /// <summary>
    /// <paramref name="rounds"/> alternating runs of each guest (this machine's timings vary from run to run); the median
    /// goodput of each, and the register timings of our last run.
    /// </summary>
    public static Result Run(int megabytes, int rounds, TextWriter log)
    {
        string script = FindScript() ?? throw new FileNotFoundException("Tests/scripts/linux-guest.sh not found (run from the repository, or from the test output folder)");
        var builtIn = new List<double>();
        var ours = new List<double>();
        AccessTiming? timing = null;
        for (int round = 0; round < rounds; round++)
        {
            builtIn.Add(BuiltInRun(script, megabytes, log));
            (double mbps, AccessTiming t) = OurRun(script, megabytes, log);
            ours.Add(mbps);
            timing = t;
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  round {round + 1}: built-in {builtIn[^1]:F0} Mbit/s, ours {mbps:F0} Mbit/s ({mbps / builtIn[^1]:F2})"));
        }

        builtIn.Sort();
        ours.Sort();
        return new Result(builtIn[builtIn.Count / 2], ours[ours.Count / 2], timing!.MedianReadMicroseconds, timing.MedianPostedWriteMicroseconds, timing.Reads, timing.PostedWrites, timing.MedianReadServiceMicroseconds);
    }

    /// <summary>QEMU's e1000 on a socket netdev, an Emu node (emu run's) at the other end.</summary>
    private static double BuiltInRun(string script, int megabytes, TextWriter log)
    {
        int port = FreePort();
        var runner = new NodeRunner(TextWriter.Null);
        NetdevSpec.TryParse($"socket,listen=127.0.0.1:{port}", out NetdevSpec? spec, out _);
        var nodeThread = new Thread(() => runner.Run(new MachineOptions { Mac = System.Net.NetworkInformation.PhysicalAddress.Parse("52-54-00-12-34-57") }, spec!, null, CaptureFormat.PcapNg, TimeSpan.FromMinutes(10), NullLoggerFactory.Instance, CancellationToken.None))
        {
            IsBackground = true,
        };
        nodeThread.Start();
        runner.Started.Wait(TimeSpan.FromSeconds(60));
        string output = Guest(script, ["--connect", $"127.0.0.1:{port}", "--tool", "socat"], Commands(megabytes, selfTest: false), log);
        runner.Stop();
        nodeThread.Join(TimeSpan.FromSeconds(30));
        return Mbps(output);
    }

    /// <summary>Emu's device over vfio-user, an Emu node on its wire; then Linux's register test for the timings.</summary>
    private static (double Mbps, AccessTiming Timing) OurRun(string script, int megabytes, TextWriter log)
    {
        string socket = Path.Combine(Path.GetTempPath(), $"emu-bench-{Environment.ProcessId}.sock");
        var device = new DeviceRunner(TextWriter.Null);
        var deviceThread = new Thread(() => device.Run(socket, new MachineOptions(), null, null, CaptureFormat.PcapNg, TimeSpan.FromMinutes(10), NullLoggerFactory.Instance, CancellationToken.None))
        {
            IsBackground = true,
        };
        deviceThread.Start();
        device.Started.Wait(TimeSpan.FromSeconds(60));
        string output = Guest(script, ["--vfio-user", socket, "--tool", "socat", "--tool", "ethtool"], Commands(megabytes, selfTest: true), log);
        AccessTiming timing = device.Server!.Timing;
        device.Stop();
        deviceThread.Join(TimeSpan.FromSeconds(30));
        File.Delete(socket);
        return (Mbps(output), timing);
    }

    private static double Mbps(string output)
    {
        Match m = BenchLine().Match(output);
        if (!m.Success)
        {
            throw new InvalidOperationException("the guest's transfer did not finish:\n" + output);
        }

        double mb = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        double seconds = double.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture) - double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
        return mb * 8 * 1.048576 / Math.Max(seconds, 0.01);
    }

    private static string Guest(string script, string[] options, string commands, TextWriter log)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(script);
        foreach (string o in options)
        {
            start.ArgumentList.Add(o);
        }

        start.ArgumentList.Add("--timeout");
        start.ArgumentList.Add("600");
        start.ArgumentList.Add("--");
        start.ArgumentList.Add(commands);
        using Process p = Process.Start(start)!;
        Task<string> err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            log.WriteLine(err.GetAwaiter().GetResult());
        }

        return output;
    }

    private static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}
