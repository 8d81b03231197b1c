using System.Globalization;
using Emu.Emulator.Machine;

namespace Emu.Emulator.Instruments;

/// <summary>
/// Where trace and check lines go: one line an event, the virtual time in seconds first. An I/O error on the trace
/// file stops the trace (counted in <see cref="LinesLost"/>) and never reaches the device.
/// </summary>
public sealed class TraceWriter : IDisposable
{
    private readonly TextWriter _out;
    private readonly EventScheduler _clock;
    private readonly bool _owns;
    private readonly object _lock = new();
    private bool _failed;

    public TraceWriter(TextWriter output, EventScheduler clock, TraceCategory categories, bool ownsWriter = false)
    {
        _out = output;
        _clock = clock;
        Categories = categories;
        _owns = ownsWriter;
    }

    public TraceCategory Categories { get; }

    public long Lines { get; private set; }

    public long LinesLost { get; private set; }

    public bool IsOn(TraceCategory category) => (Categories & category) != 0;

    /// <summary>The virtual time as the trace prints it: seconds with microseconds, right-aligned.</summary>
    public static string Time(long nanoseconds) => (nanoseconds / 1e9).ToString("F6", CultureInfo.InvariantCulture).PadLeft(10);

    public void Write(string text)
    {
        lock (_lock)
        {
            if (_failed)
            {
                LinesLost++;
                return;
            }

            try
            {
                _out.Write(Time(_clock.Now));
                _out.Write(' ');
                _out.WriteLine(text);
                Lines++;
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                _failed = true;
                LinesLost++;
            }
        }
    }

    public void Flush()
    {
        lock (_lock)
        {
            try
            {
                _out.Flush();
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                _failed = true;
            }
        }
    }

    public void Dispose()
    {
        Flush();
        if (_owns)
        {
            _out.Dispose();
        }
    }
}
