using System.Text;
using Emu.Host;

namespace Emu.Tests.Faults;

/// <summary>--fault, --faults and --seed on the command line: the README's example, and bad input refused with status 2.</summary>
public sealed class FaultCommandLineTests
{
    private static (int Code, string Out, string Err) Emu(string stdin, params string[] args) => Tools.EmuCli.Run(stdin, args);

    private static string Readme()
    {
        return Tools.RepoFiles.Readme();
    }

    [Fact]
    public void ReadmesWirePlanExampleGivesWhatItShows()
    {
        string readme = Readme();
        int start = readme.IndexOf("<!-- example: wire-fault-plan -->", StringComparison.Ordinal);
        Assert.True(start >= 0);
        const string open = "cat > plan.json <<'EOF'\n";
        int planStart = readme.IndexOf(open, start, StringComparison.Ordinal) + open.Length;
        int planEnd = readme.IndexOf("EOF\n", planStart, StringComparison.Ordinal);
        const string prefix = "dotnet run --project Host -- ";
        int commandStart = readme.IndexOf(prefix, planEnd, StringComparison.Ordinal) + prefix.Length;
        string command = readme[commandStart..readme.IndexOf('\n', commandStart)];
        const string shown = "the node sent in 3 s):\n\n```\n";
        int outputStart = readme.IndexOf(shown, planEnd, StringComparison.Ordinal) + shown.Length;
        string[] expected = readme[outputStart..readme.IndexOf("```\n<!-- end example -->", outputStart, StringComparison.Ordinal)].TrimEnd('\n').Split('\n');

        string dir = Path.Combine(Path.GetTempPath(), $"emu-faults-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            File.WriteAllText(Path.Combine(dir, "plan.json"), readme[planStart..planEnd]);
            string[] args = command.Split(' ').Select(a => a is "plan.json" or "faults.pcapng" ? Path.Combine(dir, a) : a).ToArray();
            (int code, string output, string error) = Emu(string.Empty, args);
            Assert.True(code == 0, output + error);
            string[] lines = output.Split('\n');
            foreach (string line in expected)
            {
                Assert.Contains(lines, l => l.StartsWith(line, StringComparison.Ordinal));
            }

            string capture = Encoding.UTF8.GetString(File.ReadAllBytes(Path.Combine(dir, "faults.pcapng")));
            Assert.Contains("fault 1 duplicate, fault 2 delay, fault 3 loss", capture);
            Assert.Contains("fault 1 duplicate, fault 2 delay", capture);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("run", "--fault", "loss,prob=2", "prob=")]
    [InlineData("run", "--fault", "lose", "'lose'")]
    [InlineData("run", "--seed", "x", "--seed")]
    [InlineData("qtest", "--fault", "delay,time=5", "time=")]
    [InlineData("qtest", "--fault", "loss,proto=udp,tcpflags=S", "tcpflags=")]
    [InlineData("device", "--fault", "rate,bps=1m,colour=red", "'colour'")]
    public void BadFaultsAreOneLineNamingTheKeyAndStatusTwo(string mode, string option, string value, string key)
    {
        string[] args = mode == "device" ? [mode, "--vfio-user", Path.Combine(Path.GetTempPath(), "emu-never.sock"), option, value] : [mode, option, value];
        (int code, string output, string error) = Emu(string.Empty, args);
        Assert.Equal(2, code);
        Assert.Contains(key, error);
        Assert.Single(error.TrimEnd('\n').Split('\n'));
        Assert.DoesNotContain("node up", output);
    }

    [Fact]
    public void BadPlanFileIsRefused()
    {
        string file = Path.Combine(Path.GetTempPath(), $"emu-plan-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, "[{\"kind\":\"loss-ge\",\"p\":0.1,\"r\":7}]");
        try
        {
            (int code, _, string error) = Emu(string.Empty, "qtest", "--faults", file);
            Assert.Equal(2, code);
            Assert.Contains("r=", error);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void QtestPrintsTheSeedOnStderrAndTheSummaryAtExit()
    {
        (int code, string output, string error) = Emu("readl 0x0\n", "qtest", "--fault", "loss,dir=rx", "--seed", "99");
        Assert.Equal(0, code);
        Assert.Equal("OK 0x0000000000000000\n", output);
        Assert.Contains("emu: faults armed, seed 99 (repeat with --seed 99)", error);
        Assert.Contains("fault 1 loss: fired 0  [loss,dir=rx]  (of 0 eligible)", error);
    }
}
