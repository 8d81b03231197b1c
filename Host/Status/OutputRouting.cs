namespace Emu.Host.Status;

/// <summary>
/// Where one `emu run` or `emu device` writes (see <c>EmuCommandLine.TryRouteOutput</c>): its text (banner, log,
/// summary), the terminal of its live view (null: none), and its capture, to a file or streamed (<paramref name="ownedStdout"/>: the buffered standard output under it, closed at the end).
/// </summary>
internal sealed class OutputRouting(TextWriter text, TextWriter? liveTerminal, FileInfo? pcapFile, Stream? pcapStream, Stream? ownedStdout) : IDisposable
{
    public TextWriter Text { get; } = text;

    public TextWriter? LiveTerminal { get; } = liveTerminal;

    public FileInfo? PcapFile { get; } = pcapFile;

    public Stream? PcapStream { get; } = pcapStream;

    public void Dispose()
    {
        PcapStream?.Flush();
        ownedStdout?.Dispose();
    }
}
