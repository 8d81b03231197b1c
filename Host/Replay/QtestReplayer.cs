using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
using Emu.Emulator.E1000;
using Emu.Emulator.Faults;
using Emu.Emulator.Machine;
using Emu.Emulator.Qtest;
using Emu.Emulator.Replay;
using Emu.Emulator.Wire;
using Microsoft.Extensions.Logging;

namespace Emu.Host.Replay;

/// <summary>
/// <c>emu replay</c> of an <c>emu qtest</c> trace: rebuilds the machine from the header, then feeds a
/// <see cref="QtestServer"/> the recorded command lines and the e1000 the recorded frames and carrier changes, in
/// trace order, and checks every digest of the protocol's replies (IRQ lines included) and of the frames sent. In
/// qtest virtual time moves only by <c>clock_step</c> and <c>clock_set</c>, so a command is processed at whatever
/// time the replay has reached; a record whose recorded time is not that time is itself a divergence.
/// </summary>
public sealed class QtestReplayer
{
    private readonly TextWriter _out;
    private readonly CultureInfo _c = CultureInfo.InvariantCulture;

    public QtestReplayer(TextWriter output)
    {
        _out = output;
    }

    /// <summary>Outputs checked; set after <see cref="Run"/>.</summary>
    public long DigestsChecked { get; private set; }

    /// <summary>The machine after <see cref="Run"/> (for tests).</summary>
    public PcMachine? Machine { get; private set; }

    /// <summary>The header for a qtest machine about to serve its first command.</summary>
    public static TraceHeader Header(PcMachine machine, IReadOnlyList<string> commandLine, FaultPlan? plan, string? netdev) => new()
    {
        EmuVersion = typeof(QtestReplayer).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "",
        Mode = "qtest",
        CommandLine = commandLine,
        Eeprom = machine.Nic.Eeprom.Image.Words.ToArray(),
        FaultSeed = plan?.Seed,
        Faults = plan is null ? [] : plan.Faults.Select(f => f.Spec.Text).ToList(),
        Netdev = netdev,
        DigestIntervalNs = SessionRecorder.DefaultDigestIntervalNs,
    };

    /// <summary>The machine's counters as the End record keeps them: the e1000's statistics and the virtual time.</summary>
    public static string Counters(PcMachine machine)
    {
        var text = new StringBuilder();
        DeviceCounters.Append(text, machine.Nic.Statistics);
        text.Append(CultureInfo.InvariantCulture, $"virtual time {machine.Scheduler.Now}\n");
        return text.ToString();
    }

    /// <summary>
    /// Replays <paramref name="reader"/>'s qtest session. <paramref name="extraFaults"/> are armed at start too;
    /// digests are then not checked. Returns 0 when everything matched, 1 on a divergence or a trace that ends early,
    /// 2 on bad input.
    /// </summary>
    public int Run(TraceReader reader, string? pcap, CaptureFormat pcapFormat, long? untilNs, IReadOnlyList<string> extraFaults, ILoggerFactory loggers, TextWriter errors)
    {
        TraceHeader header = reader.Header;
        if (header.Mode != "qtest")
        {
            errors.WriteLine($"emu replay: this trace is of emu {header.Mode}, not emu qtest");
            return 2;
        }

        FaultPlan? plan = null;
        if (header.FaultSeed is not null || extraFaults.Count > 0)
        {
            if (!FaultPlan.TryCreate(header.FaultSeed ?? 1, header.Faults.Concat(extraFaults), null, out plan, out string? planError))
            {
                errors.WriteLine($"emu replay: {planError}");
                return 2;
            }
        }

        bool check = extraFaults.Count == 0;
        var machine = new PcMachine(new MachineOptions { Eeprom = EepromImage.FromWords(header.Eeprom.ToArray()) }, loggers);
        Machine = machine;
        EventScheduler scheduler = machine.Scheduler;
        PacketCapture? capture = null;
        if (pcap is not null)
        {
            try
            {
                capture = PacketCapture.Create(pcap, scheduler, pcapFormat);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                errors.WriteLine($"emu replay: --pcap {pcap}: {e.Message}");
                return 2;
            }

            machine.Nic.Tap = capture;
        }

        using PacketCapture? ownedCapture = capture;
        if (plan is not null)
        {
            FaultInjector.Attach(machine.Nic, plan, loggers.CreateLogger("Emu.Faults"));
        }

        var checker = new ReplayChecker(check, errors);
        OutputDigest digest = checker.Outputs;
        OutputDigest inputs = checker.Inputs;
        if (header.Netdev is not null)
        {
            // Without a netdev the e1000 had no wire (its frames dropped as TxNoWire); with one, only the sink differs.
            machine.Nic.Wire = new DigestingSink(null, digest, scheduler);
        }

        using var protocol = new DigestingTextWriter(TextWriter.Null, digest);
        var server = new QtestServer(machine, protocol);
        var wall = Stopwatch.StartNew();
        long records = 0;
        long lines = 0;
        long framesIn = 0;
        string? timeDivergence = null;
        int status = 0;
        while (reader.TryNext(out TraceRecord record))
        {
            records++;
            if (untilNs is { } until && record.Time > until)
            {
                break;
            }

            if (check && timeDivergence is null && scheduler.Now != record.Time)
            {
                // Reported at the next digest, unless the inputs themselves were altered (that says more).
                timeDivergence = string.Create(_c, $"emu replay: diverged at virtual time {Seconds(scheduler.Now)} s, record {record.Index}: the recording was at {Seconds(record.Time)} s there (in qtest only clock_step and clock_set move the clock); the last input before: {checker.LastInput}");
            }

            switch (record.Kind)
            {
                case TraceRecordKind.QtestLine:
                    string line = Encoding.UTF8.GetString(record.Payload);
                    inputs.AddText('Q', line);
                    checker.LastInput = string.Create(_c, $"record {record.Index}, qtest '{line}' at {Seconds(scheduler.Now)} s");
                    server.ProcessLine(line);
                    lines++;
                    break;
                case TraceRecordKind.FrameIn:
                    inputs.AddFrame(record.Time, record.Payload);
                    scheduler.RunUntil(record.Time);
                    machine.Nic.ReceiveFrame(record.Payload);
                    machine.SyncInterrupts();
                    framesIn++;
                    checker.LastInput = string.Create(_c, $"record {record.Index}, a {record.Payload.Length}-byte frame at {Seconds(record.Time)} s");
                    break;
                case TraceRecordKind.Carrier:
                    bool up = record.Payload.Length > 0 && record.Payload[0] != 0;
                    inputs.AddText('C', up ? "up" : "down");
                    scheduler.RunUntil(record.Time);
                    machine.Nic.SetCarrier(up);
                    machine.SyncInterrupts();
                    checker.LastInput = string.Create(_c, $"record {record.Index}, carrier {(up ? "up" : "down")} at {Seconds(record.Time)} s");
                    break;
                case TraceRecordKind.Digest:
                case TraceRecordKind.End:
                    int verdict = checker.Check(record, () => Counters(machine), timeDivergence);
                    if (verdict == 2)
                    {
                        return 2;
                    }

                    status = Math.Max(status, verdict);
                    break;
                default:
                    errors.WriteLine($"emu replay: record {record.Index}: a {record.Kind} record has no place in an emu qtest trace");
                    return 2;
            }

            if (status != 0)
            {
                break;
            }
        }

        DigestsChecked = checker.DigestsChecked;
        if (reader.Error is not null)
        {
            errors.WriteLine($"emu replay: {reader.Error}; replayed up to virtual time {Seconds(scheduler.Now)} s");
            return 2;
        }

        E1000Statistics statistics = machine.Nic.Statistics;
        _out.WriteLine(string.Create(_c, $"emu replay: replayed {Seconds(scheduler.Now)} s of virtual time in {wall.Elapsed.TotalSeconds:F3} s ({records} records, {lines} qtest commands, {framesIn} frames in, {statistics.TxSent} frames out)"));
        if (status != 0)
        {
            return status;
        }

        if (timeDivergence is not null)
        {
            errors.WriteLine(timeDivergence);
            return 1;
        }

        if (!checker.Ended && untilNs is null)
        {
            errors.WriteLine("emu replay: the trace ends without its End record (the recording was cut short); everything up to there matched");
            return 1;
        }

        _out.WriteLine(check
            ? string.Create(_c, $"emu replay: outputs identical to the recording ({checker.DigestsChecked} digests checked{(checker.Ended ? ", counters equal" : "")})")
            : "emu replay: --fault given: the outputs are the what-if's, not checked against the recording");
        return 0;
    }

    private static string Seconds(long ns) => (ns / 1e9).ToString("F6", CultureInfo.InvariantCulture);
}
