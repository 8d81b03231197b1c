using System.CommandLine;
using Emu.Emulator.Faults;
using Emu.Emulator.Replay;
using Emu.Emulator.Wire;
using Microsoft.Extensions.Logging;

namespace Emu.Host.Replay;

/// <summary><c>emu replay FILE [--pcap OUT] [--until T] [--fault SPEC]...</c> (issue 22): an emu run or emu qtest trace.</summary>
public static class ReplayCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var file = new Argument<FileInfo>("FILE") { Description = "A trace written by --record." };
        var pcap = new Option<string?>("--pcap") { HelpName = "OUT", Description = "Capture the replayed node's port to OUT (pcapng, virtual-clock timestamps): the recorded session's capture, frame for frame." };
        var pcapFormat = new Option<CaptureFormat>("--pcap-format") { HelpName = "FORMAT", Description = "PcapNg (default) or Pcap.", DefaultValueFactory = _ => CaptureFormat.PcapNg };
        var until = new Option<string?>("--until") { HelpName = "T", Description = "Stop at virtual time T (a number with ns, us, ms or s)." };
        var fault = new Option<string[]>("--fault") { HelpName = "SPEC", Description = "Arm this fault too, from the start (repeatable): what if this had also failed. Digests are then not checked.", AllowMultipleArgumentsPerToken = false };
        var logLevel = new Option<LogLevel>("--log-level") { HelpName = "LEVEL", Description = "Logging threshold on stderr.", DefaultValueFactory = _ => LogLevel.Warning };
        var command = new Command("replay", "Replay a recorded session offline, in virtual time, with no QEMU and no sockets; check every output digest against the recording.")
        {
            file, pcap, pcapFormat, until, fault, logLevel,
        };
        command.SetAction(parse =>
        {
            FileInfo path = parse.GetValue(file)!;
            long? untilNs = null;
            if (parse.GetValue(until) is { } text)
            {
                if (!FaultSpec.TryParseDuration(text, out long ns) || ns < 0)
                {
                    stderr.WriteLine($"emu replay: --until '{text}': not a time (a number with ns, us, ms or s)");
                    return 2;
                }

                untilNs = ns;
            }

            string[] extra = parse.GetValue(fault) ?? [];
            foreach (string spec in extra)
            {
                if (!FaultSpec.TryParse(spec, out _, out string? specError))
                {
                    stderr.WriteLine($"emu replay: --fault '{spec}': {specError}");
                    return 2;
                }
            }

            if (!TraceReader.TryOpen(path.FullName, out TraceReader? reader, out string? error))
            {
                stderr.WriteLine($"emu replay: {error}");
                return 2;
            }

            using (reader)
            using (ILoggerFactory loggers = EmuCommandLine.CreateLoggers(parse.GetValue(logLevel), stderr))
            {
                switch (reader.Header.Mode)
                {
                    case "run":
                        return new RunReplayer(stdout).Run(reader, parse.GetValue(pcap), parse.GetValue(pcapFormat), untilNs, extra, loggers, stderr);
                    case "qtest":
                        return new QtestReplayer(stdout).Run(reader, parse.GetValue(pcap), parse.GetValue(pcapFormat), untilNs, extra, loggers, stderr);
                    default:
                        stderr.WriteLine($"emu replay: {path.FullName} is a trace of emu {reader.Header.Mode}; only emu run and emu qtest traces replay yet");
                        return 2;
                }
            }
        });
        return command;
    }
}
