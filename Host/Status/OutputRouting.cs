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
        PcapStream?.Dispose();   // waits (a bounded time) for what the reader has not taken yet
        if (PcapStream is ReaderGoneStream { BlocksDropped: > 0 } stream)
        {
            Text.WriteLine($"emu: --pcap -: the reader fell behind; {stream.BlocksDropped} capture blocks were left out (the stream stays valid pcapng)");
        }

        ownedStdout?.Dispose();
    }
}
