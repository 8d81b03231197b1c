using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Emu.Driver.Kernel;

/// <summary>
/// The kernel log (dmesg): a ring of timestamped lines, each also sent to Microsoft.Extensions.Logging. Lines look
/// like Linux's: "[    1.234567] e1000 0000:00:03.0 eth0: NIC Link is Up 1000 Mbps Full Duplex, Flow Control: RX/TX".
/// </summary>
public sealed partial class KernelLog
{
    public const int Capacity = 4096;
    private readonly Queue<string> _lines = new();
    private readonly Func<long> _now;
    private readonly ILogger _logger;

    public KernelLog(Func<long> now, ILogger logger)
    {
        _now = now;
        _logger = logger;
    }

    public IReadOnlyCollection<string> Lines => _lines;

    /// <summary>Raised with each new line (as `dmesg --follow` shows it).</summary>
    public event Action<string>? LineAdded;

    public void Info(string message) => Add(LogLevel.Information, message);

    public void Warn(string message) => Add(LogLevel.Warning, message);

    public void Error(string message) => Add(LogLevel.Error, message);

    public bool Contains(string text)
    {
        foreach (string line in _lines)
        {
            if (line.Contains(text, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private void Add(LogLevel level, string message)
    {
        long ns = _now();
        string line = string.Create(CultureInfo.InvariantCulture, $"[{ns / 1_000_000_000,5}.{ns / 1000 % 1_000_000:D6}] {message}");
        if (_lines.Count == Capacity)
        {
            _lines.Dequeue();
        }

        _lines.Enqueue(line);
        Log.Kernel(_logger, level, line);
        LineAdded?.Invoke(line);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5001, Message = "{Line}")]
        public static partial void Kernel(ILogger logger, LogLevel level, string line);
    }
}
