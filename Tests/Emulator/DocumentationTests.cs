using Emu.Emulator.E1000;

namespace Emu.Tests.Emulator;

/// <summary>README.md stays true: every named deviation is in its table, and every ID there exists.</summary>
public sealed class DocumentationTests
{
    private static string Readme()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "Emu.sln")))
        {
            dir = Path.GetDirectoryName(dir);
        }

        Assert.NotNull(dir);
        return File.ReadAllText(Path.Combine(dir, "README.md"));
    }

    [Fact]
    public void EveryDeviationIsListedInReadme()
    {
        string readme = Readme();
        foreach (QemuDeviation deviation in QemuDeviations.All)
        {
            Assert.Contains($"| `{deviation.Id}` |", readme);
        }
    }

    [Fact]
    public void ReadmeListsNoUnknownDeviation()
    {
        string readme = Readme();
        int table = readme.IndexOf("## Deviations from QEMU", StringComparison.Ordinal);
        foreach (string line in readme[table..].Split('\n'))
        {
            if (line.StartsWith("| `", StringComparison.Ordinal))
            {
                string id = line[3..line.IndexOf('`', 3)];
                Assert.NotNull(QemuDeviations.Find(id));
            }
        }
    }

    [Fact]
    public void EveryDeviationIsExercisedByAQtestScript()
    {
        string all = string.Concat(Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "qtest"), "*.qtest").Select(File.ReadAllText));
        foreach (QemuDeviation deviation in QemuDeviations.All)
        {
            Assert.Contains($"#! dev={deviation.Id} ", all);
        }
    }
}
