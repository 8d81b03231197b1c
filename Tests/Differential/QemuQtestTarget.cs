using System.Diagnostics;
using System.Text;

namespace Emu.Tests.Differential;

/// <summary>
/// The oracle: QEMU 11 in qtest mode with only virtual time (-accel qtest), the e1000 at 00:03.0 and no firmware,
/// started through Tests/scripts/qemu11.sh (which installs QEMU on first use). QEMU does not exit at end of input, so
/// each reply is read as it comes and the process is killed on dispose.
/// </summary>
public sealed class QemuQtestTarget : IQtestTarget
{
    private static readonly TimeSpan s_replyTimeout = TimeSpan.FromSeconds(30);
    private static readonly object s_installLock = new();
    private static string? s_installError;
    private static bool s_installed;

    private readonly Process _process;
    private readonly StringBuilder _stderr = new();

    /// <summary>The QEMU 11 oracle; with <paramref name="netdevSpec"/> its e1000 is on that netdev (id n0).</summary>
    public QemuQtestTarget(string mac = "52:54:00:12:34:56", string? netdevSpec = null)
        : this("bash", OracleArgs(mac, netdevSpec), oracle: true)
    {
    }

    /// <summary>Any QEMU command line that serves qtest on stdio.</summary>
    public QemuQtestTarget(string program, IReadOnlyList<string> args, bool oracle)
    {
        if (oracle)
        {
            EnsureInstalled();
        }

        var start = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException("could not start QEMU");
        _process.ErrorDataReceived += (_, e) =>
        {
            lock (_stderr)
            {
                _stderr.AppendLine(e.Data);
            }
        };
        _process.BeginErrorReadLine();
        _process.StandardInput.NewLine = "\n";
        _process.StandardInput.AutoFlush = true;
    }

    /// <summary>A netdev spec with QEMU's id=n0 inserted after its type.</summary>
    public static string WithId(string netdevSpec)
    {
        int comma = netdevSpec.IndexOf(',', StringComparison.Ordinal);
        return comma < 0 ? netdevSpec + ",id=n0" : netdevSpec[..comma] + ",id=n0" + netdevSpec[comma..];
    }

    private static List<string> OracleArgs(string mac, string? netdevSpec)
    {
        var args = new List<string> { ScriptPath };
        args.AddRange("-accel qtest -machine pc,pit=off -qtest stdio -qtest-log none -display none -nodefaults".Split(' '));
        args.Add("-device");
        if (netdevSpec is null)
        {
            args.Add($"e1000,addr=03.0,mac={mac}");
        }
        else
        {
            args.Add($"e1000,addr=03.0,mac={mac},netdev=n0");
            args.Add("-netdev");
            args.Add(WithId(netdevSpec));
        }

        return args;
    }

    public static string ScriptPath => Path.Combine(AppContext.BaseDirectory, "scripts", "qemu11.sh");

    /// <summary>Installs the oracle once per test run; a failure is a clear test failure, never a skip.</summary>
    public static void EnsureInstalled()
    {
        lock (s_installLock)
        {
            if (s_installed)
            {
                return;
            }

            if (s_installError is not null)
            {
                throw new InvalidOperationException(s_installError);
            }

            var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add(ScriptPath);
            start.ArgumentList.Add("--version");
            using Process process = Process.Start(start)!;
            string output = process.StandardOutput.ReadToEnd();
            string error = process.StandardError.ReadToEnd();
            if (!process.WaitForExit(TimeSpan.FromMinutes(10)) || process.ExitCode != 0 || !output.Contains("QEMU emulator version 11", StringComparison.Ordinal))
            {
                s_installError = $"The QEMU 11 oracle could not be installed or run ({ScriptPath}): {output} {error}";
                throw new InvalidOperationException(s_installError);
            }

            s_installed = true;
        }
    }

    public string Send(string command)
    {
        _process.StandardInput.WriteLine(command);
        var lines = new List<string>();
        while (true)
        {
            Task<string?> read = _process.StandardOutput.ReadLineAsync();
            if (!read.Wait(s_replyTimeout))
            {
                throw new TimeoutException($"QEMU gave no reply to '{command}' within {s_replyTimeout.TotalSeconds} s. stderr: {Stderr}");
            }

            string? line = read.Result ?? throw new InvalidOperationException($"QEMU exited after '{command}'. stderr: {Stderr}");
            lines.Add(line);
            if (!line.StartsWith("IRQ ", StringComparison.Ordinal))
            {
                return string.Join(" | ", lines);
            }
        }
    }

    private string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        _process.Dispose();
    }
}
