using Emu.Emulator.Platform;

namespace Emu.Emulator.VfioUser;

/// <summary>One message as received: its header, its payload (after the header), the file descriptors that came with it, and when (Stopwatch ticks).</summary>
public sealed record VfioUserMessage(VfioUserHeader Header, byte[] Payload, int[] Fds, long Received = 0)
{
    /// <summary>Closes descriptors nobody took.</summary>
    public void CloseFds()
    {
        foreach (int fd in Fds)
        {
            if (fd >= 0)
            {
                Native.Close(fd);
            }
        }
    }
}
