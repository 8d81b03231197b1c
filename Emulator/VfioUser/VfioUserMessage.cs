namespace Emu.Emulator.VfioUser;

/// <summary>One message as received: its header, its payload (after the header) and the file descriptors that came with it.</summary>
public sealed record VfioUserMessage(VfioUserHeader Header, byte[] Payload, int[] Fds)
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
