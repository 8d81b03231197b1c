using Emu.Emulator.E1000;
using Emu.Emulator.Instruments;
using Emu.Emulator.Machine;

namespace Emu.Host.Instruments;

/// <summary>
/// The instruments of one run (issue 20), opened from <see cref="InstrumentOptions"/>: the trace file, the probes on
/// the device and the stack, and what they say at exit. Every mode opens one and attaches what it runs.
/// </summary>
public sealed class InstrumentSession : IDisposable
{
    private readonly List<IDisposable> _owned = [];

    private InstrumentSession(InstrumentOptions options, EventScheduler clock)
    {
        Options = options;
        Clock = clock;
    }

    public InstrumentOptions Options { get; }

    public EventScheduler Clock { get; }

    /// <summary>The trace, when <c>--trace</c> or <c>--check</c> asked for one (checks write their warnings to it).</summary>
    public TraceWriter? Trace { get; private set; }

    public TraceCategory Categories { get; private set; }

    /// <summary>Opens the instruments; false after a one-line error (an unwritable file) on <paramref name="stderr"/>.</summary>
    public static bool TryOpen(InstrumentOptions options, EventScheduler clock, TextWriter stderr, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out InstrumentSession? session)
    {
        session = new InstrumentSession(options, clock);
        TraceCategory categories = TraceCategory.None;
        if (options.Trace is not null && !TraceCategories.TryParse(options.Trace, out categories, out string? error))
        {
            stderr.WriteLine($"emu: --trace '{options.Trace}': {error}.");
            session = null;
            return false;
        }

        session.Categories = categories;
        if (categories != TraceCategory.None || options.Check)
        {
            TextWriter output = stderr;
            bool owns = false;
            if (options.TraceFile is { } file)
            {
                try
                {
                    output = new StreamWriter(new FileStream(file.FullName, FileMode.Create, FileAccess.Write, FileShare.Read)) { AutoFlush = false };
                    owns = true;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    stderr.WriteLine($"emu: --trace-file {file.FullName}: {e.Message}");
                    session = null;
                    return false;
                }
            }

            session.Trace = new TraceWriter(output, clock, categories, owns);
            session._owned.Add(session.Trace);
        }

        return true;
    }

    /// <summary>The <c>--check</c> rules on the device, once attached.</summary>
    public DeviceChecker? Checker { get; private set; }

    /// <summary>Puts the device-level probes (trace, checks) on <paramref name="device"/>.</summary>
    public void AttachDevice(E1000Device device)
    {
        DeviceProbe? probe = null;
        if (Trace is { } trace && DeviceTracer.Covers(Categories))
        {
            probe = new DeviceTracer(device, trace);
        }

        if (Options.Check)
        {
            Checker = new DeviceChecker(device, Trace!);
            probe = DeviceProbe.Combine(probe, Checker);
        }

        device.Probe = probe;
    }

    /// <summary>Puts the stack-level probes (<c>--trace skb</c>) on a node's net core; <paramref name="name"/> tells nodes apart.</summary>
    public void AttachNode(Node node, string? name = null)
    {
        if (Trace is { } trace && trace.IsOn(TraceCategory.Skb))
        {
            node.Kernel.Net.SkbProbe = new SkbTracer(trace, name);
        }
    }

    /// <summary>
    /// Puts the stack-level probes on <paramref name="stack"/>: the <c>--tcp-trace</c> CSV on its TCP layer. False
    /// after a one-line error (an unwritable file) on <paramref name="stderr"/>.
    /// </summary>
    public bool TryAttachStack(Emu.Stack.Ipv6.Ipv6Stack stack, TextWriter stderr, string? name = null)
    {
        if (Trace is { } trace && trace.IsOn(TraceCategory.Tcp))
        {
            stack.Tcp.Probe = Emu.Stack.Tcp.TcpProbe.Combine(stack.Tcp.Probe, new TcpTracer(trace, name));
        }

        if (Options.TcpTrace is not { } file)
        {
            return true;
        }

        if (!TcpTraceCsv.TryCreate(file, stack.Clock, stderr, out TcpTraceCsv? csv))
        {
            return false;
        }

        _owned.Add(csv);
        stack.Tcp.Probe = Emu.Stack.Tcp.TcpProbe.Combine(stack.Tcp.Probe, csv);
        return true;
    }

    /// <summary>What the instruments say at exit (the checks' summary); nothing when they have nothing to say.</summary>
    public void WriteSummary(TextWriter output)
    {
        // With --summary json the checks are in the JSON object ("checks"): no text line after it.
        Checker?.Finish(Options.Summary == SummaryFormat.Json ? TextWriter.Null : output);
        Trace?.Flush();
        output.Flush();
    }

    public void Dispose()
    {
        foreach (IDisposable item in _owned)
        {
            item.Dispose();
        }

        _owned.Clear();
    }
}
