using System.Diagnostics;
using System.Text;

namespace Emu.Tests.Differential;

/// <summary>The real <c>emu qtest</c> process, for scripts that need its netdev.</summary>
public sealed class EmuProcessQtestTarget : IQtestTarget
{
    private static readonly TimeSpan s_replyTimeout = TimeSpan.FromSeconds(30);
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();

    public EmuProcessQtestTarget(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "emu.dll"));
        start.ArgumentList.Add("qtest");
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException("could not start emu");
        _process.ErrorDataReceived += (_, e) =>
        {
            lock (_stderr)
            {
                _stderr.AppendLine(e.Data);
            }
        };
        _process.BeginErrorReadLine();
        _process.StandardInput.NewLine = "\n";
        _process.StandardInput.AutoFlush = true;
    }

    /// <summary>The process, for measurements such as its resident memory.</summary>
    public int ProcessId => _process.Id;

    /// <summary>What the process wrote to stderr so far.</summary>
    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    public string Send(string command)
    {
        _process.StandardInput.WriteLine(command);
        var lines = new List<string>();
        while (true)
        {
            Task<string?> read = _process.StandardOutput.ReadLineAsync();
            if (!read.Wait(s_replyTimeout))
            {
                throw new TimeoutException($"emu gave no reply to '{command}'. stderr: {_stderr}");
            }

            string line = read.Result ?? throw new InvalidOperationException($"emu exited after '{command}'. stderr: {_stderr}");
            lines.Add(line);
            if (!line.StartsWith("IRQ ", StringComparison.Ordinal))
            {
                return string.Join(" | ", lines);
            }
        }
    }

    public void Dispose()
    {
        try
        {
            _process.StandardInput.Close();
            if (!_process.WaitForExit(5000))
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        _process.Dispose();
    }
}
