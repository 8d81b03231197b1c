using System.CommandLine;
using System.Net.NetworkInformation;
using Emu.Emulator.E1000;
using Emu.Emulator.Machine;
using Emu.Emulator.Qtest;
using Emu.Emulator.Wire;
using Emu.Emulator.Faults;
using Emu.Host.Faults;
using Emu.Host.Instruments;
using Emu.Host.Status;
using Microsoft.Extensions.Logging;

namespace Emu.Host;

/// <summary>The <c>emu</c> command: its sub-commands and options (System.CommandLine: POSIX options, --help).</summary>
public static class EmuCommandLine
{
    public const string DefaultRunNetdev = "socket,listen=127.0.0.1:5555";

    public const string DefaultRunMac = "52:54:00:12:34:57";

    /// <summary>
    /// Runs the command line. <paramref name="binaryStdout"/> is where <c>--pcap -</c> streams (default: the process's
    /// standard output); text meant for <paramref name="stdout"/> then goes to <paramref name="stderr"/>.
    /// </summary>
    public static int Run(string[] args, TextReader stdin, TextWriter stdout, TextWriter stderr, Stream? binaryStdout = null)
    {
        var macOption = new Option<string?>("--mac")
        {
            HelpName = "MAC",
            Description = "MAC address of the e1000 (its EEPROM words 0-2), e.g. 52:54:00:12:34:56 (the default).",
        };
        var eepromOption = new Option<FileInfo?>("--eeprom")
        {
            HelpName = "FILE",
            Description = "Load the 64-word EEPROM image from FILE verbatim (firmware-fixtures/eeprom/ format); not with --mac.",
        };
        var logLevelOption = new Option<LogLevel>("--log-level")
        {
            HelpName = "LEVEL",
            Description = "Logging threshold on stderr: Trace, Debug, Information, Warning, Error, Critical or None.",
            DefaultValueFactory = _ => LogLevel.Warning,
        };

        var netdevOption = new Option<string?>("--netdev")
        {
            HelpName = "SPEC",
            Description = "Connect the e1000's wire to a QEMU-style netdev: socket,listen=H:P | socket,connect=H:P | socket,udp=H:P,localaddr=H:P | stream,server=on|off,addr.type=inet|unix,... | dgram,local.type=...,remote.type=...",
        };

        var pcapOption = new Option<string?>("--pcap")
        {
            HelpName = "FILE",
            Description = "Capture the e1000's port to FILE (pcapng: virtual-clock timestamps, directions, dropped frames with the counter that dropped them); for run and device, - streams it to standard output (emu run --pcap - | wireshark -k -i -), the rest of the output then on standard error.",
        };
        var pcapFormatOption = new Option<CaptureFormat>("--pcap-format")
        {
            HelpName = "FORMAT",
            Description = "PcapNg (default) or Pcap (classic libpcap, nanosecond timestamps; drops are left out).",
            DefaultValueFactory = _ => CaptureFormat.PcapNg,
        };

        var recordOption = new Option<string?>("--record")
        {
            HelpName = "FILE",
            Description = "Record the session to FILE (LZ4-compressed; docs/record-format.md): every input with its virtual time, and digests of the outputs, for emu replay.",
        };
        var recordContinueOption = new Option<bool>("--record-continue")
        {
            Description = "When the trace cannot be written (a full disk), keep running without recording instead of stopping.",
        };

        var qtest = new Command("qtest", "Serve QEMU's qtest protocol on stdin/stdout for a pc machine with an e1000 at 00:03.0.")
        {
            macOption,
            eepromOption,
            netdevOption,
            pcapOption,
            pcapFormatOption,
            recordOption,
            recordContinueOption,
            logLevelOption,
        };
        InstrumentCommandOptions qtestInstruments = InstrumentCommandOptions.AddTo(qtest, node: false);
        FaultCommandOptions qtestFaults = FaultCommandOptions.AddTo(qtest);
        qtest.SetAction(parse =>
        {
            if (!TryBuildOptions(parse.GetValue(macOption), parse.GetValue(eepromOption), stderr, out MachineOptions? options)
                || !qtestInstruments.TryRead(parse, stderr, out InstrumentOptions? instrumentOptions)
                || !qtestFaults.TryRead(parse, stderr, out FaultPlan? faultPlan))
            {
                return 2;
            }

            NetdevSpec? spec = null;
            string? netdevText = parse.GetValue(netdevOption);
            if (netdevText is not null && !NetdevSpec.TryParse(netdevText, out spec, out string? netdevError))
            {
                stderr.WriteLine($"emu: --netdev '{netdevText}': {netdevError}.");
                return 2;
            }

            using ILoggerFactory loggers = CreateLoggers(parse.GetValue(logLevelOption), stderr);
            var machine = new PcMachine(options, loggers);
            if (!InstrumentSession.TryOpen(instrumentOptions, machine.Scheduler, stderr, out InstrumentSession? instruments))
            {
                return 2;
            }

            using InstrumentSession session = instruments;
            session.AttachDevice(machine.Nic);
            FaultInjector? injector = faultPlan is null ? null : FaultInjector.Attach(machine.Nic, faultPlan, loggers.CreateLogger("Emu.Faults"));
            if (faultPlan is not null)
            {
                FaultCommandOptions.WriteStart(faultPlan, stderr);   // stdout is the qtest protocol
            }

            string? pcapText = parse.GetValue(pcapOption);
            if (pcapText == "-")
            {
                stderr.WriteLine("emu: --pcap - is not possible with qtest: standard output carries the qtest protocol.");
                return 2;
            }

            FileInfo? pcap = pcapText is null ? null : new FileInfo(pcapText);
            PacketCapture? capture = null;
            if (pcap is not null)
            {
                try
                {
                    capture = PacketCapture.Create(pcap.FullName, machine.Scheduler, parse.GetValue(pcapFormatOption));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    stderr.WriteLine($"emu: --pcap {pcap.FullName}: {e.Message}");
                    return 2;
                }

                machine.Nic.Tap = capture;
            }

            using PacketCapture? ownedCapture = capture;

            // --record: the protocol's lines go into the trace's digest on their way to stdout; commands are recorded as served.
            Replay.SessionRecorder? recorder = null;
            TextWriter protocol = stdout;
            if (parse.GetValue(recordOption) is { } recordPath)
            {
                var header = Replay.QtestReplayer.Header(machine, ["emu", .. args], faultPlan, netdevText);
                if (!Replay.SessionRecorder.TryStart(recordPath, header, machine.Scheduler, parse.GetValue(recordContinueOption), stderr, out recorder, out string? recordError))
                {
                    stderr.WriteLine($"emu: {recordError}");
                    return 2;
                }

                protocol = new Replay.DigestingTextWriter(stdout, recorder.Digest);
            }

            using Replay.SessionRecorder? ownedRecorder = recorder;
            var server = new QtestServer(machine, protocol);
            if (recorder is not null)
            {
                server.BeforeLine = recorder.QtestLine;
                recorder.FailedStop = server.Stop;
            }

            // Status on stderr or a file (stdout is the protocol), a JSON line as virtual time passes each interval.
            var wall = System.Diagnostics.Stopwatch.StartNew();
            StatusReporter? status = null;
            bool StartStatus(NetdevCounters? counters)
            {
                var sources = new StatusSources(machine.Nic, Netdev: counters, Checks: session.Checker, Faults: faultPlan is null ? null : new PlanFaultSource(faultPlan));
                if (!StatusReporter.TryCreate(sources, machine.Scheduler, instrumentOptions, stderr, liveTerminal: null, "emu qtest", stderr, out status))
                {
                    return false;
                }

                server.AfterCommand = status is null ? null : status.Poll;
                if (recorder is not null)
                {
                    Action? poll = server.AfterCommand;
                    server.AfterCommand = poll is null ? recorder.AfterStep : () =>
                    {
                        poll();
                        recorder.AfterStep();
                    };
                }

                return true;
            }

            void StopStatus(NetdevCounters? counters)
            {
                status?.Dispose();
                if (instrumentOptions.Summary == SummaryFormat.Json)
                {
                    StatsJsonWriter.WriteLine(stderr, status?.Capture() ?? StatusReporter.Capture(new StatusSources(machine.Nic, Netdev: counters, Checks: session.Checker, Faults: faultPlan is null ? null : new PlanFaultSource(faultPlan)), machine.Scheduler, wall.Elapsed.TotalSeconds));
                }
            }

            if (spec is null)
            {
                if (!StartStatus(null))
                {
                    return 2;
                }

                server.Run(stdin);
                recorder?.End(Replay.QtestReplayer.Counters(machine));
                StopStatus(null);
                session.WriteSummary(stderr);
                FaultCommandOptions.WriteSummary(injector, stderr);
                return recorder is { Failed: true } ? 1 : HaltedExit(machine.Nic, stderr);
            }

            using var loop = new NodeLoop();
            Netdev netdev;
            try
            {
                netdev = Netdev.Start(spec, loop, loggers.CreateLogger("Emu.Netdev"));
            }
            catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException or UnauthorizedAccessException)
            {
                stderr.WriteLine($"emu: --netdev '{netdevText}': {e.Message}.");
                return 2;
            }

            using (netdev)
            {
                machine.Nic.Wire = recorder is null ? netdev : new Replay.DigestingSink(netdev, recorder.Digest, machine.Scheduler);
                netdev.Port = recorder is null ? machine.Nic : new Replay.RecordingSink(recorder, machine.Nic);
                netdev.CarrierChanged = up =>
                {
                    recorder?.Carrier(up);
                    machine.Nic.SetCarrier(up);
                };
                if (!StartStatus(netdev.Counters))
                {
                    return 2;
                }

                server.Run(stdin, loop, netdev);
                recorder?.End(Replay.QtestReplayer.Counters(machine));
                StopStatus(netdev.Counters);
            }

            session.WriteSummary(stderr);
            FaultCommandOptions.WriteSummary(injector, stderr);
            return recorder is { Failed: true } ? 1 : HaltedExit(machine.Nic, stderr);
        });

        var runNetdevOption = new Option<string>("--netdev")
        {
            HelpName = "SPEC",
            Description = "The node's wire, in QEMU's -netdev syntax (socket, stream or dgram; see emu qtest --help).",
            DefaultValueFactory = _ => DefaultRunNetdev,
        };
        var runMacOption = new Option<string?>("--mac")
        {
            HelpName = "MAC",
            Description = $"MAC address of the node's e1000 (default {DefaultRunMac}, one above QEMU's default guest NIC).",
        };
        var durationOption = new Option<double?>("--duration")
        {
            HelpName = "SECONDS",
            Description = "Stop by itself after SECONDS of wall-clock time (default: run until Ctrl-C or SIGTERM).",
        };
        var wwwOption = new Option<DirectoryInfo?>("--www")
        {
            HelpName = "DIR",
            Description = "Serve the files under DIR on HTTP port 80 (default: a built-in index page).",
        };
        var run = new Command("run", "Run one node (machine, e1000, Linux-model driver, IPv6 stack) on the wall clock, attached through a QEMU netdev; it answers ping6, echoes UDP on port 7 and serves TCP echo, discard, chargen and HTTP.")
        {
            wwwOption,
            runNetdevOption,
            runMacOption,
            eepromOption,
            pcapOption,
            pcapFormatOption,
            durationOption,
            recordOption,
            recordContinueOption,
            logLevelOption,
        };
        InstrumentCommandOptions runInstruments = InstrumentCommandOptions.AddTo(run, node: true);
        FaultCommandOptions runFaults = FaultCommandOptions.AddTo(run, control: true);
        run.SetAction(parse =>
        {
            if (!TryBuildOptions(parse.GetValue(runMacOption) ?? (parse.GetValue(eepromOption) is null ? DefaultRunMac : null), parse.GetValue(eepromOption), stderr, out MachineOptions? options)
                || !runInstruments.TryRead(parse, stderr, out InstrumentOptions? instrumentOptions)
                || !runFaults.TryRead(parse, stderr, out FaultPlan? faultPlan))
            {
                return 2;
            }

            string netdevText = parse.GetValue(runNetdevOption)!;
            if (!NetdevSpec.TryParse(netdevText, out NetdevSpec? spec, out string? netdevError))
            {
                stderr.WriteLine($"emu: --netdev '{netdevText}': {netdevError}.");
                return 2;
            }

            DirectoryInfo? www = parse.GetValue(wwwOption);
            if (www is not null && !www.Exists)
            {
                stderr.WriteLine($"emu: --www {www.FullName}: no such directory.");
                return 2;
            }

            double? seconds = parse.GetValue(durationOption);
            if (seconds is <= 0 or > 1e7)
            {
                stderr.WriteLine("emu: --duration takes a positive number of seconds.");
                return 2;
            }

            if (!TryRouteOutput(parse.GetValue(pcapOption), instrumentOptions, stdout, stderr, binaryStdout, out OutputRouting? routing))
            {
                return 2;
            }

            using ILoggerFactory loggers = CreateLoggers(parse.GetValue(logLevelOption), stderr);
            (CancellationTokenSource stop, IDisposable signals) = NodeRunner.StopSignals();
            using (stop)
            using (signals)
            using (routing)
            {
                try
                {
                    var runner = new NodeRunner(routing.Text)
                    {
                        LiveTerminal = routing.LiveTerminal,
                        StatsOutput = stdout,
                        PcapStream = routing.PcapStream,
                        ControlPath = runFaults.ControlPath,
                        RecordPath = parse.GetValue(recordOption),
                        RecordContinue = parse.GetValue(recordContinueOption),
                        CommandLine = ["emu", .. args],
                    };
                    return runner.Run(options, spec, routing.PcapFile, parse.GetValue(pcapFormatOption), seconds is { } s ? TimeSpan.FromSeconds(s) : null, loggers, stop.Token, www, instrumentOptions, faultPlan);
                }
                catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException or UnauthorizedAccessException)
                {
                    stderr.WriteLine($"emu run: {e.Message}");
                    return 2;
                }
            }
        });

        var vfioUserOption = new Option<FileInfo>("--vfio-user")
        {
            HelpName = "PATH",
            Description = "The Unix socket to serve the device on (QEMU: -device vfio-user-pci,socket.path=PATH).",
            Required = true,
        };
        var deviceNetdevOption = new Option<string?>("--netdev")
        {
            HelpName = "SPEC",
            Description = "The device's wire, in QEMU's -netdev syntax; without it, an in-process Emu node (as emu run starts it) is at the other end.",
        };
        var device = new Command("device", "Serve the 82540EM over vfio-user, so that a QEMU guest's own e1000 driver drives Emu's device model.")
        {
            vfioUserOption,
            deviceNetdevOption,
            macOption,
            eepromOption,
            pcapOption,
            pcapFormatOption,
            wwwOption,
            durationOption,
            logLevelOption,
        };
        InstrumentCommandOptions deviceInstruments = InstrumentCommandOptions.AddTo(device, node: true);
        FaultCommandOptions deviceFaults = FaultCommandOptions.AddTo(device, control: true);
        device.SetAction(parse =>
        {
            if (!TryBuildOptions(parse.GetValue(macOption), parse.GetValue(eepromOption), stderr, out MachineOptions? options)
                || !deviceInstruments.TryRead(parse, stderr, out InstrumentOptions? instrumentOptions)
                || !deviceFaults.TryRead(parse, stderr, out FaultPlan? faultPlan))
            {
                return 2;
            }

            NetdevSpec? spec = null;
            string? netdevText = parse.GetValue(deviceNetdevOption);
            if (netdevText is not null && !NetdevSpec.TryParse(netdevText, out spec, out string? netdevError))
            {
                stderr.WriteLine($"emu: --netdev '{netdevText}': {netdevError}.");
                return 2;
            }

            FileInfo socketPath = parse.GetValue(vfioUserOption)!;
            if (socketPath.Directory is { Exists: false })
            {
                stderr.WriteLine($"emu: --vfio-user {socketPath.FullName}: no such directory.");
                return 2;
            }

            double? seconds = parse.GetValue(durationOption);
            if (seconds is <= 0 or > 1e7)
            {
                stderr.WriteLine("emu: --duration takes a positive number of seconds.");
                return 2;
            }

            if (!TryRouteOutput(parse.GetValue(pcapOption), instrumentOptions, stdout, stderr, binaryStdout, out OutputRouting? routing))
            {
                return 2;
            }

            using ILoggerFactory loggers = CreateLoggers(parse.GetValue(logLevelOption), stderr);
            (CancellationTokenSource stop, IDisposable signals) = NodeRunner.StopSignals();
            using (stop)
            using (signals)
            using (routing)
            {
                try
                {
                    var runner = new DeviceRunner(routing.Text) { LiveTerminal = routing.LiveTerminal, StatsOutput = stdout, PcapStream = routing.PcapStream, ControlPath = deviceFaults.ControlPath };
                    return runner.Run(socketPath.FullName, options, spec, routing.PcapFile, parse.GetValue(pcapFormatOption), seconds is { } s ? TimeSpan.FromSeconds(s) : null, loggers, stop.Token, parse.GetValue(wwwOption), instrumentOptions, faultPlan);
                }
                catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException or UnauthorizedAccessException)
                {
                    stderr.WriteLine($"emu device: {e.Message}");
                    return 2;
                }
            }
        });

        var root = new RootCommand("Emu: a register-accurate Intel 82540EM (e1000) emulator, its Linux driver model and an IPv6 stack.")
        {
            qtest,
            run,
            device,
            Bench.BenchCommand.Create(stdout),
            Plot.PlotCommand.Create(stdout, stderr),
            Faults.FaultCommand.Create(stdout, stderr),
            Replay.ReplayCommand.Create(stdout, stderr),
        };

        ParseResult result = root.Parse(args);
        return result.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr });
    }

    /// <summary>
    /// Where `emu run` and `emu device` write: with <c>--pcap -</c> or <c>--stats-json -</c> standard output carries only
    /// that data, and the banner, summary and live view move to standard error. The live view is drawn only on the
    /// process's own console, not redirected, without <c>--quiet</c>.
    /// </summary>
    internal static bool TryRouteOutput(string? pcap, InstrumentOptions instruments, TextWriter stdout, TextWriter stderr, Stream? binaryStdout, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out OutputRouting? routing)
    {
        routing = null;
        bool pcapToStdout = pcap == "-";
        bool jsonToStdout = instruments.StatsJson == "-";
        if (pcapToStdout && jsonToStdout)
        {
            stderr.WriteLine("emu: --pcap - and --stats-json - cannot both have standard output.");
            return false;
        }

        bool stdoutCarriesData = pcapToStdout || jsonToStdout;
        TextWriter text = stdoutCarriesData ? stderr : stdout;
        TextWriter? live = null;
        if (stdoutCarriesData)
        {
            if (ReferenceEquals(stderr, Console.Error) && LiveStatusView.ShouldShow(instruments.Quiet, Console.IsErrorRedirected, outputCarriesData: false))
            {
                live = stderr;
            }
        }
        else if (ReferenceEquals(stdout, Console.Out) && LiveStatusView.ShouldShow(instruments.Quiet, Console.IsOutputRedirected, outputCarriesData: false))
        {
            live = stdout;
        }

        Stream? pcapStream = null;
        Stream? ownedPcap = null;
        if (pcapToStdout)
        {
            ownedPcap = binaryStdout is null ? new BufferedStream(Console.OpenStandardOutput(), 1 << 16) : null;
            pcapStream = new ReaderGoneStream(binaryStdout ?? ownedPcap!);
        }

        routing = new OutputRouting(text, live, pcapToStdout || pcap is null ? null : new FileInfo(pcap), pcapStream, ownedPcap);
        return true;
    }

    internal static bool TryBuildOptions(string? mac, FileInfo? eeprom, TextWriter stderr, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out MachineOptions? options)
    {
        options = null;
        if (mac is not null && eeprom is not null)
        {
            stderr.WriteLine("emu: --mac and --eeprom do not go together: an EEPROM image is loaded verbatim, its MAC included.");
            return false;
        }

        PhysicalAddress address = MachineOptions.DefaultMac;
        if (mac is not null && !TryParseMac(mac, out address))
        {
            stderr.WriteLine($"emu: --mac '{mac}' is not a MAC address (six hexadecimal bytes separated by ':' or '-').");
            return false;
        }

        EepromImage? image = null;
        if (eeprom is not null)
        {
            if (!eeprom.Exists)
            {
                stderr.WriteLine($"emu: --eeprom {eeprom.FullName}: no such file.");
                return false;
            }

            if (!EepromImage.TryParse(File.ReadAllText(eeprom.FullName), out image, out string? error))
            {
                stderr.WriteLine($"emu: --eeprom {eeprom.FullName}: {error}.");
                return false;
            }
        }

        options = new MachineOptions { Mac = address, Eeprom = image };
        return true;
    }

    internal static bool TryParseMac(string text, out PhysicalAddress address)
    {
        address = PhysicalAddress.None;
        string[] parts = text.Split(':', '-');
        if (parts.Length != 6)
        {
            return false;
        }

        byte[] bytes = new byte[6];
        for (int i = 0; i < 6; i++)
        {
            if (parts[i].Length is 0 or > 2 || !byte.TryParse(parts[i], System.Globalization.NumberStyles.AllowHexSpecifier, null, out bytes[i]))
            {
                return false;
            }
        }

        address = new PhysicalAddress(bytes);
        return true;
    }

    internal static ILoggerFactory CreateLoggers(LogLevel level, TextWriter stderr)
        => LoggerFactory.Create(builder =>
        {
            builder.SetMinimumLevel(level);
            builder.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        });

    /// <summary>Exit status 3 when the device stopped on an internal error during the run (issue 19), else 0.</summary>
    internal static int HaltedExit(Emu.Emulator.E1000.E1000Device device, TextWriter stderr)
    {
        if (!device.Halted)
        {
            return 0;
        }

        stderr.WriteLine($"emu: the e1000 model stopped on an internal error: {device.InternalError}");
        return 3;
    }
}
