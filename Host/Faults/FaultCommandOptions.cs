using System.CommandLine;
using System.Globalization;
using Emu.Emulator.Faults;
using Microsoft.Extensions.Logging;

namespace Emu.Host.Faults;

/// <summary>
/// The fault-injection options every mode takes (issue 21): <c>--fault SPEC</c> (repeatable), <c>--faults FILE</c> (a
/// JSON array of objects with a SPEC's keys, <c>"kind"</c> the kind) and <c>--seed N</c>. Everything is parsed before
/// anything runs: bad input is a one-line error naming the key and exit status 2.
/// </summary>
public sealed class FaultCommandOptions
{
    private readonly Option<string[]> _fault = new("--fault")
    {
        HelpName = "SPEC",
        Description = "Arm a fault: KIND[,key=value]... (wire: loss, loss-ge, loss-4state, corrupt, duplicate, reorder, delay, rate, slot, truncate, link-flap; triggers prob, nth, only, times, after, until, dir; filters ethertype, proto, port, len, tcpflags). Repeatable.",
        Arity = ArgumentArity.ZeroOrMore,
    };

    private readonly Option<FileInfo?> _faults = new("--faults")
    {
        HelpName = "FILE",
        Description = "Arm the faults of a JSON plan: an array of objects with a SPEC's keys, \"kind\" the kind.",
    };

    private readonly Option<string?> _seed = new("--seed")
    {
        HelpName = "N",
        Description = "Seed of the fault plan's generators (default: a fresh seed, printed at start), so a run can be repeated.",
    };

    private readonly Option<FileInfo?> _control = new("--control")
    {
        HelpName = "PATH",
        Description = "Listen on the Unix socket PATH for live fault control (JSON lines: arm, disarm, list, counters; the client: emu fault --control PATH ...).",
    };

    private FaultCommandOptions()
    {
    }

    /// <summary>The <c>--control</c> socket path read by <see cref="TryRead"/>, or null.</summary>
    public string? ControlPath { get; private set; }

    /// <summary>Adds the options; <paramref name="control"/>: the command runs a loop a control socket can post to.</summary>
    public static FaultCommandOptions AddTo(Command command, bool control = false)
    {
        var options = new FaultCommandOptions();
        command.Options.Add(options._fault);
        command.Options.Add(options._faults);
        command.Options.Add(options._seed);
        if (control)
        {
            command.Options.Add(options._control);
        }

        return options;
    }

    /// <summary>
    /// Reads the options into a plan (null when no fault is given); false after a one-line error on
    /// <paramref name="stderr"/>. Reading the plan file is the only I/O.
    /// </summary>
    public bool TryRead(ParseResult parse, TextWriter stderr, out FaultPlan? plan)
    {
        plan = null;
        string[] specs = parse.GetValue(_fault) ?? [];
        FileInfo? file = parse.GetValue(_faults);
        string? seedText = parse.GetValue(_seed);
        int seed;
        if (seedText is null)
        {
            seed = Random.Shared.Next();
        }
        else if (!int.TryParse(seedText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out seed))
        {
            stderr.WriteLine($"emu: --seed '{seedText}' is not a whole number (-2147483648 to 2147483647).");
            return false;
        }

        string? json = null;
        if (file is not null)
        {
            try
            {
                json = File.ReadAllText(file.FullName);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                stderr.WriteLine($"emu: --faults {file.FullName}: {e.Message}");
                return false;
            }
        }

        FileInfo? control = parse.GetValue(_control);
        if (control is not null && control.Directory is { Exists: false })
        {
            stderr.WriteLine($"emu: --control {control.FullName}: no such directory.");
            return false;
        }

        ControlPath = control?.FullName;
        if (specs.Length == 0 && json is null)
        {
            // With a control socket, an empty plan to arm into while the node runs.
            plan = control is null ? null : new FaultPlan(seed);
            return true;
        }

        if (!FaultPlan.TryCreate(seed, specs, json, out plan, out string? error))
        {
            stderr.WriteLine($"emu: {error}.");
            return false;
        }

        return true;
    }

    /// <summary>Starts the control socket on <paramref name="path"/> (if any) for <paramref name="plan"/>; false after a one-line error.</summary>
    public static bool TryStartControl(string? path, FaultPlan? plan, Func<Action, bool> post, Emu.Emulator.E1000.E1000Statistics statistics, TextWriter stderr, TextWriter output, out ControlSocket? control)
    {
        control = null;
        if (path is null || plan is null)
        {
            return true;
        }

        if (!ControlSocket.TryStart(path, plan, post, statistics, out control, out string? error))
        {
            stderr.WriteLine($"emu: {error}.");
            return false;
        }

        output.WriteLine($"emu: fault control on {path} (emu fault --control {path} arm SPEC | disarm ID | list | counters)");
        return true;
    }

    /// <summary>Attaches <paramref name="plan"/> (if any) to the device and prints its start lines; the one call a runner makes.</summary>
    public static FaultInjector? Attach(Emu.Emulator.E1000.E1000Device device, FaultPlan? plan, ILoggerFactory loggers, TextWriter output)
    {
        if (plan is null)
        {
            return null;
        }

        WriteStart(plan, output);
        return FaultInjector.Attach(device, plan, loggers.CreateLogger("Emu.Faults"));
    }

    /// <summary>The start line: the seed (to repeat the run) and each fault armed.</summary>
    public static void WriteStart(FaultPlan plan, TextWriter writer)
    {
        writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"emu: faults armed, seed {plan.Seed} (repeat with --seed {plan.Seed})"));
        foreach (Fault fault in plan.Faults)
        {
            writer.WriteLine($"  {fault.Label,-24} {fault.Spec.Text}");
        }

        writer.Flush();
    }

    /// <summary>The exit summary: every fault, how often it was eligible and fired, and the wire queue's drops.</summary>
    public static void WriteSummary(FaultInjector? injector, TextWriter writer)
    {
        if (injector is null)
        {
            return;
        }

        FaultPlan plan = injector.Plan;
        writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  faults    seed {plan.Seed}; wire queue overflows {injector.Wire.QueueOverflows}"));
        foreach (Fault fault in plan.Faults)
        {
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"            {fault.Label}: fired {fault.Fired}  [{fault.Spec.Text}]  (of {fault.Eligible} eligible{(fault.Armed ? string.Empty : "; disarmed")})"));
        }

        writer.Flush();
    }
}
