using Emu.Host;
using Emu.Host.Bench;
using Emu.Host.Instruments;
using Emu.Host.Status;
using Emu.Stack.Tcp;
using Spectre.Console;

namespace Emu.Tests.Host.Status;

/// <summary>The live status view: what it shows, rendered to a string console, and when it is off.</summary>
public sealed class LiveStatusViewTests
{
    [Fact]
    public void ShowsLinkRatesDropsRingsTcpAndFaults()
    {
        (NodePair pair, TcpSocket client, _) = CounterSnapshotTests.Connected();
        Node node = pair.Sender;
        var sources = new StatusSources(node.Machine.Nic, node);
        CounterSnapshot first = CounterSnapshot.Capture(sources, pair.Scheduler.Now, 0, DateTimeOffset.UnixEpoch);
        byte[] data = new byte[20_000];
        Assert.Equal(data.Length, client.Send(data));
        pair.Scheduler.RunFor(250_000_000);
        CounterSnapshot second = CounterSnapshot.Capture(sources, pair.Scheduler.Now, 0.25, DateTimeOffset.UnixEpoch);

        string text = Render(first, second);
        Assert.Contains("link", text);
        Assert.Contains("up, 1000 Mb/s full duplex", text);
        Assert.Contains("frames/s", text);
        Assert.Contains("bytes/s", text);
        Assert.Contains("interrupts/s", text);
        Assert.Matches(@"bytes/s\s+in [0-9.]+ [kMG]?B/s\s+out [0-9.]+ kB/s", text);
        Assert.Contains("rx ring", text);
        Assert.Contains("256 descriptors", text);
        Assert.Contains("free for the device (RDH", text);
        Assert.Contains("queued (TDH", text);
        Assert.Contains("1 ESTABLISHED", text);
        Assert.Contains("drops", text);
        Assert.Contains("faults", text);
        Assert.Contains("0 fired (none armed)", text);
    }

    [Fact]
    public void FirstFrameHasNoRatesAndALinkDownReadsSo()
    {
        var pair = new NodePair();
        Node node = pair.Sender;
        node.Machine.Nic.SetCarrier(false);
        pair.Scheduler.RunFor(10_000_000);
        CounterSnapshot snapshot = CounterSnapshot.Capture(new StatusSources(node.Machine.Nic, node), pair.Scheduler.Now, 0, DateTimeOffset.UnixEpoch);
        string text = Render(null, snapshot);
        Assert.Contains("down (no carrier)", text);
        Assert.Matches(@"frames/s\s+in -\s+out -", text);
    }

    [Fact]
    public void AFaultSourceFeedsTheFaultsRow()
    {
        var pair = new NodePair();
        var sources = new StatusSources(pair.Sender.Machine.Nic, Faults: new TwoFaults());
        string text = Render(null, CounterSnapshot.Capture(sources, 0, 0, DateTimeOffset.UnixEpoch));
        Assert.Contains("5 fired (2 armed): drop-rx 3, corrupt-tx 2", text);
        Assert.Contains("(no stack)", text);
    }

    [Theory]
    [InlineData(false, false, false, true)]
    [InlineData(true, false, false, false)]
    [InlineData(false, true, false, false)]
    [InlineData(false, false, true, false)]
    public void OffWhenQuietRedirectedOrCarryingData(bool quiet, bool redirected, bool data, bool shown)
        => Assert.Equal(shown, LiveStatusView.ShouldShow(quiet, redirected, data));

    [Fact]
    public void NoLiveViewOnAWriterThatIsNotTheConsoleOrWithQuiet()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        Assert.True(EmuCommandLine.TryRouteOutput(null, new InstrumentOptions(), stdout, stderr, null, out OutputRouting? routing));
        Assert.Null(routing.LiveTerminal);
        Assert.Same(stdout, routing.Text);
        Assert.True(EmuCommandLine.TryRouteOutput(null, new InstrumentOptions { Quiet = true }, Console.Out, Console.Error, null, out routing));
        Assert.Null(routing.LiveTerminal);

        // --pcap -: text to stderr, the capture to the binary stream.
        using var binary = new MemoryStream();
        Assert.True(EmuCommandLine.TryRouteOutput("-", new InstrumentOptions(), stdout, stderr, binary, out routing));
        Assert.Same(stderr, routing.Text);
        Assert.IsType<ReaderGoneStream>(routing.PcapStream);
        Assert.Null(routing.PcapFile);
    }

    [Fact]
    public void ReporterDrawsFramesOnItsTerminalAndLinesAboveThem()
    {
        var pair = new NodePair();
        var terminal = new StringWriter();
        Node node = pair.Sender;
        Assert.True(StatusReporter.TryCreate(new StatusSources(node.Machine.Nic, node), pair.Scheduler, new InstrumentOptions(), TextWriter.Null, TextWriter.Synchronized(terminal), "emu run", TextWriter.Null, out StatusReporter? reporter));
        Assert.NotNull(reporter);
        reporter.Start();
        pair.Scheduler.RunFor(3 * StatusReporter.RefreshNs);
        Assert.True(reporter.TryWriteLine("a line from the node"));
        reporter.Dispose();
        Assert.False(reporter.TryWriteLine("after"));
        string text = terminal.ToString();
        Assert.Contains("a line from the node", text);
        Assert.Contains("rx ring", text);
        Assert.Contains("\e[", text, StringComparison.Ordinal);   // redrawn in place
    }

    private static string Render(CounterSnapshot? previous, CounterSnapshot current)
    {
        var output = new StringWriter();
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Out = new AnsiConsoleOutput(output),
        });
        console.Profile.Width = 160;
        LiveStatusView.Render(console, "emu run", previous, current);
        return output.ToString();
    }

    private sealed class TwoFaults : IFaultSource
    {
        public int Armed => 2;

        public IReadOnlyList<KeyValuePair<string, long>> Firings => [new("drop-rx", 3), new("corrupt-tx", 2)];
    }
}
