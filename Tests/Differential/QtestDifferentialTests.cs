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
        using var qemu = new QemuQtestTarget();
        using var emu = new EmuQtestTarget();
        var failures = new StringBuilder();
        int failureCount = 0;
        foreach (QtestStep step in loaded.Steps)
        {
            string expected = qemu.Send(step.Command);
            string actual = emu.Send(step.Command);
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

            if (problem is not null && ++failureCount <= 10)
            {
                failures.Append(script).Append(".qtest:").Append(step.Line).Append(": ").AppendLine(step.Command)
                    .Append("      ").AppendLine(problem);
            }
        }

        Assert.True(failureCount == 0, $"{failureCount} answers differ (first 10 shown):\n{failures}");
    }

    [Fact]
    public void ThereAreAtLeastThirtyScripts() => Assert.True(QtestScript.AllNames().Count() >= 30);
}
