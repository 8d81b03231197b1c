using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Emu.Tests.Interop;

/// <summary>How the guest's NIC reaches the wire: the QEMU netdev (or vfio-user device) of Tests/scripts/linux-guest.sh.</summary>
public enum LinuxGuestAttachment
{
    /// <summary><c>-netdev socket,connect=H:P</c>: QEMU connects to a listening peer (waited for, if on loopback).</summary>
    Connect,

    /// <summary><c>-netdev socket,listen=H:P</c>: QEMU listens for one peer.</summary>
    Listen,

    /// <summary><c>-netdev stream,server=off</c> over a Unix socket path (QEMU connects; the path is waited for).</summary>
    Unix,

    /// <summary><c>-netdev dgram</c>: address is "localH:P,remoteH:P" (UDP).</summary>
    Dgram,

    /// <summary>QEMU 11's <c>vfio-user-pci</c>: the NIC is the PCI device served on that Unix socket (no QEMU e1000).</summary>
    VfioUser,
}

/// <summary>What <see cref="LinuxGuest"/> boots: the attachment, the e1000's MAC, host tools and kernel modules to bring along.</summary>
public sealed record LinuxGuestOptions
{
    public required LinuxGuestAttachment Attachment { get; init; }

    /// <summary>H:P, a Unix socket path, or "local,remote" for <see cref="LinuxGuestAttachment.Dgram"/>.</summary>
    public required string Address { get; init; }

    /// <summary>The QEMU e1000's MAC (its link-local address is the EUI-64 of it); null: the script's 52:54:00:12:34:56.</summary>
    public string? Mac { get; init; }

    /// <summary>A pcap file QEMU writes of the netdev's traffic (not with vfio-user).</summary>
    public string? Pcap { get; init; }

    /// <summary>Host programs copied into the guest's /sbin with their libraries (installed from Debian if missing), e.g. ethtool.</summary>
    public IReadOnlyList<string> Tools { get; init; } = [];

    /// <summary>Guest kernel modules loaded (after their dependencies) before the commands, e.g. sch_netem.</summary>
    public IReadOnlyList<string> Modules { get; init; } = [];

    /// <summary>Host files copied into the guest's /bin.</summary>
    public IReadOnlyList<string> Files { get; init; } = [];

    /// <summary>With vfio-user: plain guest RAM (no shared memfd), so all device DMA goes through DMA_READ/DMA_WRITE messages.</summary>
    public bool NoSharedRam { get; init; }

    /// <summary>QEMU's human monitor on this Unix socket path (e.g. for system_reset).</summary>
    public string? Monitor { get; init; }

    /// <summary>A reset reboots the guest (which runs the commands again) instead of ending the run.</summary>
    public bool AllowReboot { get; init; }

    public static LinuxGuestOptions Connect(string hostPort) => new() { Attachment = LinuxGuestAttachment.Connect, Address = hostPort };

    public static LinuxGuestOptions Listen(string hostPort) => new() { Attachment = LinuxGuestAttachment.Listen, Address = hostPort };

    public static LinuxGuestOptions Unix(string path) => new() { Attachment = LinuxGuestAttachment.Unix, Address = path };

    public static LinuxGuestOptions Dgram(string local, string remote) => new() { Attachment = LinuxGuestAttachment.Dgram, Address = $"{local},{remote}" };

    public static LinuxGuestOptions VfioUser(string socketPath) => new() { Attachment = LinuxGuestAttachment.VfioUser, Address = socketPath };

    internal IEnumerable<string> ScriptArguments(TimeSpan timeout)
    {
        yield return Attachment switch
        {
            LinuxGuestAttachment.Connect => "--connect",
            LinuxGuestAttachment.Listen => "--listen",
            LinuxGuestAttachment.Unix => "--unix",
            LinuxGuestAttachment.Dgram => "--dgram",
            LinuxGuestAttachment.VfioUser => "--vfio-user",
            _ => throw new InvalidOperationException($"unknown attachment {Attachment}"),
        };
        yield return Address;
        if (Mac is not null)
        {
            yield return "--mac";
            yield return Mac;
        }

        if (Pcap is not null)
        {
            yield return "--pcap";
            yield return Pcap;
        }

        foreach (string tool in Tools)
        {
            yield return "--tool";
            yield return tool;
        }

        foreach (string module in Modules)
        {
            yield return "--module";
            yield return module;
        }

        foreach (string file in Files)
        {
            yield return "--file";
            yield return file;
        }

        if (NoSharedRam)
        {
            yield return "--no-shared-ram";
        }

        if (Monitor is not null)
        {
            yield return "--monitor";
            yield return Monitor;
        }

        if (AllowReboot)
        {
            yield return "--allow-reboot";
        }

        yield return "--timeout";
        yield return ((int)Math.Ceiling(timeout.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
    }
}

/// <summary>A finished (or abandoned) guest run.</summary>
public sealed record LinuxGuestResult
{
    /// <summary>The commands' exit status; 124 when they did not finish (timeout, panic, QEMU failure, killed); 2 for a setup error.</summary>
    public required int ExitCode { get; init; }

    /// <summary>The commands' stdout and stderr, exactly (between the script's BEGIN and END markers), "\n" line ends.</summary>
    public required string Output { get; init; }

    /// <summary>The guest's console (kernel log at the quiet level, init's EMU-GUEST lines) and the script's own messages.</summary>
    public required string BootLog { get; init; }

    /// <summary>The guest reached the END marker: <see cref="ExitCode"/> is the commands' own status.</summary>
    public required bool Finished { get; init; }

    /// <summary>The test-side deadline passed and the process tree was killed.</summary>
    public required bool TimedOut { get; init; }

    public required TimeSpan Elapsed { get; init; }

    /// <summary>Everything, for an assertion message.</summary>
    public override string ToString() =>
        $"Linux guest: exit {ExitCode} after {Elapsed.TotalSeconds:F1} s{(TimedOut ? " (killed at the test's deadline)" : string.Empty)}" +
        $"{(Finished ? string.Empty : " (its commands did not finish)")}\n--- output ---\n{Output}--- boot log ---\n{BootLog}";
}

/// <summary>
/// A real Linux guest (Debian bookworm's kernel and e1000 driver, busybox) under QEMU, through Tests/scripts/linux-guest.sh:
/// <see cref="Run"/> boots it, runs shell commands and returns their output and status; <see cref="Start"/> does the
/// same in the background, for tests that serve the guest's wire meanwhile. The Debian packages it needs are installed
/// on first use (<see cref="EnsureInstalled"/>, outside the run's deadline); failures are clear test failures, not skips.
/// Boots in about 10 s with TCG (no KVM here).
/// </summary>
public sealed class LinuxGuest : IDisposable
{
    /// <summary>
    /// The xunit collection of every test class that boots guests: they run one at a time, as two TCG guests on a
    /// 2-core machine already compete with the test itself (and vfio-user's replies have a deadline).
    /// </summary>
    public const string Collection = "Linux guests";

    public const string BeginMarker = "=== EMU-GUEST-BEGIN ===";
    public const string EndMarkerPrefix = "=== EMU-GUEST-END rc=";

    /// <summary>The time the script gets, beyond the guest's own timeout, to kill QEMU and clean up before the tree is killed.</summary>
    private static readonly TimeSpan s_grace = TimeSpan.FromSeconds(15);
    private static readonly object s_installLock = new();
    private static readonly HashSet<string> s_installed = [];
    private static readonly Dictionary<string, string> s_installErrors = [];

    private readonly Process _process;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly object _lock = new();
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _bootLog = new();
    private readonly StringBuilder _stray = new();
    private readonly Task<LinuxGuestResult> _completion;
    private bool _begun;
    private int? _endCode;

    private LinuxGuest(LinuxGuestOptions options, string commands, TimeSpan timeout)
    {
        var start = new ProcessStartInfo("bash")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(ScriptPath);
        foreach (string arg in options.ScriptArguments(timeout))
        {
            start.ArgumentList.Add(arg);
        }

        start.ArgumentList.Add("--");
        start.ArgumentList.Add(commands);

        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) => OnOutput(e.Data);
        _process.ErrorDataReceived += (_, e) => OnBootLog(e.Data);
        _process.Start();
        _process.StandardInput.Close();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        _completion = MonitorAsync(timeout + s_grace);
    }

    public static string ScriptPath => Path.Combine(AppContext.BaseDirectory, "scripts", "linux-guest.sh");

    /// <summary>The finished run; completes when the guest has powered off, failed, or been killed at the deadline.</summary>
    public Task<LinuxGuestResult> Completion => _completion;

    /// <summary>Boots a guest, runs <paramref name="commands"/> (busybox sh) in it and waits for them (and the power-off).</summary>
    public static LinuxGuestResult Run(LinuxGuestOptions options, string commands, TimeSpan timeout)
    {
        using LinuxGuest guest = Start(options, commands, timeout);
        return guest.Wait();
    }

    /// <summary>
    /// Starts a guest in the background. <paramref name="timeout"/> bounds the run (the script kills QEMU then); a little
    /// later the whole process tree is killed. Dispose kills a guest still running. Package installs happen before, untimed.
    /// </summary>
    public static LinuxGuest Start(LinuxGuestOptions options, string commands, TimeSpan timeout)
    {
        EnsureInstalled(options.Tools);
        if (options.Attachment == LinuxGuestAttachment.VfioUser)
        {
            Differential.QemuQtestTarget.EnsureInstalled();   // QEMU 11 (Tests/scripts/qemu11.sh), the vfio-user client
        }

        return new LinuxGuest(options, commands, timeout);
    }

    /// <summary>
    /// Installs the guest's Debian packages (QEMU 7.2, the kernel, busybox-static) and those of <paramref name="tools"/>,
    /// once per test run, with no deadline of the guest's own (apt-get can take a minute). Needs root and the registry.
    /// </summary>
    public static void EnsureInstalled(IReadOnlyList<string>? tools = null)
    {
        tools ??= [];
        string key = string.Join(' ', tools.Order(StringComparer.Ordinal));
        lock (s_installLock)
        {
            if (s_installed.Contains(key))
            {
                return;
            }

            if (s_installErrors.TryGetValue(key, out string? error))
            {
                throw new InvalidOperationException(error);
            }

            var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
            start.ArgumentList.Add(ScriptPath);
            start.ArgumentList.Add("--install");
            foreach (string tool in tools)
            {
                start.ArgumentList.Add("--tool");
                start.ArgumentList.Add(tool);
            }

            using Process process = Process.Start(start)!;
            process.StandardInput.Close();
            Task<string> stdout = process.StandardOutput.ReadToEndAsync();
            Task<string> stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromMinutes(10)))
            {
                process.Kill(entireProcessTree: true);
                s_installErrors[key] = $"Installing the Linux guest's packages ({ScriptPath} --install) took over 10 minutes";
                throw new InvalidOperationException(s_installErrors[key]);
            }

            if (process.ExitCode != 0)
            {
                s_installErrors[key] = $"The Linux guest's packages could not be installed ({ScriptPath} --install, exit {process.ExitCode}): {stdout.Result}{stderr.Result}";
                throw new InvalidOperationException(s_installErrors[key]);
            }

            s_installed.Add(key);
        }
    }

    /// <summary>Waits for the run to end (the deadline was given to <see cref="Start"/>).</summary>
    public LinuxGuestResult Wait() => _completion.GetAwaiter().GetResult();

    /// <summary>Waits for the run to end, or for <paramref name="timeout"/> (then a <see cref="TimeoutException"/>).</summary>
    public Task<LinuxGuestResult> WaitAsync(TimeSpan timeout) => _completion.WaitAsync(timeout);

    /// <summary>The commands' output so far.</summary>
    public string OutputSoFar
    {
        get
        {
            lock (_lock)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Whether the guest has booted and its commands have started (the BEGIN marker came).</summary>
    public bool CommandsStarted
    {
        get
        {
            lock (_lock)
            {
                return _begun;
            }
        }
    }

    /// <summary>Waits until the commands' output contains <paramref name="text"/>; false at the timeout or when the guest ended without it.</summary>
    public bool WaitForOutput(string text, TimeSpan timeout) => WaitFor(() => _output.ToString().Contains(text, StringComparison.Ordinal), timeout);

    /// <summary>Waits until the guest has booted (eth0's link-local address is past DAD) and runs the commands.</summary>
    public bool WaitUntilCommandsStarted(TimeSpan timeout) => WaitFor(() => _begun, timeout);

    /// <summary>Ends the guest now (the script's cleanup first, then the process tree); <see cref="Completion"/> then completes.</summary>
    public void Kill() => Terminate();

    public void Dispose()
    {
        if (!_completion.IsCompleted)
        {
            Terminate();
            _completion.Wait(TimeSpan.FromSeconds(30));
        }

        _process.Dispose();
    }

    private bool WaitFor(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        lock (_lock)
        {
            while (!condition())
            {
                TimeSpan left = timeout - deadline.Elapsed;
                if (left <= TimeSpan.Zero || _completion.IsCompleted)
                {
                    return condition();
                }

                Monitor.Wait(_lock, left < TimeSpan.FromMilliseconds(200) ? left : TimeSpan.FromMilliseconds(200));
            }

            return true;
        }
    }

    private void OnOutput(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_lock)
        {
            if (!_begun)
            {
                if (line == BeginMarker)
                {
                    _begun = true;
                }
                else
                {
                    _stray.AppendLine(line);
                }
            }
            else if (_endCode is null && line.StartsWith(EndMarkerPrefix, StringComparison.Ordinal) && line.EndsWith(" ===", StringComparison.Ordinal)
                && int.TryParse(line.AsSpan(EndMarkerPrefix.Length, line.Length - EndMarkerPrefix.Length - 4), NumberStyles.None, CultureInfo.InvariantCulture, out int code))
            {
                _endCode = code;
            }
            else if (_endCode is null)
            {
                _output.Append(line).Append('\n');
            }
            else
            {
                _stray.AppendLine(line);
            }

            Monitor.PulseAll(_lock);
        }
    }

    private void OnBootLog(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_lock)
        {
            _bootLog.Append(line).Append('\n');
        }
    }

    private async Task<LinuxGuestResult> MonitorAsync(TimeSpan deadline)
    {
        bool timedOut = false;
        using (var cts = new CancellationTokenSource(deadline))
        {
            try
            {
                await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                timedOut = true;
                Terminate();
            }
        }

        if (timedOut)
        {
            // After the kill, give the pipes a moment to reach end of file; never hang on them.
            using var drain = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await _process.WaitForExitAsync(drain.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }

        lock (_lock)
        {
            if (timedOut)
            {
                _bootLog.Append(CultureInfo.InvariantCulture, $"LinuxGuest: no end within the test's deadline of {deadline.TotalSeconds:F0} s: process tree killed\n");
            }

            if (_stray.Length > 0)
            {
                _bootLog.Append("LinuxGuest: stdout outside the markers:\n").Append(_stray);
            }

            int exitCode = _process.HasExited ? _process.ExitCode : 124;
            bool finished = _endCode is not null;
            var result = new LinuxGuestResult
            {
                ExitCode = finished ? _endCode!.Value : (exitCode == 2 && !timedOut ? 2 : 124),
                Output = _output.ToString(),
                BootLog = _bootLog.ToString(),
                Finished = finished,
                TimedOut = timedOut,
                Elapsed = _clock.Elapsed,
            };
            Monitor.PulseAll(_lock);
            return result;
        }
    }

    /// <summary>SIGTERM to the script (its trap stops QEMU and removes its temporary folder), then SIGKILL to what is left.</summary>
    private void Terminate()
    {
        try
        {
            if (_process.HasExited)
            {
                return;
            }

            using (Process? kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", _process.Id.ToString(CultureInfo.InvariantCulture) }, UseShellExecute = false }))
            {
                kill?.WaitForExit(TimeSpan.FromSeconds(5));
            }

            if (!_process.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // exited meanwhile
        }
    }
}
