using Microsoft.Extensions.Logging;

namespace Emu.Tests.Faults;

/// <summary>A logger factory that keeps every message (level and text) for assertions.</summary>
internal sealed class ListLoggerFactory : ILoggerFactory
{
    public List<(LogLevel Level, string Message)> Entries { get; } = [];

    public ILogger CreateLogger(string categoryName) => new ListLogger(this);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private sealed class ListLogger(ListLoggerFactory owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => owner.Entries.Add((logLevel, formatter(state, exception)));
    }
}
