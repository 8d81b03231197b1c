using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
using Emu.Emulator.E1000;
using Emu.Emulator.Faults;
using Emu.Emulator.Machine;
using Emu.Emulator.Replay;
using Emu.Emulator.Wire;
using Emu.Host.Services;
using Emu.Stack.Core;
using Microsoft.Extensions.Logging;

namespace Emu.Host.Replay;

/// <summary>
/// <c>emu replay</c> of an <c>emu run</c> trace (issue 22): rebuilds the node from the header exactly as
/// <see cref="NodeRunner"/> built it (<see cref="BringUp"/> is the one bring-up both use), then feeds it the trace's
/// inputs at their virtual times, with no netdev and no sockets, as fast as the CPU allows. Each digest record is
/// checked against the replay's own outputs; the first difference stops the replay with the virtual time, the record
/// and what differed.
/// </summary>
public sealed class RunReplayer
{
    private readonly TextWriter _out;
    private readonly CultureInfo _c = CultureInfo.InvariantCulture;

    public RunReplayer(TextWriter output)
    {
        _out = output;
    }

    /// <summary>Outputs checked; set after <see cref="Run"/>.</summary>
    public long DigestsChecked { get; private set; }

    /// <summary>Frames the replayed node sent.</summary>
    public long FramesOut { get; private set; }

    /// <summary>The node after <see cref="Run"/> (for tests).</summary>
    public Node? Node { get; private set; }

    /// <summary>The header for a node about to boot (before any input).</summary>
    public static TraceHeader Header(Node node, IReadOnlyList<string> commandLine, int ipv6Seed, FaultPlan? plan, NetdevSpec? spec, DirectoryInfo? www) => new()
    {
        EmuVersion = typeof(RunReplayer).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "",
        Mode = "run",
        CommandLine = commandLine,
        Eeprom = node.Machine.Nic.Eeprom.Image.Words.ToArray(),
        Ipv6Seed = ipv6Seed,
        FaultSeed = plan?.Seed,
        Faults = plan is null ? [] : plan.Faults.Select(f => f.Spec.Text).ToList(),
        Netdev = spec?.Text,
        StartsWithoutCarrier = spec?.Kind == NetdevKind.Stream,
        Www = www?.FullName,
        DigestIntervalNs = SessionRecorder.DefaultDigestIntervalNs,
    };

    /// <summary>
    /// What <c>emu run</c> does between building the node and its loop, in this order for record and replay alike:
    /// the carrier off for a stream netdev with no peer yet, probe, open, the address reports, the services.
    /// </summary>
    public static bool BringUp(Node node, bool startsWithoutCarrier, DirectoryInfo? www, Action<string> say, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out NetDevice? dev, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out NodeServices? services)
    {
        services = null;
        dev = null;
        if (startsWithoutCarrier)
        {
            node.Machine.Nic.SetCarrier(false);   // no peer yet: a cable with nothing at the other end
        }

        if (node.Boot() != 1 || node.Netdev is not { } bound)
        {
            say("emu run: the e1000 driver did not bind; see the kernel log above.");
            return false;
        }

        int open = node.Kernel.Net.DevOpen(bound);
        if (open != 0)
        {
            say(string.Create(CultureInfo.InvariantCulture, $"emu run: {bound.Name} did not come up (error {open})."));
            return false;
        }

        node.Ipv6.AddressChanged += (idev, ifa) => say(ifa.DadFailed
            ? $"emu run: {idev.Dev.Name}: {ifa.Address} failed duplicate address detection; not used"
            : $"emu run: {idev.Dev.Name}: {ifa.Address}/{ifa.PrefixLength} ready");
        services = NodeServices.Start(node.Ipv6, www, line => say("emu run: " + line));
        dev = bound;
        return true;
    }

    /// <summary>The node's counters as the End record keeps them: the device's, the interface's, the stack's.</summary>
    public static string Counters(Node node, NetDevice dev)
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        DeviceCounters.Append(text, node.Machine.Nic.Statistics);
        NetDeviceStats stats = NetCore.DevGetStats(dev);
        text.Append(c, $"{dev.Name} rx {stats.RxPackets} {stats.RxBytes} dropped {stats.RxDropped} tx {stats.TxPackets} {stats.TxBytes} dropped {stats.TxDropped}\n");
        foreach (var counter in node.Ipv6.Snmp.All())
        {
            if (counter.Value != 0)
            {
                text.Append(c, $"snmp6 {counter.Name} {counter.Value}\n");
            }
        }

        return text.ToString();
    }

    /// <summary>
    /// Replays <paramref name="reader"/>'s session. <paramref name="extraFaults"/> are armed at start too ("what if this
    /// had also failed"); digests are then not checked. Returns 0 when everything matched, 1 on a divergence or a
    /// trace that ends early, 2 on bad input.
    /// </summary>
    public int Run(TraceReader reader, string? pcap, CaptureFormat pcapFormat, long? untilNs, IReadOnlyList<string> extraFaults, ILoggerFactory loggers, TextWriter errors)
    {
        TraceHeader header = reader.Header;
        if (header.Mode != "run")
        {
            errors.WriteLine($"emu replay: this trace is of emu {header.Mode}, not emu run");
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
        var options = new MachineOptions { Eeprom = EepromImage.FromWords(header.Eeprom.ToArray()) };
        var node = new Node(options, loggerFactory: loggers, ipv6Seed: header.Ipv6Seed);
        Node = node;
        PcMachine machine = node.Machine;
        PacketCapture? capture = null;
        if (pcap is not null)
        {
            try
            {
                capture = PacketCapture.Create(pcap, machine.Scheduler, pcapFormat);
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
        machine.Nic.Wire = new DigestingSink(null, digest, machine.Scheduler);
        node.Kernel.Log.LineAdded += line => digest.AddText('K', line);
        DirectoryInfo? www = header.Www is null ? null : new DirectoryInfo(header.Www);
        if (www is { Exists: false })
        {
            errors.WriteLine($"emu replay: the session served {www.FullName}, which is gone; HTTP answers will differ");
            www = null;
        }

        if (!BringUp(node, header.StartsWithoutCarrier, www, _ => { }, out NetDevice? dev, out NodeServices? services))
        {
            errors.WriteLine("emu replay: the node did not come up as it did when recorded");
            return 1;
        }

        using NodeServices ownedServices = services;
        var wall = Stopwatch.StartNew();
        long records = 0;
        long framesIn = 0;
        int status = 0;
        while (reader.TryNext(out TraceRecord record))
        {
            records++;
            if (untilNs is { } until && record.Time > until)
            {
                machine.Scheduler.RunUntil(until);
                break;
            }

            // An input was handled right after the loop ran the clock to its time; a digest says which it followed.
            bool ranClock = record.Kind is not (TraceRecordKind.Digest or TraceRecordKind.End) || (record.Payload.Length > 32 && record.Payload[32] == 1);
            if (ranClock)
            {
                machine.Scheduler.RunUntil(record.Time);
            }
            else if (record.Time != machine.Scheduler.Now)
            {
                errors.WriteLine(string.Create(_c, $"emu replay: diverged at record {record.Index}: it was written at virtual time {Seconds(record.Time)} s, the replay is at {Seconds(machine.Scheduler.Now)} s"));
                status = 1;
                break;
            }

            switch (record.Kind)
            {
                case TraceRecordKind.FrameIn:
                    inputs.AddFrame(record.Time, record.Payload);
                    machine.Nic.ReceiveFrame(record.Payload);
                    framesIn++;
                    checker.LastInput = string.Create(_c, $"record {record.Index}, a {record.Payload.Length}-byte frame at {Seconds(record.Time)} s");
                    break;
                case TraceRecordKind.Carrier:
                    inputs.AddText('C', record.Payload.Length > 0 && record.Payload[0] != 0 ? "up" : "down");
                    machine.Nic.SetCarrier(record.Payload.Length > 0 && record.Payload[0] != 0);
                    checker.LastInput = string.Create(_c, $"record {record.Index}, carrier {(record.Payload.Length > 0 && record.Payload[0] != 0 ? "up" : "down")} at {Seconds(record.Time)} s");
                    break;
                case TraceRecordKind.Control:
                    string line = Encoding.UTF8.GetString(record.Payload);
                    inputs.AddText('X', line);
                    if (plan is null || !Faults.ControlSocket.TryApply(plan, line, out string? applyError))
                    {
                        errors.WriteLine($"emu replay: record {record.Index}: control command '{line}' cannot be applied{(plan is null ? ": the session had no fault plan" : ": ")}");
                        return 2;
                    }

                    checker.LastInput = string.Create(_c, $"record {record.Index}, control '{line}' at {Seconds(record.Time)} s");
                    break;
                case TraceRecordKind.Digest:
                case TraceRecordKind.End:
                    int verdict = checker.Check(record, () => Counters(node, dev));
                    if (verdict == 2)
                    {
                        return 2;
                    }

                    status = Math.Max(status, verdict);
                    break;
                default:
                    errors.WriteLine($"emu replay: record {record.Index}: a {record.Kind} record has no place in an emu run trace");
                    return 2;
            }

            machine.SyncInterrupts();
            if (status != 0)
            {
                break;
            }
        }

        DigestsChecked = checker.DigestsChecked;
        if (reader.Error is not null)
        {
            errors.WriteLine($"emu replay: {reader.Error}; replayed up to virtual time {Seconds(machine.Scheduler.Now)} s");
            return 2;
        }

        FramesOut = (long)machine.Nic.Statistics.TxSent;
        _out.WriteLine(string.Create(_c, $"emu replay: replayed {Seconds(machine.Scheduler.Now)} s of virtual time in {wall.Elapsed.TotalSeconds:F3} s ({records} records, {framesIn} frames in, {FramesOut} frames out)"));
        if (status != 0)
        {
            return status;
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
