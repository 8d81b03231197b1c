using System.CommandLine;
using System.Globalization;
using Emu.Host.Plot;
using Spectre.Console;

namespace Emu.Host.Bench;

/// <summary><c>emu bench device</c>: runs the device benchmark for each frame size and prints a table.</summary>
internal static class BenchCommand
{
    public static Command Create(TextWriter stdout)
    {
        var frames = new Option<long>("--frames")
        {
            HelpName = "N",
            Description = "Frames to measure per size (after a warm-up of N / 2, at least 200,000).",
            DefaultValueFactory = _ => 2_000_000,
        };
        var sizes = new Option<int[]>("--sizes")
        {
            HelpName = "BYTES",
            Description = "Frame sizes without the FCS (60 is a 64-byte frame on the wire).",
            DefaultValueFactory = _ => [60, 1514],
            AllowMultipleArgumentsPerToken = true,
        };
        var deviceTrace = new Option<string?>("--trace")
        {
            HelpName = "LIST",
            Description = "Run with these trace categories on (as emu run --trace takes them), the trace discarded, to show what tracing costs.",
        };
        var deviceFault = new Option<string[]>("--fault")
        {
            HelpName = "SPEC",
            Description = "Arm this fault on both devices (as emu run --fault takes it; repeatable), to show what an armed plan costs.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var device = new Command("device", "Frames/s through TX ring → in-process wire → RX ring of two e1000s, and bytes allocated per frame.")
        {
            frames,
            sizes,
            deviceTrace,
            deviceFault,
        };
        Option<FileInfo?> devicePlot = AddPlotOption(device);
        device.SetAction(parse =>
        {
            long n = parse.GetValue(frames);
            int[] sizeList = parse.GetValue(sizes) ?? [60, 1514];
            if (n <= 0 || sizeList.Any(s => s is < 60 or > 1514))
            {
                stdout.WriteLine("emu bench: --frames must be positive and --sizes between 60 and 1514.");
                return 2;
            }

            Emu.Emulator.Instruments.TraceCategory trace = Emu.Emulator.Instruments.TraceCategory.None;
            string? traceList = parse.GetValue(deviceTrace);
            if (traceList is not null && !Emu.Emulator.Instruments.TraceCategories.TryParse(traceList, out trace, out string? traceError))
            {
                stdout.WriteLine($"emu bench: --trace '{traceList}': {traceError}.");
                return 2;
            }

            if (!CheckPlot(parse.GetValue(devicePlot), stdout))
            {
                return 2;
            }

            string[] faultSpecs = parse.GetValue(deviceFault) ?? [];
            if (faultSpecs.Length > 0 && !Emu.Emulator.Faults.FaultPlan.TryCreate(1, faultSpecs, null, out _, out string? faultError))
            {
                stdout.WriteLine($"emu bench: {faultError}.");
                return 2;
            }

            var results = new List<BenchResult>();
            foreach (int size in sizeList)
            {
                Emu.Emulator.Faults.FaultPlan.TryCreate(1, faultSpecs, null, out Emu.Emulator.Faults.FaultPlan? plan, out _);
                var bench = new DeviceBench(size, trace, faults: faultSpecs.Length > 0 ? plan : null);
                bench.Run(Math.Max(n / 2, 200_000));   // past tiered JIT warm-up
                results.Add(bench.Run(n));
            }

            Print(results, stdout, "emu bench device: TX ring → wire → RX ring (one core, virtual time)" + (trace == Emu.Emulator.Instruments.TraceCategory.None ? string.Empty : $", with --trace {traceList} (discarded)") + (faultSpecs.Length == 0 ? string.Empty : $", with --fault {string.Join(" --fault ", faultSpecs)}"));
            SavePlot(parse.GetValue(devicePlot), "emu bench device: TX ring → wire → RX ring", "Mpps", results.Select(r => ($"{r.FrameLength + 4} bytes", r.FramesPerSecond / 1e6)), stdout);
            return results.All(r => r.Drops == 0) ? 0 : 1;
        });
        var framesDriver = new Option<long>("--frames") { HelpName = "N", Description = "Frames to measure per size (after a warm-up of N / 2, at least 200,000).", DefaultValueFactory = _ => 1_000_000 };
        var sizesDriver = new Option<int[]>("--sizes") { HelpName = "BYTES", Description = "Frame sizes without the FCS.", DefaultValueFactory = _ => [60, 1514], AllowMultipleArgumentsPerToken = true };
        var driver = new Command("driver", "Frames/s from dev_queue_xmit on one node through both e1000 drivers and devices to netif_receive_skb on the other, and bytes allocated per frame.")
        {
            framesDriver,
            sizesDriver,
        };
        Option<FileInfo?> driverPlot = AddPlotOption(driver);
        driver.SetAction(parse =>
        {
            long n = parse.GetValue(framesDriver);
            int[] sizeList = parse.GetValue(sizesDriver) ?? [60, 1514];
            if (n <= 0 || sizeList.Any(s => s is < 60 or > 1514))
            {
                stdout.WriteLine("emu bench: --frames must be positive and --sizes between 60 and 1514.");
                return 2;
            }

            if (!CheckPlot(parse.GetValue(driverPlot), stdout))
            {
                return 2;
            }

            var results = new List<BenchResult>();
            foreach (int size in sizeList)
            {
                var bench = new DriverBench(size);
                bench.Run(Math.Max(n / 2, 200_000));   // past tiered JIT warm-up
                results.Add(bench.Run(n));
            }

            Print(results, stdout, "emu bench driver: dev_queue_xmit → driver → e1000 → wire → e1000 → NAPI → netif_receive_skb");
            SavePlot(parse.GetValue(driverPlot), "emu bench driver: dev_queue_xmit → … → netif_receive_skb", "Mpps", results.Select(r => ($"{r.FrameLength + 4} bytes", r.FramesPerSecond / 1e6)), stdout);
            return results.All(r => r.Drops == 0) ? 0 : 1;
        });
        var replayMegabytes = new Option<int>("--megabytes") { HelpName = "N", Description = "MiB the sender moves in each session (default 64).", DefaultValueFactory = _ => 64 };
        var replayRounds = new Option<int>("--rounds") { HelpName = "N", Description = "Sessions each way, interleaved; the medians are shown (default 3).", DefaultValueFactory = _ => 3 };
        var replay = new Command("replay", "Two emu run nodes on the wall clock, N MiB of TCP between them, without and with --record on the receiver; then the last trace replayed offline: record overhead, replay time as a fraction of the session, trace bytes per frame.")
        {
            replayMegabytes,
            replayRounds,
        };
        replay.SetAction(parse =>
        {
            int mb = parse.GetValue(replayMegabytes);
            int rounds = parse.GetValue(replayRounds);
            if (mb is <= 0 or > 4096 || rounds is <= 0 or > 100)
            {
                stdout.WriteLine("emu bench: --megabytes must be between 1 and 4096, --rounds between 1 and 100.");
                return 2;
            }

            ReplayBenchResult r = new ReplayBench(mb, rounds).Run();
            var c = CultureInfo.InvariantCulture;
            stdout.WriteLine($"emu bench replay: {mb} MiB of TCP between two emu run nodes (loopback socket netdev), the receiver recorded; medians of {rounds} rounds");
            stdout.WriteLine(string.Create(c, $"  session without --record  {r.Plain.TotalSeconds,8:F3} s  ({mb / r.Plain.TotalSeconds:F1} MiB/s)"));
            stdout.WriteLine(string.Create(c, $"  session with --record     {r.Recorded.TotalSeconds,8:F3} s  ({mb / r.Recorded.TotalSeconds:F1} MiB/s; record overhead {r.RecordOverhead * 100:+0.0;-0.0} %)"));
            stdout.WriteLine(string.Create(c, $"  replay                    {r.Replay.TotalSeconds,8:F3} s  for {r.VirtualNs / 1e9:F3} s of session: fraction {r.ReplayFraction:F3}"));
            stdout.WriteLine(string.Create(c, $"  trace                     {r.TraceBytes,8} bytes for {r.InputBytes} bytes of frames in ({r.FramesIn} frames in, {r.FramesOut} out): {r.TraceBytesPerFrame:F0} bytes per frame in"));
            stdout.WriteLine("  " + (r.Identical ? "replay: outputs identical to the recording" : "replay FAILED: " + r.ReplayOutput));
            return r.Identical ? 0 : 1;
        });
        var datagrams = new Option<long>("--datagrams") { HelpName = "N", Description = "Datagrams to measure per size (after a warm-up of N / 2, at least 200,000).", DefaultValueFactory = _ => 1_000_000 };
        var payloads = new Option<int[]>("--sizes") { HelpName = "BYTES", Description = "UDP payload sizes (1 to 1452).", DefaultValueFactory = _ => [64, 1400], AllowMultipleArgumentsPerToken = true };
        var udp = new Command("udp", "Datagrams/s from a UDP socket on one node to a UDP socket on another, through both IPv6 stacks, drivers and devices, and bytes allocated per datagram.")
        {
            datagrams,
            payloads,
        };
        Option<FileInfo?> udpPlot = AddPlotOption(udp);
        udp.SetAction(parse =>
        {
            long n = parse.GetValue(datagrams);
            int[] sizeList = parse.GetValue(payloads) ?? [64, 1400];
            if (n <= 0 || sizeList.Any(s => s is < 1 or > 1452))
            {
                stdout.WriteLine("emu bench: --datagrams must be positive and --sizes between 1 and 1452.");
                return 2;
            }

            if (!CheckPlot(parse.GetValue(udpPlot), stdout))
            {
                return 2;
            }

            var results = new List<BenchResult>();
            foreach (int size in sizeList)
            {
                var bench = new UdpBench(size);
                bench.Run(Math.Max(n / 2, 200_000));   // past tiered JIT warm-up
                results.Add(bench.Run(n));
            }

            PrintUdp(results, stdout);
            SavePlot(parse.GetValue(udpPlot), "emu bench udp: sendto → … → recvfrom", "k datagrams/s", results.Select(r => ($"{r.FrameLength}-byte payload", r.FramesPerSecond / 1e3)), stdout);
            return results.All(r => r.Drops == 0) ? 0 : 1;
        });
        var megabytes = new Option<int>("--megabytes") { HelpName = "N", Description = "Megabytes to move per run (after a warm-up of N / 2).", DefaultValueFactory = _ => 200 };
        var tcp = new Command("tcp", "Goodput of one TCP connection between two nodes (MTU 1500), with and without the e1000's TSO, and bytes allocated per segment.")
        {
            megabytes,
        };
        Option<FileInfo?> tcpPlot = AddPlotOption(tcp);
        tcp.SetAction(parse =>
        {
            int mb = parse.GetValue(megabytes);
            if (mb <= 0)
            {
                stdout.WriteLine("emu bench: --megabytes must be positive.");
                return 2;
            }

            if (!CheckPlot(parse.GetValue(tcpPlot), stdout))
            {
                return 2;
            }

            var results = new List<TcpBenchResult>();
            foreach (bool tso in new[] { true, false })
            {
                var bench = new TcpBench(tso);
                bench.Run(Math.Max(mb / 2, 20) * (1L << 20));
                results.Add(bench.Run(mb * (1L << 20)));
            }

            PrintTcp(results, stdout);
            SavePlot(parse.GetValue(tcpPlot), "emu bench tcp: one connection (MTU 1500)", "goodput Gbit/s", results.Select(r => (r.Tso ? "TSO on" : "TSO off", r.GigabitsPerSecond)), stdout);
            return 0;
        });
        var vfioMegabytes = new Option<int>("--megabytes") { HelpName = "N", Description = "Megabytes the guest sends over TCP in each run.", DefaultValueFactory = _ => 64 };
        var rounds = new Option<int>("--rounds") { HelpName = "N", Description = "Alternating runs of each guest; the median is reported.", DefaultValueFactory = _ => 3 };
        var vfio = new Command("vfio-user", "A Linux guest's TCP goodput on QEMU's built-in e1000 and on Emu's device over vfio-user (same peer: an Emu node), their ratio, and our register round-trip times. Needs QEMU 11 and the guest (Tests/scripts/linux-guest.sh installs them).")
        {
            vfioMegabytes,
            rounds,
        };
        Option<FileInfo?> vfioPlot = AddPlotOption(vfio);
        vfio.SetAction(parse =>
        {
            int mb = parse.GetValue(vfioMegabytes);
            int n = parse.GetValue(rounds);
            if (mb <= 0 || n <= 0)
            {
                stdout.WriteLine("emu bench: --megabytes and --rounds must be positive.");
                return 2;
            }

            if (!CheckPlot(parse.GetValue(vfioPlot), stdout))
            {
                return 2;
            }

            VfioUserBench.Result r;
            try
            {
                r = VfioUserBench.Run(mb, n, stdout);
            }
            catch (Exception e) when (e is FileNotFoundException or InvalidOperationException)
            {
                stdout.WriteLine($"emu bench vfio-user: {e.Message}");
                return 1;
            }

            IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(stdout), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
            console.Profile.Width = Math.Max(console.Profile.Width, 132);
            var c = CultureInfo.InvariantCulture;
            var table = new Table().Title($"emu bench vfio-user: a Linux 6.1 guest (QEMU 11, TCG) sends {mb} MB over TCP to an Emu node (median of {n} runs each)");
            table.AddColumn("guest NIC");
            table.AddColumn(new TableColumn("goodput Mbit/s").RightAligned());
            table.AddColumn(new TableColumn("ratio").RightAligned());
            table.AddColumn(new TableColumn("register read round trip µs (median)").RightAligned());
            table.AddColumn(new TableColumn("posted write µs (median)").RightAligned());
            table.AddRow("QEMU's built-in e1000", r.BuiltInMbps.ToString("F0", c), "1.00", "-", "-");
            table.AddRow("Emu's 82540EM over vfio-user", r.OursMbps.ToString("F0", c), r.Ratio.ToString("F2", c), $"{r.ReadMicroseconds.ToString("F0", c)} ({r.Reads} reads; ours {r.ReadServiceMicroseconds.ToString("F0", c)})", $"{r.PostedWriteMicroseconds.ToString("F0", c)} ({r.Writes} writes)");
            console.Write(table);
            SavePlot(parse.GetValue(vfioPlot), $"emu bench vfio-user: a Linux guest sends {mb} MB over TCP", "goodput Mbit/s", [("QEMU's e1000", r.BuiltInMbps), ("Emu's 82540EM (vfio-user)", r.OursMbps)], stdout);
            return 0;
        });
        return new Command("bench", "Measure performance (never by timed unit tests).") { device, driver, udp, tcp, vfio, replay };
    }

    private static Option<FileInfo?> AddPlotOption(Command command)
    {
        var plot = new Option<FileInfo?>("--plot")
        {
            HelpName = "FILE",
            Description = "Also draw the table's main metric as a bar chart: FILE.svg or FILE.png.",
        };
        command.Options.Add(plot);
        return plot;
    }

    /// <summary>Refuses a <c>--plot</c> path that cannot be written before the benchmark runs.</summary>
    private static bool CheckPlot(FileInfo? plot, TextWriter stdout)
    {
        if (plot is not null && !PlotImage.TryCheck(plot.FullName, BenchChart.Width, BenchChart.Height, out string? error))
        {
            stdout.WriteLine($"emu bench: --plot {error}.");
            return false;
        }

        return true;
    }

    private static void SavePlot(FileInfo? plot, string title, string metric, IEnumerable<(string Label, double Value)> bars, TextWriter stdout)
    {
        if (plot is null)
        {
            return;
        }

        try
        {
            BenchChart.Save(plot.FullName, title, metric, bars.ToList());
            stdout.WriteLine($"emu bench: {plot.FullName}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stdout.WriteLine($"emu bench: --plot {plot.FullName}: {e.Message}");
        }
    }

    public static void PrintTcp(IReadOnlyList<TcpBenchResult> results, TextWriter writer)
    {
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
        console.Profile.Width = Math.Max(console.Profile.Width, 132);
        var table = new Table().Title("emu bench tcp: one connection, send → TCP/IPv6 → driver → e1000 → wire → e1000 → NAPI → TCP → recv (MTU 1500)");
        table.AddColumn("TSO");
        table.AddColumn(new TableColumn("MB moved").RightAligned());
        table.AddColumn(new TableColumn("seconds").RightAligned());
        table.AddColumn(new TableColumn("goodput Gbit/s").RightAligned());
        table.AddColumn(new TableColumn("bytes allocated/segment").RightAligned());
        table.AddColumn(new TableColumn("retransmissions").RightAligned());
        var c = CultureInfo.InvariantCulture;
        foreach (TcpBenchResult r in results)
        {
            table.AddRow(
                r.Tso ? "on" : "off",
                (r.Bytes / (double)(1 << 20)).ToString("F0", c),
                r.Elapsed.TotalSeconds.ToString("F3", c),
                r.GigabitsPerSecond.ToString("F2", c),
                r.BytesAllocatedPerSegment.ToString("F2", c),
                r.Retransmissions.ToString(c));
        }

        console.Write(table);
    }

    public static void PrintUdp(IReadOnlyList<BenchResult> results, TextWriter writer)
    {
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
        console.Profile.Width = Math.Max(console.Profile.Width, 132);
        var table = new Table().Title("emu bench udp: sendto → IPv6 → driver → e1000 → wire → e1000 → NAPI → IPv6 → UDP → recvfrom");
        table.AddColumn("payload (bytes)");
        table.AddColumn(new TableColumn("datagrams").RightAligned());
        table.AddColumn(new TableColumn("seconds").RightAligned());
        table.AddColumn(new TableColumn("k datagrams/s").RightAligned());
        table.AddColumn(new TableColumn("payload Gbit/s").RightAligned());
        table.AddColumn(new TableColumn("bytes allocated/datagram").RightAligned());
        table.AddColumn(new TableColumn("drops").RightAligned());
        var c = CultureInfo.InvariantCulture;
        foreach (BenchResult r in results)
        {
            table.AddRow(
                r.FrameLength.ToString(c),
                r.Frames.ToString("N0", c),
                r.Elapsed.TotalSeconds.ToString("F3", c),
                (r.FramesPerSecond / 1e3).ToString("F0", c),
                (r.FramesPerSecond * r.FrameLength * 8 / 1e9).ToString("F2", c),
                r.BytesAllocatedPerFrame.ToString("F2", c),
                r.Drops.ToString(c));
        }

        console.Write(table);
    }

    public static void Print(IReadOnlyList<BenchResult> results, TextWriter writer, string title = "emu bench")
    {
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
        console.Profile.Width = Math.Max(console.Profile.Width, 132);
        var table = new Table().Title(title);
        table.AddColumn("frame (bytes, +FCS)");
        table.AddColumn(new TableColumn("frames").RightAligned());
        table.AddColumn(new TableColumn("seconds").RightAligned());
        table.AddColumn(new TableColumn("Mpps").RightAligned());
        table.AddColumn(new TableColumn("Gbit/s").RightAligned());
        table.AddColumn(new TableColumn("of 1 GbE line rate").RightAligned());
        table.AddColumn(new TableColumn("bytes allocated/frame").RightAligned());
        table.AddColumn(new TableColumn("drops").RightAligned());
        var c = CultureInfo.InvariantCulture;
        foreach (BenchResult r in results)
        {
            table.AddRow(
                (r.FrameLength + 4).ToString(c),
                r.Frames.ToString("N0", c),
                r.Elapsed.TotalSeconds.ToString("F3", c),
                (r.FramesPerSecond / 1e6).ToString("F3", c),
                (r.FramesPerSecond * (r.FrameLength + 4) * 8 / 1e9).ToString("F2", c),
                r.GigabitLineRateFraction.ToString("P0", c),
                r.BytesAllocatedPerFrame.ToString("F2", c),
                r.Drops.ToString(c));
        }

        console.Write(table);
    }
}
