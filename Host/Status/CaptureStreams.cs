using Emu.Emulator.Machine;
using Emu.Emulator.Wire;

namespace Emu.Host.Status;

/// <summary>Opens the capture of a run: to a file (<c>--pcap FILE</c>) or streamed (<c>--pcap -</c>: standard output).</summary>
public static class CaptureStreams
{
    /// <summary>
    /// A capture to <paramref name="file"/>, else to <paramref name="stream"/> (not owned; flushed after each frame so
    /// a live reader such as <c>wireshark -k -i -</c> sees frames as they come), else null.
    /// </summary>
    public static PacketCapture? Open(FileInfo? file, Stream? stream, EventScheduler clock, CaptureFormat format)
    {
        if (file is not null)
        {
            return PacketCapture.Create(file.FullName, clock, format);
        }

        if (stream is null)
        {
            return null;
        }

        var capture = new PacketCapture(stream, clock, format, "e1000", ownsStream: false) { FlushEachFrame = true };
        stream.Flush();   // the section and interface headers now: a reader starts before the first frame
        return capture;
    }
}
