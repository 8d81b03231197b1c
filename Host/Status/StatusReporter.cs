using System.Diagnostics;
using Emu.Emulator.Machine;
using Emu.Host.Instruments;

namespace Emu.Host.Status;

/// <summary>
/// The periodic side of the status instruments for one run: <c>--stats-json</c> lines every <c>--stats-interval</c>
/// and the live view a few times a second. Snapshots are taken on the loop thread (by timers on the virtual clock in
/// <c>emu run</c>/<c>emu device</c>, or <see cref="Poll"/> after each qtest command, since a timer would change what
/// qtest's <c>clock_step</c> steps to); all writing happens on a <see cref="StatusOutputThread"/>.
/// </summary>
public sealed class StatusReporter : IDisposable
{
    /// <summary>The live view's refresh period (4 Hz).</summary>
    public const long RefreshNs = 250_000_000;

    /// <summary>Rates are taken over the last second (four refreshes), so that they do not flicker at each refresh.</summary>
    private const int RateWindow = 4;

    private readonly StatusSources _sources;
    private readonly EventScheduler _clock;
    private readonly Stopwatch _wall = Stopwatch.StartNew();
    private readonly StatusOutputThread _output;
    private readonly TextWriter? _ownedJson;
    private readonly long _intervalNs;
    private readonly bool _json;
    private VirtualTimer? _refreshTimer;
    private VirtualTimer? _statsTimer;
    private readonly Queue<CounterSnapshot> _recent = new(RateWindow + 1);
    private long _nextJsonAt;
    private bool _disposed;

    private StatusReporter(StatusSources sources, EventScheduler clock, TextWriter? live, TextWriter? json, bool ownsJson, double intervalSeconds, string title)
    {
        _sources = sources;
        _clock = clock;
        _json = json is not null;
        _ownedJson = ownsJson ? json : null;
        _intervalNs = Math.Max(1, (long)(intervalSeconds * 1e9));
        _nextJsonAt = clock.Now + _intervalNs;
        Live = live is not null;
        _output = new StatusOutputThread(live, json, title);
    }

    /// <summary>Whether the live view is drawn (text lines then go through <see cref="TryWriteLine"/>).</summary>
    public bool Live { get; }

    /// <summary>
    /// A reporter for what <paramref name="options"/> ask, or null when they ask for neither JSON lines nor (with
    /// <paramref name="liveTerminal"/> given and no <c>--quiet</c>) a live view. <c>--stats-json -</c> writes to
    /// <paramref name="dash"/>. False after a one-line error on <paramref name="stderr"/> (an unwritable file).
    /// </summary>
    public static bool TryCreate(StatusSources sources, EventScheduler clock, InstrumentOptions options, TextWriter dash, TextWriter? liveTerminal, string title, TextWriter stderr, out StatusReporter? reporter)
    {
        reporter = null;
        TextWriter? live = options.Quiet ? null : liveTerminal;
        TextWriter? json = null;
        bool owns = false;
        if (options.StatsJson is "-")
        {
            json = dash;
        }
        else if (options.StatsJson is { } path)
        {
            try
            {
                json = new StreamWriter(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read));
                owns = true;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                stderr.WriteLine($"emu: --stats-json {path}: {e.Message}");
                return false;
            }
        }

        if (live is not null || json is not null)
        {
            reporter = new StatusReporter(sources, clock, live, json, owns, options.StatsInterval, title);
        }

        return true;
    }

    /// <summary>Every counter now, without side effects.</summary>
    public CounterSnapshot Capture() => Capture(_sources, _clock, _wall.Elapsed.TotalSeconds);

    public static CounterSnapshot Capture(StatusSources sources, EventScheduler clock, double wallSeconds)
        => CounterSnapshot.Capture(sources, clock.Now, wallSeconds, DateTimeOffset.UtcNow);

    /// <summary>Arms the timers of the wall-clock modes (on the loop thread, before the loop runs).</summary>
    public void Start()
    {
        if (Live)
        {
            _refreshTimer = _clock.CreateTimer("status refresh", Refresh);
            Refresh();
        }

        if (_json)
        {
            _statsTimer = _clock.CreateTimer("stats json", WriteJsonLine);
            _statsTimer.Arm(_nextJsonAt);
        }
    }

    /// <summary>qtest: a JSON line once virtual time has passed the next interval boundary (one line however far a step went).</summary>
    public void Poll()
    {
        if (_json && _clock.Now >= _nextJsonAt)
        {
            _output.Json(StatsJsonWriter.Format(Capture()));
            _nextJsonAt = ((_clock.Now / _intervalNs) + 1) * _intervalNs;
        }
    }

    /// <summary>Queues a text line to scroll above the live view; false (write it yourself) when there is no live view.</summary>
    public bool TryWriteLine(string line)
    {
        if (!Live || Volatile.Read(ref _disposed))
        {
            return false;
        }

        _output.Text(line);
        return true;
    }

    /// <summary>Stops the timers and writes what is queued; the summary may follow on the same terminal.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _refreshTimer?.Cancel();
        _statsTimer?.Cancel();
        if (Live)
        {
            _output.Frame(_recent.Count == 0 ? null : _recent.Peek(), Capture());
        }

        Volatile.Write(ref _disposed, true);
        _output.Dispose();
        _ownedJson?.Dispose();
    }

    private void Refresh()
    {
        CounterSnapshot now = Capture();
        _output.Frame(_recent.Count == 0 ? null : _recent.Peek(), now);
        _recent.Enqueue(now);
        if (_recent.Count > RateWindow)
        {
            _recent.Dequeue();
        }

        _refreshTimer!.ArmIn(RefreshNs);
    }

    private void WriteJsonLine()
    {
        _output.Json(StatsJsonWriter.Format(Capture()));
        while (_nextJsonAt <= _clock.Now)
        {
            _nextJsonAt += _intervalNs;   // a loop that fell behind skips the lines it missed rather than bursting them
        }

        _statsTimer!.Arm(_nextJsonAt);
    }
}
