using System.Text;
using Spectre.Console;

namespace Emu.Host.Status;

/// <summary>
/// Writes what the status reporter produces — JSON lines, text lines, live view frames — on a thread of its own, so
/// that the node's loop never waits on a terminal or a pipe: the loop only queues. A frame not drawn yet is replaced
/// by a newer one; JSON lines are kept (up to <see cref="MaxQueuedLines"/>, then counted as lost).
/// </summary>
internal sealed class StatusOutputThread : IDisposable
{
    internal const int MaxQueuedLines = 10_000;

    private readonly TextWriter? _terminal;
    private readonly TextWriter? _json;
    private readonly string _title;
    private readonly object _gate = new();   // Monitor.Wait/Pulse need an object, not a Lock
    private readonly Queue<string> _jsonLines = new();
    private readonly Queue<string> _textLines = new();
    private readonly Thread _thread;
    private (CounterSnapshot? Previous, CounterSnapshot Current)? _frame;
    private (CounterSnapshot? Previous, CounterSnapshot Current)? _lastFrame;
    private bool _stopping;
    private int _drawnLines;

    public StatusOutputThread(TextWriter? terminal, TextWriter? json, string title)
    {
        _terminal = terminal;
        _json = json;
        _title = title;
        _thread = new Thread(Run) { IsBackground = true, Name = "emu status" };
        _thread.Start();
    }

    /// <summary>JSON lines lost because the reader did not keep up.</summary>
    public long LostLines { get; private set; }

    public void Json(string line) => Enqueue(_jsonLines, line);

    public void Text(string line) => Enqueue(_textLines, line);

    public void Frame(CounterSnapshot? previous, CounterSnapshot current)
    {
        lock (_gate)
        {
            _frame = (previous, current);
            Monitor.Pulse(_gate);
        }
    }

    /// <summary>Writes what is queued, then ends the thread (waits at most a few seconds for a stuck reader).</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _stopping = true;
            Monitor.Pulse(_gate);
        }

        _thread.Join(TimeSpan.FromSeconds(5));
    }

    /// <summary>Renders a frame as the terminal shows it, <paramref name="width"/> columns wide (ANSI colours).</summary>
    internal static string RenderFrame(string title, CounterSnapshot? previous, CounterSnapshot current, int width)
    {
        var text = new StringWriter();
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.Yes,
            ColorSystem = ColorSystemSupport.Standard,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(text),
        });
        console.Profile.Width = width;
        LiveStatusView.Render(console, title, previous, current);
        string frame = text.ToString();
        return frame.EndsWith('\n') ? frame : frame + "\n";
    }

    private void Enqueue(Queue<string> queue, string line)
    {
        lock (_gate)
        {
            if (queue.Count >= MaxQueuedLines)
            {
                LostLines++;
                return;
            }

            queue.Enqueue(line);
            Monitor.Pulse(_gate);
        }
    }

    private void Run()
    {
        var json = new List<string>();
        var text = new List<string>();
        while (true)
        {
            (CounterSnapshot? Previous, CounterSnapshot Current)? frame;
            bool stopping;
            lock (_gate)
            {
                while (!_stopping && _jsonLines.Count == 0 && _textLines.Count == 0 && _frame is null)
                {
                    Monitor.Wait(_gate);
                }

                json.AddRange(_jsonLines);
                _jsonLines.Clear();
                text.AddRange(_textLines);
                _textLines.Clear();
                frame = _frame;
                _frame = null;
                stopping = _stopping;
            }

            try
            {
                WriteJson(json);
                WriteTerminal(text, frame);
            }
            catch (IOException)
            {
                // The reader went away (a closed pipe): nothing more to show.
                return;
            }

            json.Clear();
            text.Clear();
            if (stopping)
            {
                return;
            }
        }
    }

    private void WriteJson(List<string> lines)
    {
        if (_json is null || lines.Count == 0)
        {
            return;
        }

        foreach (string line in lines)
        {
            _json.WriteLine(line);
        }

        _json.Flush();
    }

    private void WriteTerminal(List<string> lines, (CounterSnapshot? Previous, CounterSnapshot Current)? frame)
    {
        if (_terminal is null || (lines.Count == 0 && frame is null))
        {
            return;
        }

        // Redraw in place: up over the last frame, erase to the end of the screen, text lines, then the new frame.
        var output = new StringBuilder();
        if (_drawnLines > 0)
        {
            output.Append("\e[").Append(_drawnLines).Append("F\e[J");
        }

        foreach (string line in lines)
        {
            output.Append(line).Append('\n');
        }

        _drawnLines = 0;
        if (frame is { } f)
        {
            string drawn = RenderFrame(_title, f.Previous, f.Current, TerminalWidth());
            output.Append(drawn);
            _drawnLines = drawn.Count(c => c == '\n');
            _lastFrame = f;
        }
        else if (_lastFrame is { } last)
        {
            string drawn = RenderFrame(_title, last.Previous, last.Current, TerminalWidth());
            output.Append(drawn);
            _drawnLines = drawn.Count(c => c == '\n');
        }

        _terminal.Write(output.ToString());
        _terminal.Flush();
    }

    private static int TerminalWidth()
    {
        try
        {
            int width = Console.WindowWidth;
            return width <= 0 ? 100 : Math.Clamp(width, 40, 200);   // 0: a terminal that reports no size
        }
        catch (IOException)
        {
            return 100;
        }
    }
}
