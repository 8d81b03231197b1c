namespace Emu.Tests.Tools;

/// <summary>The checkout the tests run from: found upward from the test assembly by its Emu.sln.</summary>
internal static class RepoFiles
{
    public static string Root()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "Emu.sln")))
        {
            dir = Path.GetDirectoryName(dir);
        }

        Assert.NotNull(dir);
        return dir;
    }

    /// <summary>README.md with \n line ends.</summary>
    public static string Readme() => File.ReadAllText(Path.Combine(Root(), "README.md")).ReplaceLineEndings("\n");
}
