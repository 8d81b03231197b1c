using System.Collections.Concurrent;
using Emu.Emulator.Replay;
using Emu.Emulator.Wire;
using Emu.Host;
using Emu.Host.Replay;
using Emu.Tests.Differential;
using Microsoft.Extensions.Logging.Abstractions;

namespace Emu.Tests.Replay;

/// <summary>
/// <c>emu qtest --record</c> and <c>emu replay</c> of its trace, in process: a session made of the repository's qtest
/// scripts (PCI config dump, EEPROM reads through EERD, a transmit through a descriptor ring with clock steps and IRQ
/// lines) replays with identical replies, and every way a trace can differ from its session is reported.
/// </summary>
public sealed class QtestReplayTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("emu-qtest-record-");

    public void Dispose() => _dir.Delete(recursive: true);

    /// <summary>The commands of Tests/qtest scripts, directives and comments left out, one per line.</summary>
    private static string Script(params string[] names)
        => string.Concat(names.SelectMany(n => QtestScript.Load(n).Steps).Where(s => !s.IsDirective).Select(s => s.Command + "\n"));

    private static readonly string Session = Script("01-pci-config-dump", "31-eerd-all-words", "30-stats-tx-frames");

    private string PathOf(string name) => Path.Combine(_dir.FullName, name);

    private string Record(string name, params string[] extra)
    {
        string trace = PathOf(name);
        (int exit, string stdout, string stderr) = Tools.EmuCli.Run(Session, ["qtest", "--record", trace, .. extra]);
        Assert.True(exit == 0, stderr);
        Assert.Contains("IRQ raise 11", stdout);
        return trace;
    }

    private static (int Status, string Out, string Err, QtestReplayer Replayer) Replay(string trace)
    {
        Assert.True(TraceReader.TryOpen(trace, out TraceReader? reader, out string? error), error);
        var output = new StringWriter();
        var errors = new StringWriter();
        var replayer = new QtestReplayer(output);
        using (reader)
        {
            int status = replayer.Run(reader, null, CaptureFormat.PcapNg, null, [], NullLoggerFactory.Instance, errors);
            return (status, output.ToString(), errors.ToString(), replayer);
        }
    }

    [Fact]
    public void ARecordedSessionAnswersAsWithoutRecordingAndReplaysIdentically()
    {
        (int plainExit, string plain, _) = Tools.EmuCli.Run(Session, "qtest");
        string trace = PathOf("q.trace");
        (int exit, string recorded, string stderr) = Tools.EmuCli.Run(Session, "qtest", "--record", trace);
        Assert.Equal(0, plainExit);
        Assert.True(exit == 0, stderr);
        Assert.Equal(plain, recorded);

        (int status, string output, string errors, QtestReplayer replayer) = Replay(trace);
        Assert.True(status == 0, errors + output);
        Assert.Contains("outputs identical to the recording", output);
        Assert.Contains("counters equal", output);
        int commands = Session.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
        Assert.Contains($"{commands} qtest commands", output);
        Assert.True(replayer.DigestsChecked > commands, $"{replayer.DigestsChecked} digests for {commands} commands");
        Assert.Equal(400_000, replayer.Machine!.Scheduler.Now);   // the two clock_steps of 30-stats-tx-frames

        (status, output, errors) = Tools.EmuCli.Run("", "replay", trace);
        Assert.True(status == 0, errors);
        Assert.Contains("outputs identical to the recording", output);
    }

    [Fact]
    public void ASessionWithAFaultReplaysWithTheFaultFiringAgain()
    {
        (_, string plain, _) = Tools.EmuCli.Run(Session, "qtest");
        string trace = PathOf("fault.trace");
        (int exit, string stdout, string stderr) = Tools.EmuCli.Run(Session, "qtest", "--record", trace, "--fault", "irq-lost", "--seed", "5");
        Assert.True(exit == 0, stderr);
        Assert.Contains("irq-lost: fired 1", stderr);
        Assert.NotEqual(plain, stdout);   // the lost assertion shows in the IRQ lines

        Assert.True(TraceReader.TryOpen(trace, out TraceReader? reader, out string? error), error);
        using (reader)
        {
            Assert.Equal("qtest", reader.Header.Mode);
            Assert.Equal(5, reader.Header.FaultSeed);
            Assert.Equal(["irq-lost"], reader.Header.Faults);
        }

        (int status, string output, string errors, _) = Replay(trace);
        Assert.True(status == 0, errors + output);
        Assert.Contains("outputs identical to the recording", output);

        // Replayed without the fault (a what-if in reverse), the IRQ lines differ from the recording's.
        string stripped = PathOf("stripped.trace");
        Rewrite(trace, stripped, h => h with { FaultSeed = null, Faults = [] }, (_, _, _) => false);
        (status, _, errors, _) = Replay(stripped);
        Assert.Equal(1, status);
        Assert.Matches(@"emu replay: diverged at virtual time \d+\.\d+ s, record \d+: the recording had \d+ outputs", errors);
    }

    [Fact]
    public void AnAlteredCommandLineIsReportedAsAnAlteredInput()
    {
        string trace = Record("q.trace");
        string altered = PathOf("altered.trace");
        long index = Rewrite(trace, altered, null, (kind, payload, count) =>
        {
            // The 39th command, outl 0xcf8 0x8000184c, made to select the dword before: its inl answers otherwise.
            if (kind == TraceRecordKind.QtestLine && count == 39)
            {
                Assert.Equal("outl 0xcf8 0x8000184c", System.Text.Encoding.UTF8.GetString(payload));
                payload[^1] = (byte)'8';
                return true;
            }

            return false;
        });
        (int status, _, string errors, _) = Replay(altered);
        Assert.Equal(1, status);
        var range = System.Text.RegularExpressions.Regex.Match(errors, @"emu replay: the trace's inputs differ from what was recorded, at record \d+ \(\d+\.\d+ s\): an input among records (\d+)-(\d+) was altered after recording; the last of them: record \d+, qtest '");
        Assert.True(range.Success, errors);
        Assert.InRange(index, long.Parse(range.Groups[1].Value), long.Parse(range.Groups[2].Value));
    }

    [Fact]
    public void ADifferentDeviceIsReportedWhereItsRepliesDiffer()
    {
        string trace = Record("q.trace");
        string other = PathOf("other-mac.trace");

        // Another MAC (word 2), the checksum word kept right: the first EERD read of word 2 answers otherwise.
        Rewrite(trace, other, h =>
        {
            ushort[] words = [.. h.Eeprom];
            words[2] ^= 0x0100;
            words[63] = (ushort)(words[63] - (words[2] - h.Eeprom[2]));
            return h with { Eeprom = words };
        }, (_, _, _) => false);
        (int status, _, string errors, _) = Replay(other);
        Assert.Equal(1, status);
        Assert.Matches(@"emu replay: diverged at virtual time 0\.000000 s, record \d+: the recording had \d+ outputs .*\n  the outputs last matched at record \d+ \(0\.000000 s\); the last input before the difference: record \d+, qtest 'readl 0xfebc0014'", errors);
    }

    [Fact]
    public void ACommandRecordedAtAnotherVirtualTimeIsReportedAsADivergence()
    {
        string trace = Record("q.trace");
        string moved = PathOf("moved.trace");

        // Every command after the first clock_step said to come 1 ms later than the replay's clock gets it to.
        Rewrite(trace, moved, null, (_, _, _) => false, drop: kind => kind == TraceRecordKind.Digest, alterTime: (kind, time) => time > 0 ? time + 1_000_000 : time);
        (int status, _, string errors, _) = Replay(moved);
        Assert.Equal(1, status);
        Assert.Matches(@"emu replay: diverged at virtual time 0\.000200 s, record \d+: the recording was at 0\.001200 s there \(in qtest only clock_step and clock_set move the clock\); the last input before: record \d+, qtest 'clock_step 200000'", errors);
    }

    [Fact]
    public void EmuReplayWritesTheRecordedCaptureAndRefusesDeviceTraces()
    {
        // Same file name in two directories: the capture's header names its file.
        Directory.CreateDirectory(PathOf("recorded"));
        Directory.CreateDirectory(PathOf("replayed"));
        string recordedCapture = PathOf(Path.Combine("recorded", "q.pcapng"));
        string trace = Record("q.trace", "--pcap", recordedCapture);
        string replayedCapture = PathOf(Path.Combine("replayed", "q.pcapng"));
        (int status, string output, string errors) = Tools.EmuCli.Run("", "replay", trace, "--pcap", replayedCapture);
        Assert.True(status == 0, errors);
        Assert.Contains("outputs identical to the recording", output);
        Assert.Equal(File.ReadAllBytes(recordedCapture), File.ReadAllBytes(replayedCapture));
        Assert.True(new FileInfo(replayedCapture).Length > 100);

        string device = PathOf("device.trace");
        Assert.True(TraceWriter.TryCreate(device, new TraceHeader { Mode = "device", Eeprom = new ushort[64] }, out TraceWriter? writer, out string? error), error);
        writer.Dispose();
        (status, _, errors) = Tools.EmuCli.Run("", "replay", device);
        Assert.Equal(2, status);
        Assert.Contains("is a trace of emu device; only emu run and emu qtest traces replay yet", errors);
    }

    [Fact]
    public void ATraceWithoutItsEndAndAnUnwritableRecordPathAreSaidPlainly()
    {
        string trace = Record("q.trace");
        string cut = PathOf("cut.trace");
        Rewrite(trace, cut, null, (_, _, _) => false, drop: kind => kind == TraceRecordKind.End);
        (int status, _, string errors, _) = Replay(cut);
        Assert.Equal(1, status);
        Assert.Contains("the trace ends without its End record", errors);

        (int exit, string stdout, string stderr) = Tools.EmuCli.Run("readl 0x0\n", "qtest", "--record", PathOf(Path.Combine("missing", "q.trace")));
        Assert.Equal(2, exit);
        Assert.Contains("emu: --record ", stderr);
        Assert.Equal("", stdout);
    }

    [Fact]
    public void ASessionWithANetdevRecordsTheFramesInAndReplaysTheFramesOut()
    {
        using var peer = new QtestPeer();
        var stdin = new LineReader();
        var stdout = new LineWriter();
        var stderr = new StringWriter();
        string trace = PathOf("netdev.trace");
        int exit = -1;
        var emu = new Thread(() => exit = EmuCommandLine.Run(["qtest", "--netdev", peer.ClientSpec, "--record", trace], stdin, stdout, stderr)) { IsBackground = true };
        emu.Start();
        peer.WaitForConnection(TimeSpan.FromSeconds(30));

        // 49-rx-basic-frames up to its first frame, the frame, then 59-tx-legacy's transmits.
        QtestScript rx = QtestScript.Load("49-rx-basic-frames");
        foreach (QtestStep step in rx.Steps.TakeWhile(s => !s.IsDirective))
        {
            stdout.Ask(stdin, step.Command);
        }

        string send = rx.Steps.First(s => s.IsDirective).Command;
        Assert.StartsWith("send ", send);
        peer.Send(Convert.FromHexString(send["send ".Length..]));
        DateTime deadline = DateTime.UtcNow.AddSeconds(30);
        while (stdout.Ask(stdin, "readl 0xfebc2810") != "OK 0x0000000000000001")
        {
            Assert.True(DateTime.UtcNow < deadline, "the frame never reached the ring");
        }

        foreach (QtestStep step in QtestScript.Load("59-tx-legacy").Steps.Where(s => !s.IsDirective))
        {
            stdout.Ask(stdin, step.Command);
        }

        Assert.NotNull(peer.Receive(TimeSpan.FromSeconds(30)));
        stdin.End();
        Assert.True(emu.Join(TimeSpan.FromSeconds(30)));
        Assert.True(exit == 0, stderr.ToString());

        (int status, string output, string errors, QtestReplayer replayer) = Replay(trace);
        Assert.True(status == 0, errors + output);
        Assert.Contains("outputs identical to the recording", output);
        Assert.Contains(" 1 frames in", output);
        Assert.True(replayer.Machine!.Nic.Statistics.TxSent > 2, output);
    }

    /// <summary>Copies a trace record by record: a new header, payloads altered, kinds dropped, times moved.</summary>
    private static long Rewrite(string from, string to, Func<TraceHeader, TraceHeader>? header, Func<TraceRecordKind, byte[], int, bool> alter, Func<TraceRecordKind, bool>? drop = null, Func<TraceRecordKind, long, long>? alterTime = null)
    {
        Assert.True(TraceReader.TryOpen(from, out TraceReader? reader, out string? error), error);
        long altered = -1;
        using (reader)
        {
            Assert.True(TraceWriter.TryCreate(to, header is null ? reader.Header : header(reader.Header), out TraceWriter? writer, out error), error);
            using (writer)
            {
                int lines = 0;
                while (reader.TryNext(out TraceRecord r))
                {
                    byte[] payload = r.Payload.ToArray();
                    if (r.Kind == TraceRecordKind.QtestLine)
                    {
                        lines++;
                    }

                    if (alter(r.Kind, payload, lines))
                    {
                        altered = r.Index;
                    }

                    if (drop?.Invoke(r.Kind) != true)
                    {
                        Assert.True(writer.Append(r.Kind, alterTime?.Invoke(r.Kind, r.Time) ?? r.Time, payload));
                    }
                }
            }
        }

        return altered;
    }

    /// <summary>Standard input the test writes line by line; <see cref="End"/> is end of file.</summary>
    private sealed class LineReader : TextReader
    {
        private readonly BlockingCollection<string?> _lines = [];

        public void Send(string line) => _lines.Add(line);

        public void End() => _lines.Add(null);

        public override string? ReadLine() => _lines.Take();
    }

    /// <summary>Standard output the test reads line by line.</summary>
    private sealed class LineWriter : TextWriter
    {
        private readonly BlockingCollection<string> _lines = [];
        private readonly System.Text.StringBuilder _line = new();

        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;

        public override void Write(char value)
        {
            if (value != '\n')
            {
                _line.Append(value);
                return;
            }

            _lines.Add(_line.ToString());
            _line.Clear();
        }

        /// <summary>Sends a command and returns its reply (IRQ lines before it skipped).</summary>
        public string Ask(LineReader stdin, string command)
        {
            stdin.Send(command);
            while (true)
            {
                Assert.True(_lines.TryTake(out string? line, TimeSpan.FromSeconds(30)), $"no reply to '{command}'");
                if (!line.StartsWith("IRQ ", StringComparison.Ordinal))
                {
                    return line;
                }
            }
        }
    }
}
