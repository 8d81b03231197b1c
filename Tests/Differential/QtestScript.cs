using Emu.Emulator.E1000;

namespace Emu.Tests.Differential;

/// <summary>
/// A qtest script from Tests/qtest/: one command per line; '#' lines and blank lines are comments. A command may end
/// with <c>#! dev=ID emu=TRANSCRIPT</c>: at that command Emu follows the manual and answers TRANSCRIPT (its IRQ lines
/// and reply joined by " | ") where QEMU answers otherwise; ID names a <see cref="QemuDeviation"/>.
/// Any other <c> #</c> comment at the end of a command is dropped.
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

    public static string Directory => Path.Combine(AppContext.BaseDirectory, "qtest");

    public static IEnumerable<string> AllNames()
        => System.IO.Directory.GetFiles(Directory, "*.qtest").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal)!;

    public static QtestScript Load(string name)
    {
        string path = Path.Combine(Directory, name + ".qtest");
        string[] lines = File.ReadAllLines(path);
        string title = lines.Length > 0 && lines[0].StartsWith('#') ? lines[0].TrimStart('#').Trim() : name;
        var steps = new List<QtestStep>();
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i];
            string trimmed = line.TrimStart();
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

        return new QtestScript(name, title, steps);
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
public sealed record QtestStep(int Line, string Command, QemuDeviation? Deviation, string? EmuTranscript);
