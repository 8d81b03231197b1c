using Emu.Host;

namespace Emu.Tests.Host;

/// <summary><c>emu bench ... --plot FILE</c>: the table's main metric as a bar chart.</summary>
public sealed class BenchPlotTests
{
    private static (int Code, string Out) Emu(params string[] args)
    {
        var stdout = new StringWriter();
        int code = EmuCommandLine.Run(args, new StringReader(string.Empty), stdout, new StringWriter());
        return (code, stdout.ToString());
    }

    [Fact]
    public void BenchDeviceDrawsItsTableAsAnSvg()
    {
        DirectoryInfo dir = Directory.CreateTempSubdirectory("emu-bench-plot-");
        try
        {
            string svg = Path.Combine(dir.FullName, "bench.svg");
            (int code, string output) = Emu("bench", "device", "--frames", "1000", "--sizes", "60", "1514", "--plot", svg);
            Assert.True(code == 0, output);
            Assert.Contains("Mpps", output);
            string text = File.ReadAllText(svg);
            Assert.StartsWith("<?xml", text);
            Assert.Contains("<svg", text);
            Assert.EndsWith("</svg>", text.TrimEnd());
            Assert.Contains("1518 bytes", text);   // a bar per row of the table, labelled as its first column
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void AnUnwritablePlotIsRefusedBeforeTheBenchmarkRuns()
    {
        (int code, string output) = Emu("bench", "device", "--frames", "1000", "--plot", "/tmp/bench.gif");
        Assert.Equal(2, code);
        Assert.Contains("must end in .svg or .png", output);
        Assert.DoesNotContain("Mpps", output);
    }
}
