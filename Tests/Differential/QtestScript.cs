using Emu.Emulator.E1000;

namespace Emu.Tests.Differential;

/// <summary>
/// A qtest script from Tests/qtest/: one command per line; '#' lines and blank lines are comments. A command may end
/// with <c>#! dev=ID emu=TRANSCRIPT</c>: at that command Emu follows the manual and answers TRANSCRIPT (its IRQ lines
/// and reply joined by " | ") where QEMU answers otherwise; ID names a <see cref="QemuDeviation"/>.
/// Any other <c> #</c> comment at the end of a command is dropped.
/// Lines starting <c>#&gt; </c> are directives for the harness's wire peer, in scripts that start with
/// <c>#&gt; netdev</c>: <c>#&gt; send HEX</c> (the peer sends a frame), <c>#&gt; wait COMMAND == REPLY</c> (repeat a
/// side-effect-free command until it answers REPLY; the IRQ lines seen meanwhile are compared), <c>#&gt; recv</c> (the
/// next frame each target transmits; the two must match, or carry an annotation), <c>#&gt; disconnect</c> (the peer
/// closes the connection and waits for the target to reconnect).
/// </summary>
public sealed class QtestScript
{
    private QtestScript(string name, string title, IReadOnlyList<QtestStep> steps)
    {
        Name = name;
        Title = title;
        Steps = steps;
    }

    public string Name { get; }

    public string Title { get; }

    public IReadOnlyList<QtestStep> Steps { get; }

    /// <summary>The script needs a wire peer (its first directive is <c>#&gt; netdev</c>).</summary>
    public bool NeedsNetdev { get; private init; }

    public static string Directory => Path.Combine(AppContext.BaseDirectory, "qtest");

    public static IEnumerable<string> AllNames()
        => System.IO.Directory.GetFiles(Directory, "*.qtest").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal)!;

    public static QtestScript Load(string name)
    {
        string path = Path.Combine(Directory, name + ".qtest");
        string[] lines = File.ReadAllLines(path);
        string title = lines.Length > 0 && lines[0].StartsWith('#') ? lines[0].TrimStart('#').Trim() : name;
        var steps = new List<QtestStep>();
        bool netdev = false;
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i];
            string trimmed = line.TrimStart();
            if (trimmed.StartsWith("#> ", StringComparison.Ordinal))
            {
                string directive = trimmed[3..];
                QemuDeviation? dev = null;
                string? emu = null;
                int ann = directive.IndexOf(" #!", StringComparison.Ordinal);
                if (ann >= 0)
                {
                    (dev, emu) = ParseAnnotation(directive[(ann + 3)..], path, i + 1);
                    directive = directive[..ann];
                }

                directive = directive.Trim();
                if (directive == "netdev")
                {
                    netdev = true;
                    continue;
                }

                if (!directive.StartsWith("send ", StringComparison.Ordinal) && !directive.StartsWith("wait ", StringComparison.Ordinal) && directive != "recv" && directive != "disconnect")
                {
                    throw new FormatException($"{path}:{i + 1}: unknown directive '{directive}'");
                }

                steps.Add(new QtestStep(i + 1, directive, dev, emu, IsDirective: true));
                continue;
            }

            if (trimmed.Length == 0 || trimmed.StartsWith('#'))
            {
                continue;
            }

            string command = line;
            QemuDeviation? deviation = null;
            string? expected = null;
            int annotation = line.IndexOf(" #!", StringComparison.Ordinal);
            int comment = line.IndexOf(" #", StringComparison.Ordinal);
            if (annotation >= 0)
            {
                command = line[..annotation];
                (deviation, expected) = ParseAnnotation(line[(annotation + 3)..], path, i + 1);
            }
            else if (comment >= 0)
            {
                command = line[..comment];
            }

            steps.Add(new QtestStep(i + 1, command.TrimEnd(), deviation, expected));
        }

        return new QtestScript(name, title, steps) { NeedsNetdev = netdev };
    }

    private static (QemuDeviation, string) ParseAnnotation(string text, string path, int lineNumber)
    {
        text = text.Trim();
        const string devKey = "dev=";
        const string emuKey = " emu=";
        int emuAt = text.IndexOf(emuKey, StringComparison.Ordinal);
        if (!text.StartsWith(devKey, StringComparison.Ordinal) || emuAt < 0)
        {
            throw new FormatException($"{path}:{lineNumber}: a deviation annotation reads '#! dev=ID emu=TRANSCRIPT'.");
        }

        string id = text[devKey.Length..emuAt];
        QemuDeviation deviation = QemuDeviations.Find(id)
            ?? throw new FormatException($"{path}:{lineNumber}: '{id}' is not a deviation listed in QemuDeviations.");
        return (deviation, text[(emuAt + emuKey.Length)..].Trim());
    }
}

/// <summary>One command of a script, with Emu's expected transcript where a deviation is named.</summary>
public sealed record QtestStep(int Line, string Command, QemuDeviation? Deviation, string? EmuTranscript, bool IsDirective = false);
