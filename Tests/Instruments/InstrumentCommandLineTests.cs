using Emu.Emulator.Instruments;
using Emu.Emulator.Machine;
using Emu.Emulator.Wire;
using Emu.Host;
using Emu.Host.Instruments;
using Emu.Stack.Core;
using Emu.Stack.Ipv6;
using Emu.Stack.Sockets;
using Emu.Stack.Wire;

namespace Emu.Tests.Instruments;

/// <summary>The instruments as users reach them: the command line, README's debugging example, the skb trace.</summary>
public sealed class InstrumentCommandLineTests
{
    private static string Readme()
    {
        return Tools.RepoFiles.Readme();
    }

    private static (int Exit, string Stdout, string Stderr) Emu(string stdin, params string[] args) => Tools.EmuCli.Run(stdin, args);

    [Fact]
    public void ReadmesDebuggingExampleGivesTheWarningsItShows()
    {
        string readme = Readme();
        int start = readme.IndexOf("<!-- example: debugging-a-driver -->", StringComparison.Ordinal);
        Assert.True(start >= 0);
        const string open = "cat > wrong.qtest <<'EOF'\n";
        int scriptStart = readme.IndexOf(open, start, StringComparison.Ordinal) + open.Length;
        int scriptEnd = readme.IndexOf("EOF\n", scriptStart, StringComparison.Ordinal);
        string script = readme[scriptStart..scriptEnd];
        Assert.Contains("dotnet run --project Host -- qtest --check --trace regs < wrong.qtest", readme[scriptEnd..], StringComparison.Ordinal);
        const string shown = "gets (on stderr):\n\n```\n";
        int outputStart = readme.IndexOf(shown, scriptEnd, StringComparison.Ordinal) + shown.Length;
        int outputEnd = readme.IndexOf("```\n<!-- end example -->", outputStart, StringComparison.Ordinal);
        string expected = readme[outputStart..outputEnd];

        (int exit, string stdout, string stderr) = Emu(script, "qtest", "--check", "--trace", "regs");
        Assert.Equal(0, exit);
        Assert.Equal(expected, stderr);
        Assert.StartsWith("OK", stdout, StringComparison.Ordinal);
        Assert.Contains("CHECK ring-base-align", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadmesRuleTableListsEveryRuleWithItsSection()
    {
        string readme = Readme();
        foreach (CheckRule rule in CheckRules.All)
        {
            Assert.Contains($"| `{rule.Id}` | {rule.Section} | {rule.Rule} |", readme, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void TheTraceGoesToTheTraceFile()
    {
        string file = Path.Combine(Path.GetTempPath(), $"emu-trace-{Guid.NewGuid():N}.txt");
        try
        {
            (int exit, _, string stderr) = Emu("outl 0xcf8 0x80001810\noutl 0xcfc 0xfebc0000\noutl 0xcf8 0x80001804\noutw 0xcfc 0x6\nwritel 0xfebc00d0 0x4\nreadl 0xfebc0008\n", "qtest", "--trace", "regs,irq", "--trace-file", file);
            Assert.Equal(0, exit);
            Assert.DoesNotContain("W IMS", stderr, StringComparison.Ordinal);
            string trace = File.ReadAllText(file);
            Assert.Contains("W IMS    <- 0x00000004  LSC  (IMS now LSC)", trace, StringComparison.Ordinal);
            Assert.Contains("R STATUS -> 0x80080783  FD|LU", trace, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData(new[] { "qtest", "--trace", "regs,bogus" }, "emu: --trace 'regs,bogus': 'bogus' is not a trace category")]
    [InlineData(new[] { "qtest", "--trace", "regs", "--trace-file", "/nonexistent-dir/x/trace.txt" }, "emu: --trace-file /nonexistent-dir/x/trace.txt:")]
    [InlineData(new[] { "run", "--trace", "wire,,skb" }, "an empty name in the list")]
    [InlineData(new[] { "qtest", "--stats-interval", "0" }, "--stats-interval takes")]
    public void BadInstrumentOptionsAreRefusedWithExitStatus2(string[] args, string message)
    {
        (int exit, _, string stderr) = Emu(string.Empty, args);
        Assert.Equal(2, exit);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void ACheckRunWithNothingWrongSaysSo()
    {
        (int exit, _, string stderr) = Emu("outl 0xcf8 0x80001810\noutl 0xcfc 0xfebc0000\noutl 0xcf8 0x80001804\noutw 0xcfc 0x6\nreadl 0xfebc0008\n", "qtest", "--check");
        Assert.Equal(0, exit);
        Assert.Equal("emu: --check: no warnings\n", stderr);
    }

    [Fact]
    public void TheSkbTraceNamesLinuxsTracepoints()
    {
        var scheduler = new EventScheduler();
        var a = new Node(Node.WithMac("52:54:00:12:34:56"), scheduler: scheduler, ipv6Seed: 1);
        var b = new Node(Node.WithMac("52:54:00:12:34:57"), scheduler: scheduler, ipv6Seed: 2);
        var output = new StringWriter { NewLine = "\n" };
        var trace = new TraceWriter(output, scheduler, TraceCategory.Skb);
        a.Kernel.Net.SkbProbe = new SkbTracer(trace, "a");
        b.Kernel.Net.SkbProbe = new SkbTracer(trace, "b");
        var link = new WireLink(scheduler);
        WireLink.Attach(link.A, a.Machine.Nic);
        WireLink.Attach(link.B, b.Machine.Nic);
        Assert.Equal(1, a.Boot());
        Assert.Equal(1, b.Boot());
        a.Kernel.Net.DevOpen(a.Netdev!);
        b.Kernel.Net.DevOpen(b.Netdev!);
        Assert.True(scheduler.RunUntil(() => a.Ipv6.Inet6(a.Netdev!) is { LinkLocal.Usable: true } && b.Ipv6.Inet6(b.Netdev!) is { LinkLocal.Usable: true }, 20_000_000_000));
        a.Ipv6.Sockets.Create(SockType.Dgram, IpProto.Udp, out Socket? tx);
        tx!.Connect(new Ipv6EndPoint(Ipv6Address.LinkLocalFromMac(b.Netdev!.DevAddr), 4444, a.Netdev!.IfIndex));
        tx.Send(new byte[100]);
        scheduler.RunFor(100_000_000);

        string text = output.ToString();
        Assert.Matches(@"SKB \[a\] net_dev_queue eth0 len=\d+ proto=0x86dd", text);
        Assert.Contains("SKB [a] net_dev_start_xmit eth0", text, StringComparison.Ordinal);
        Assert.Contains("SKB [b] netif_receive_skb eth0", text, StringComparison.Ordinal);

        // A frame for a protocol nobody handles: dropped under rx_nohandler, named as Linux's drop reason.
        byte[] frame = new byte[60];
        b.Netdev.DevAddr.AsSpan(0, 6).CopyTo(frame);
        frame[12] = 0x88;
        frame[13] = 0xB5;
        a.Machine.Nic.Wire!.ReceiveFrame(frame);
        scheduler.RunFor(10_000_000);
        Assert.Contains("SKB [b] kfree_skb eth0 len=46 proto=0x88b5 reason=UNHANDLED_PROTO (rx_nohandler)", output.ToString(), StringComparison.Ordinal);
    }
}
