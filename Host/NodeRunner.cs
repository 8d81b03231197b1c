using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Emu.Emulator.E1000;
using Emu.Emulator.Machine;
using Emu.Emulator.Wire;
using Emu.Host.Status;
using Emu.Stack.Core;
using Emu.Stack.Ipv6;
using Emu.Stack.Sockets;
using Emu.Stack.Wire;
using Microsoft.Extensions.Logging;

namespace Emu.Host;

/// <summary>
/// <c>emu run</c>: one node (machine, e1000, driver, IPv6 stack) on the wall clock, its wire a QEMU netdev. Virtual
/// time follows the wall clock: the loop runs the scheduler up to "now", then sleeps until the next deadline or the
/// next frame from the netdev, whichever comes first. It answers ping6, echoes UDP on port 7 and serves TCP echo (7),
/// discard (9), chargen (19) and HTTP (80); Ctrl-C or SIGTERM stops it with a summary of its counters.
/// </summary>
public sealed class NodeRunner
{
    public const ushort EchoPort = 7;

    private readonly TextWriter _out;
    private readonly CultureInfo _c = CultureInfo.InvariantCulture;

    private readonly NodeLoop _loop = new();
    private StatusReporter? _status;

    public NodeRunner(TextWriter output)
    {
        _out = output;
    }

    /// <summary>The terminal to draw the live status view on (null: none; <c>--quiet</c> turns it off too).</summary>
    public TextWriter? LiveTerminal { get; init; }

    /// <summary>Where <c>--stats-json -</c> writes (default: the output given to the constructor).</summary>
    public TextWriter? StatsOutput { get; init; }

    /// <summary><c>--pcap -</c>: capture to this stream, flushed after each frame, when no capture file is given.</summary>
    public Stream? PcapStream { get; init; }

    /// <summary>The running node, once <see cref="Run"/> has brought it up (touch it only from posted work).</summary>
    public Node? Node { get; private set; }

    /// <summary>The TCP services (echo 7, discard 9, chargen 19, http 80), once started.</summary>
    public IReadOnlyList<Services.TcpService> Services { get; private set; } = [];

    /// <summary>Set once the node is up and its banner printed.</summary>
    public ManualResetEventSlim Started { get; } = new();

    /// <summary>Runs <paramref name="work"/> on the node's loop (from any thread).</summary>
    public void Post(Action<Node> work) => _loop.Post(new LoopItem(LoopItemKind.Work, null, null, 0, null, () => work(Node!)));

    /// <summary>Asks the loop to stop (from any thread).</summary>
    public void Stop() => _loop.Post(new LoopItem(LoopItemKind.EndOfInput, null, null, 0, null));

    /// <summary>Runs until stopped (or for <paramref name="duration"/>); 0 on a clean stop, 1 when the node could not come up.</summary>
    /// <summary><c>--control PATH</c>: the fault plan's live control socket (with a plan).</summary>
    public string? ControlPath { get; init; }

    /// <summary><c>--record FILE</c>: the session trace to write (issue 22), or null.</summary>
    public string? RecordPath { get; init; }

    /// <summary><c>--record-continue</c>: when the trace cannot be written, keep running without it.</summary>
    public bool RecordContinue { get; init; }

    /// <summary>The command line, for the trace's header.</summary>
    public IReadOnlyList<string> CommandLine { get; init; } = [];

    /// <summary>The stack's seed (null: a fresh one per run).</summary>
    public int? Ipv6Seed { get; init; }

    public int Run(MachineOptions options, NetdevSpec spec, FileInfo? pcap, CaptureFormat pcapFormat, TimeSpan? duration, ILoggerFactory loggers, CancellationToken stop, DirectoryInfo? www = null, Instruments.InstrumentOptions? instruments = null, Emu.Emulator.Faults.FaultPlan? faults = null)
    {
        // A fresh seed per run: fragment identifications, DAD nonces and flow labels must not be predictable (RFC 7739).
        int ipv6Seed = Ipv6Seed ?? Random.Shared.Next();
        var node = new Node(options, loggerFactory: loggers, ipv6Seed: ipv6Seed);
        Node = node;
        PcMachine machine = node.Machine;
        using NodeLoop loop = _loop;
        if (!Instruments.InstrumentSession.TryOpen(instruments ?? Instruments.InstrumentOptions.None, machine.Scheduler, Console.Error, out Instruments.InstrumentSession? session))
        {
            return 2;
        }

        using Instruments.InstrumentSession ownedSession = session;
        session.AttachDevice(machine.Nic);
        session.AttachNode(node);
        if (!session.TryAttachStack(node.Ipv6, Console.Error))
        {
            return 2;
        }

        using PacketCapture? capture = CaptureStreams.Open(pcap, PcapStream, machine.Scheduler, pcapFormat);
        if (capture is not null)
        {
            machine.Nic.Tap = capture;
        }

        Emu.Emulator.Faults.FaultInjector? injector = Faults.FaultCommandOptions.Attach(machine.Nic, faults, loggers, _out);
        if (!Faults.FaultCommandOptions.TryStartControl(ControlPath, faults, a => _loop.Post(new LoopItem(LoopItemKind.Work, null, null, 0, null, a)), machine.Nic.Statistics, Console.Error, _out, out Faults.ControlSocket? control))
        {
            return 2;
        }

        using Faults.ControlSocket? ownedControl = control;
        using Netdev netdev = Netdev.Start(spec, loop, loggers.CreateLogger("Emu.Netdev"));
        machine.Nic.Wire = netdev;
        netdev.Port = machine.Nic;
        netdev.CarrierChanged = up => machine.Nic.SetCarrier(up);
        node.Kernel.Log.LineAdded += line => Say(line);
        Replay.SessionRecorder? recorder = null;
        if (RecordPath is not null)
        {
            var header = Replay.RunReplayer.Header(node, CommandLine, ipv6Seed, faults, spec, www);
            if (!Replay.SessionRecorder.TryStart(RecordPath, header, machine.Scheduler, RecordContinue, Console.Error, out recorder, out string? recordError))
            {
                Console.Error.WriteLine($"emu: {recordError}");
                return 2;
            }

            recorder.FailedStop = Stop;
            machine.Nic.Wire = new Replay.DigestingSink(netdev, recorder.Digest, machine.Scheduler);
            node.Kernel.Log.LineAdded += line => recorder.Digest.AddText('K', line);
            Say($"emu run: recording to {RecordPath}");
        }

        using Replay.SessionRecorder? ownedRecorder = recorder;
        if (control is not null && recorder is not null)
        {
            control.Changed = recorder.Control;
        }

        if (!Replay.RunReplayer.BringUp(node, spec.Kind == NetdevKind.Stream, www, Say, out NetDevice? dev, out Emu.Host.Services.NodeServices? started))
        {
            return 1;
        }

        using Emu.Host.Services.NodeServices services = started;
        Services = services.Tcp;
        PrintBanner(dev, spec, www);
        var sources = new StatusSources(machine.Nic, node, netdev.Counters, Checks: session.Checker, Faults: faults is null ? null : new PlanFaultSource(faults));
        if (!StatusReporter.TryCreate(sources, machine.Scheduler, session.Options, StatsOutput ?? _out, LiveTerminal, "emu run", Console.Error, out StatusReporter? status))
        {
            return 2;
        }

        _status = status;
        status?.Start();
        Started.Set();

        Action<LoopItem> deliver = item => netdev.Deliver(item);
        Action afterStep = machine.SyncInterrupts;
        if (recorder is not null)
        {
            deliver = item =>
            {
                switch (item.Kind)
                {
                    case LoopItemKind.Frame:
                        recorder.Frame(item.Buffer.AsSpan(0, item.Length));
                        break;
                    case LoopItemKind.CarrierUp or LoopItemKind.CarrierDown:
                        recorder.Carrier(item.Kind == LoopItemKind.CarrierUp);
                        break;
                }

                netdev.Deliver(item);
            };
            afterStep = () =>
            {
                machine.SyncInterrupts();
                recorder.AfterStep();
            };
        }

        TimeSpan elapsed = WallClockLoop.Run(machine.Scheduler, loop, deliver, afterStep, duration, stop);
        recorder?.End(Replay.RunReplayer.Counters(node, dev));
        status?.Dispose();
        if (session.Options.Summary == Instruments.SummaryFormat.Json)
        {
            StatsJsonWriter.WriteLine(_out, StatusReporter.Capture(sources, machine.Scheduler, elapsed.TotalSeconds));
        }
        else
        {
            PrintSummary(node, dev, netdev, elapsed);
            Say("  tcp       " + services.Summary);
        }

        session.WriteSummary(_out);
        Faults.FaultCommandOptions.WriteSummary(injector, _out);

        node.Kernel.Net.DevClose(dev);
        if (recorder is { Failed: true })
        {
            return 1;
        }

        return EmuCommandLine.HaltedExit(machine.Nic, Console.Error);
    }

    private void PrintBanner(NetDevice dev, NetdevSpec spec, DirectoryInfo? www)
    {
        string mac = string.Join(':', dev.DevAddr.Take(6).Select(b => b.ToString("x2", _c)));
        Ipv6Address ll = Ipv6Address.LinkLocalFromMac(dev.DevAddr);
        Say($"emu run: node up; {dev.Name} {mac} on netdev {spec.Text}");
        Say($"  address   {ll} (link-local; ready once duplicate address detection ends), plus SLAAC from router advertisements");
        Say($"  services  ICMPv6 echo (ping6 {ll}%<guest's interface>); UDP echo on port {EchoPort}");
        Say($"            TCP echo 7, discard 9, chargen 19, HTTP 80 ({(www is null ? "built-in index page" : www.FullName)})");
        Say($"  QEMU      -netdev {spec.PeerSpec("n0")} -device e1000,netdev=n0,mac=52:54:00:12:34:56");
        Say("  stop      Ctrl-C or SIGTERM");
    }

    private void PrintSummary(Node node, NetDevice dev, Netdev netdev, TimeSpan elapsed)
    {
        NetDeviceStats stats = NetCore.DevGetStats(dev);
        E1000Statistics device = node.Machine.Nic.Statistics;
        Say(string.Create(_c, $"emu run: stopped after {elapsed.TotalSeconds:F1} s"));
        Say(string.Create(_c, $"  netdev    frames in {netdev.Counters.FramesIn}, out {netdev.Counters.FramesOut}, dropped while unconnected {netdev.Counters.DroppedNotConnected}, send errors {netdev.Counters.DroppedSendError}, dropped with the send queue full {netdev.Counters.DroppedSendQueueFull}, connections {netdev.Counters.Connections}, closed for bad lengths {netdev.Counters.BadLengthClosures}"));
        Say(string.Create(_c, $"  e1000     delivered {device.RxDelivered}, sent {device.TxSent}, dropped {device.TotalDrops}{DropDetail(device)}"));
        Say(string.Create(_c, $"  {dev.Name,-9} rx {stats.RxPackets} packets {stats.RxBytes} bytes (dropped {stats.RxDropped}), tx {stats.TxPackets} packets {stats.TxBytes} bytes (dropped {stats.TxDropped})"));
        var snmp = node.Ipv6.Snmp.All().Where(c => c.Value != 0).Select(c => string.Create(_c, $"{c.Name} {c.Value}")).ToList();
        Say("  snmp6     " + (snmp.Count == 0 ? "(all zero)" : string.Join(", ", snmp)));
    }

    private string DropDetail(E1000Statistics s)
    {
        var parts = Enum.GetValues<E1000DropReason>().Where(r => s[r] != 0).Select(r => string.Create(_c, $"{r} {s[r]}")).ToList();
        return parts.Count == 0 ? string.Empty : " (" + string.Join(", ", parts) + ")";
    }

    private void Say(string line)
    {
        if (_status?.TryWriteLine(line) == true)
        {
            return;
        }

        _out.WriteLine(line);
        _out.Flush();
    }

    /// <summary>Ctrl-C and SIGTERM as one cancellation.</summary>
    public static (CancellationTokenSource Source, IDisposable Registrations) StopSignals()
    {
        var source = new CancellationTokenSource();
        PosixSignalRegistration term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
        {
            c.Cancel = true;
            source.Cancel();
        });
        PosixSignalRegistration interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c =>
        {
            c.Cancel = true;
            source.Cancel();
        });
        return (source, new Registrations(term, interrupt));
    }

    private sealed class Registrations(params IDisposable[] items) : IDisposable
    {
        public void Dispose()
        {
            foreach (IDisposable item in items)
            {
                item.Dispose();
            }
        }
    }
}
