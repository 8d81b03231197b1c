using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Emu.Tests.Host;

/// <summary>
/// `dotnet pack Host` makes emu a .NET tool: packed into a temporary folder (its own bin/obj, so the tree the tests
/// run from is untouched), installed from there alone into a temporary tool path, and run.
/// </summary>
public sealed partial class PackagingTests
{
    private static readonly TimeSpan s_packTimeout = TimeSpan.FromMinutes(8);
    private static readonly TimeSpan s_runTimeout = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task PackedToolInstallsAndRuns()
    {
        string repo = RepositoryRoot();
        string dir = Directory.CreateTempSubdirectory("emu-pack-").FullName;
        try
        {
            string packages = Path.Combine(dir, "packages");
            (int packed, string packOutput, string packErrors) = await RunAsync(Dotnet, null, s_packTimeout,
                "pack", Path.Combine(repo, "Host"), "-o", packages, "--artifacts-path", Path.Combine(dir, "artifacts"), "-nologo");
            Assert.True(packed == 0, $"dotnet pack exited {packed}:\n{packOutput}{packErrors}");
            string nupkg = Path.GetFileName(Assert.Single(Directory.GetFiles(packages, "*.nupkg")));
            Match name = PackageName().Match(nupkg);
            Assert.True(name.Success, nupkg);
            string version = name.Groups[1].Value;

            // Only the folder just packed as a source, and a fresh package cache: no network, no stale Emu.Tool.
            string config = Path.Combine(dir, "nuget.config");
            File.WriteAllText(config, $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <config><add key="globalPackagesFolder" value="{Path.Combine(dir, "cache")}" /></config>
                  <packageSources><clear /><add key="local" value="{packages}" /></packageSources>
                </configuration>
                """);
            string tools = Path.Combine(dir, "tools");
            (int installed, string installOutput, string installErrors) = await RunAsync(Dotnet, null, s_runTimeout,
                "tool", "install", "--tool-path", tools, "--configfile", config, "Emu.Tool");
            Assert.True(installed == 0, $"dotnet tool install exited {installed}:\n{installOutput}{installErrors}");
            Assert.Contains("emu", installOutput, StringComparison.Ordinal);
            string emu = Path.Combine(tools, OperatingSystem.IsWindows() ? "emu.exe" : "emu");

            (int help, string helpOutput, string helpErrors) = await RunAsync(emu, null, s_runTimeout, "--help");
            Assert.True(help == 0, $"emu --help exited {help}:\n{helpOutput}{helpErrors}");
            Assert.Contains("Usage:", helpOutput, StringComparison.Ordinal);
            foreach (string command in new[] { "qtest", "run", "device", "bench" })
            {
                Assert.Contains($"  {command} ", helpOutput, StringComparison.Ordinal);
            }

            (int shown, string versionOutput, _) = await RunAsync(emu, null, s_runTimeout, "--version");
            Assert.Equal(0, shown);
            Assert.StartsWith(version, versionOutput, StringComparison.Ordinal);

            (int served, string qtestOutput, string qtestErrors) = await RunAsync(emu, "outl 0xcf8 0x80001800\ninl 0xcfc\n", s_runTimeout, "qtest");
            Assert.True(served == 0, $"emu qtest exited {served}:\n{qtestOutput}{qtestErrors}");
            Assert.Equal("OK\nOK 0x100e8086\n", qtestOutput);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    private static string RepositoryRoot()
    {
        return Tools.RepoFiles.Root();
    }

    /// <summary>Runs a program to its end (killed at the timeout): its exit status, stdout and stderr.</summary>
    private static async Task<(int Code, string Output, string Errors)> RunAsync(string program, string? input, TimeSpan timeout, params string[] args)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(input ?? string.Empty);
        process.StandardInput.Close();
        using (var deadline = new CancellationTokenSource(timeout))
        {
            try
            {
                await process.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
                return (-1, await stdout, $"{program} {string.Join(' ', args)}: killed after {timeout}\n{await stderr}");
            }
        }

        return (process.ExitCode, (await stdout).Replace("\r\n", "\n", StringComparison.Ordinal), await stderr);
    }

    [GeneratedRegex(@"^Emu\.Tool\.(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)\.nupkg$")]
    private static partial Regex PackageName();
}
