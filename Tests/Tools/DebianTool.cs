using System.Diagnostics;

namespace Emu.Tests.Tools;

/// <summary>
/// A program from a Debian package that some tests need (tshark): found on PATH, or installed once with apt-get (the
/// tests run as root on CI, with the Debian registry reachable). A failure is a clear test failure, not a skip.
/// </summary>
internal static class DebianTool
{
    private static readonly object s_lock = new();
    private static readonly Dictionary<string, string> s_errors = [];

    public static string Require(string program, string package)
    {
        lock (s_lock)
        {
            string? found = Find(program);
            if (found is not null)
            {
                return found;
            }

            if (s_errors.TryGetValue(program, out string? error))
            {
                throw new InvalidOperationException(error);
            }

            (int code, string output) = Run("bash", "-c", $"(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq {package}) 2>&1 | tail -n 20");
            found = Find(program);
            if (found is null)
            {
                s_errors[program] = $"{program} is not installed and 'apt-get install {package}' failed (exit {code}; needs root and the Debian registry): {output}";
                throw new InvalidOperationException(s_errors[program]);
            }

            return found;
        }
    }

    /// <summary>Runs a program; stdout and stderr apart.</summary>
    public static (int Code, string Output, string Errors) RunSeparately(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }

        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(10)))
        {
            process.Kill(entireProcessTree: true);
            return (-1, string.Empty, "timed out");
        }

        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    public static (int Code, string Output) Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }

        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(10)))
        {
            process.Kill(entireProcessTree: true);
            return (-1, "timed out");
        }

        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    private static string? Find(string program)
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(':'))
        {
            string path = Path.Combine(dir, program);
            if (File.Exists(path))
            {
                return path;
            }
        }

        return null;
    }
}
