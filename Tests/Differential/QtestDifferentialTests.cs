using System.Text;

namespace Emu.Tests.Differential;

/// <summary>
/// Each script in Tests/qtest/ runs against the QEMU 11 oracle and against Emu's qtest server; every answer (IRQ
/// lines and reply) must be identical, except at commands annotated with a named deviation, where Emu must give the
/// annotated answer and QEMU must still differ from it.
/// </summary>
[Trait("Category", "Qemu")]
public sealed class QtestDifferentialTests
{
    public static TheoryData<string> Scripts()
    {
        var data = new TheoryData<string>();
        foreach (string name in QtestScript.AllNames())
        {
            data.Add(name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Scripts))]
    public void EmuAnswersAsQemuApartFromNamedDeviations(string script)
    {
        QtestScript loaded = QtestScript.Load(script);
        using var qemuPeer = loaded.NeedsNetdev ? new QtestPeer() : null;
        using var emuPeer = loaded.NeedsNetdev ? new QtestPeer() : null;
        using var qemu = new QemuQtestTarget(netdevSpec: qemuPeer?.ClientSpec);
        using IQtestTarget emu = loaded.NeedsNetdev ? new EmuProcessQtestTarget("--netdev", emuPeer!.ClientSpec) : new EmuQtestTarget();
        qemuPeer?.WaitForConnection(TimeSpan.FromSeconds(30));
        emuPeer?.WaitForConnection(TimeSpan.FromSeconds(30));
        var failures = new StringBuilder();
        int failureCount = 0;
        foreach (QtestStep step in loaded.Steps)
        {
            string expected;
            string actual;
            if (step.IsDirective)
            {
                expected = Directive(step.Command, qemu, qemuPeer!);
                actual = Directive(step.Command, emu, emuPeer!);
            }
            else
            {
                expected = qemu.Send(step.Command);
                actual = emu.Send(step.Command);
            }

            string? problem = null;
            if (step.Deviation is null)
            {
                if (actual != expected)
                {
                    problem = $"QEMU: {expected}\n      Emu:  {actual}";
                }
            }
            else if (actual != step.EmuTranscript)
            {
                problem = $"deviation {step.Deviation.Id}: Emu should answer {step.EmuTranscript}\n      Emu:  {actual}\n      QEMU: {expected}";
            }
            else if (expected == actual)
            {
                problem = $"deviation {step.Deviation.Id} is stale: QEMU now answers as Emu does ({actual}); drop the annotation";
            }

            if (problem is not null && ++failureCount <= 200)
            {
                failures.Append(script).Append(".qtest:").Append(step.Line).Append(": ").AppendLine(step.Command)
                    .Append("      ").AppendLine(problem);
            }
        }

        Assert.True(failureCount == 0, $"{failureCount} answers differ (first 200 shown):\n{failures}");
    }

    private static readonly TimeSpan s_wireTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Runs a wire directive against one target and its peer; returns what is compared.</summary>
    private static string Directive(string directive, IQtestTarget target, QtestPeer peer)
    {
        if (directive.StartsWith("send ", StringComparison.Ordinal))
        {
            peer.Send(Convert.FromHexString(directive[5..].Trim()));
            return "sent";
        }

        if (directive == "disconnect")
        {
            peer.Disconnect(s_wireTimeout);
            return "reconnected";
        }

        if (directive == "recv")
        {
            byte[]? frame = peer.Receive(s_wireTimeout);
            return frame is null ? "no frame" : Convert.ToHexStringLower(frame);
        }

        // wait COMMAND == REPLY: poll a side-effect-free command until it answers REPLY, keeping the IRQ lines seen.
        string[] parts = directive[5..].Split(" == ", 2);
        var irqs = new List<string>();
        var deadline = DateTime.UtcNow + s_wireTimeout;
        while (true)
        {
            string[] lines = target.Send(parts[0].Trim()).Split(" | ");
            irqs.AddRange(lines[..^1]);
            if (lines[^1] == parts[1].Trim())
            {
                return irqs.Count == 0 ? "reached" : "reached | " + string.Join(" | ", irqs);
            }

            if (DateTime.UtcNow > deadline)
            {
                return $"timed out at {lines[^1]}";
            }

            Thread.Sleep(2);
        }
    }

    [Fact]
    public void ThereAreAtLeastThirtyScripts() => Assert.True(QtestScript.AllNames().Count() >= 30);
}
