using System.CommandLine;
using Emu.Emulator.Instruments;

namespace Emu.Host.Instruments;

/// <summary>How the summary printed at exit is written.</summary>
public enum SummaryFormat
{
    Text,
    Json,
}

/// <summary>
/// The driver developer's instruments (issue 20), as every mode (`emu run`, `emu device`, `emu qtest`) takes them:
/// named traces, misuse checks, live status, counters as JSON and the TCP trace.
/// </summary>
public sealed class InstrumentOptions
{
    /// <summary>The <c>--trace</c> list as given (null: no trace).</summary>
    public string? Trace { get; init; }

    /// <summary><c>--trace-file</c> (null: standard error).</summary>
    public FileInfo? TraceFile { get; init; }

    /// <summary><c>--check</c>: warn about what the 8254x manual forbids.</summary>
    public bool Check { get; init; }

    /// <summary><c>--quiet</c>: no live status view.</summary>
    public bool Quiet { get; init; }

    /// <summary><c>--stats-json FILE|-</c>: every counter as JSON lines.</summary>
    public string? StatsJson { get; init; }

    /// <summary><c>--stats-interval SECONDS</c> between JSON lines.</summary>
    public double StatsInterval { get; init; } = 1.0;

    /// <summary><c>--summary text|json</c>.</summary>
    public SummaryFormat Summary { get; init; }

    /// <summary><c>--tcp-trace FILE.csv</c>: one row per TCP event.</summary>
    public FileInfo? TcpTrace { get; init; }

    public static InstrumentOptions None { get; } = new();
}

/// <summary>The command-line options behind <see cref="InstrumentOptions"/>, added to one command.</summary>
public sealed class InstrumentCommandOptions
{
    private readonly Option<string?> _trace = new("--trace")
    {
        HelpName = "LIST",
        Description = "Trace events, comma-separated: regs, eeprom, phy, desc, dma, irq, wire, skb, tcp, or all; one decoded line each with the virtual time.",
    };

    private readonly Option<FileInfo?> _traceFile = new("--trace-file")
    {
        HelpName = "FILE",
        Description = "Write the trace to FILE (default: standard error).",
    };

    private readonly Option<bool> _check = new("--check")
    {
        Description = "Warn (one line each, with the manual's section) about what the 8254x manual forbids or warns against; counted and summarised at exit.",
    };

    private readonly Option<bool> _quiet = new("--quiet")
    {
        Description = "No live status view on the terminal.",
    };

    private readonly Option<string?> _statsJson = new("--stats-json")
    {
        HelpName = "FILE",
        Description = "Write every counter as JSON lines to FILE (- for standard output) every --stats-interval seconds.",
    };

    private readonly Option<double> _statsInterval = new("--stats-interval")
    {
        HelpName = "SECONDS",
        Description = "Seconds between --stats-json lines (default 1).",
        DefaultValueFactory = _ => 1.0,
    };

    private readonly Option<SummaryFormat> _summary = new("--summary")
    {
        HelpName = "FORMAT",
        Description = "The summary at exit: Text (default) or Json (every counter, as --stats-json writes them).",
        DefaultValueFactory = _ => SummaryFormat.Text,
    };

    private readonly Option<FileInfo?> _tcpTrace = new("--tcp-trace")
    {
        HelpName = "FILE",
        Description = "Write one CSV row per TCP event (state, snd_una, snd_nxt, cwnd, ssthresh, srtt, rto, in flight, ...); draw it with emu plot tcp.",
    };

    private readonly bool _node;

    private InstrumentCommandOptions(bool node)
    {
        _node = node;
    }

    /// <summary>Adds the options to <paramref name="command"/>; <paramref name="node"/>: whether it runs a stack (TCP trace).</summary>
    public static InstrumentCommandOptions AddTo(Command command, bool node)
    {
        var options = new InstrumentCommandOptions(node);
        command.Options.Add(options._trace);
        command.Options.Add(options._traceFile);
        command.Options.Add(options._check);
        command.Options.Add(options._quiet);
        command.Options.Add(options._statsJson);
        command.Options.Add(options._statsInterval);
        command.Options.Add(options._summary);
        if (node)
        {
            command.Options.Add(options._tcpTrace);
        }

        return options;
    }

    /// <summary>Reads and validates the options; false after a one-line error on <paramref name="stderr"/>.</summary>
    public bool TryRead(ParseResult parse, TextWriter stderr, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out InstrumentOptions? options)
    {
        options = null;
        string? trace = parse.GetValue(_trace);
        if (trace is not null && !TraceCategories.TryParse(trace, out _, out string? error))
        {
            stderr.WriteLine($"emu: --trace '{trace}': {error}.");
            return false;
        }

        double interval = parse.GetValue(_statsInterval);
        if (!(interval >= 0.01 && interval <= 86_400))
        {
            stderr.WriteLine("emu: --stats-interval takes a number of seconds from 0.01 to 86400.");
            return false;
        }

        options = new InstrumentOptions
        {
            Trace = trace,
            TraceFile = parse.GetValue(_traceFile),
            Check = parse.GetValue(_check),
            Quiet = parse.GetValue(_quiet),
            StatsJson = parse.GetValue(_statsJson),
            StatsInterval = interval,
            Summary = parse.GetValue(_summary),
            TcpTrace = _node ? parse.GetValue(_tcpTrace) : null,
        };
        return true;
    }
}
