using System.Runtime.InteropServices;

namespace Emu.Emulator.Platform;

/// <summary>
/// The few libc calls .NET does not offer (dotnet/runtime#932: no SCM_RIGHTS on Socket): receiving and sending file
/// descriptors over a Unix socket, eventfd signalling, a poll with a nanosecond timeout (a node's loop waits on its
/// wakeup eventfd and a vfio-user socket at once, without spinning for sub-millisecond timers), and what the tests need
/// to play QEMU's side (memfd, eventfd, socketpair). Everything else uses .NET. Linux x86-64/arm64 layouts.
/// </summary>
public static unsafe partial class Native
{
    public const int SolSocket = 1;
    public const int ScmRights = 1;
    public const int MsgCtrunc = 0x8;
    public const int MsgNoSignal = 0x4000;
    public const int AfUnix = 1;
    public const int SockStream = 1;
    public const int Eintr = 4;
    public const int Eagain = 11;
    public const int MsgDontWait = 0x40;
    public const int EfdNonBlock = 0x800;
    public const int EfdCloexec = 0x80000;
    private const short PollIn = 0x1;
    private const short PollErr = 0x8;
    private const short PollHup = 0x10;
    private const short PollNval = 0x20;

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct IoVec
    {
        public void* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MsgHdr
    {
        public void* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    [LibraryImport("libc", EntryPoint = "recvmsg", SetLastError = true)]
    private static partial nint RecvMsg(int fd, MsgHdr* msg, int flags);

    [LibraryImport("libc", EntryPoint = "sendmsg", SetLastError = true)]
    private static partial nint SendMsg(int fd, MsgHdr* msg, int flags);

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    private static partial nint Recv(int fd, void* buffer, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    private static partial nint SendRaw(int fd, void* buffer, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static partial nint WriteRaw(int fd, void* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static partial nint ReadRaw(int fd, void* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "ppoll", SetLastError = true)]
    private static partial int PPoll(PollFd* fds, nuint count, TimeSpec* timeout, void* signalMask);

    [LibraryImport("libc", EntryPoint = "prctl", SetLastError = true)]
    private static partial int Prctl(int option, nuint argument2, nuint argument3, nuint argument4, nuint argument5);

    /// <summary>
    /// Lets this thread's timed sleeps end on time: Linux adds up to 50 µs of "timer slack" to a normal thread's
    /// timeouts, longer than the e1000's own delays (TIDV, ITR) that the loop sleeps for.
    /// </summary>
    public static bool SetTimerSlack(long nanoseconds) => Prctl(29, (nuint)nanoseconds, 0, 0, 0) == 0;   // PR_SET_TIMERSLACK

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    public static partial int EventFd(uint initial, int flags);

    [LibraryImport("libc", EntryPoint = "memfd_create", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int MemfdCreate(string name, uint flags);

    [LibraryImport("libc", EntryPoint = "ftruncate", SetLastError = true)]
    public static partial int Ftruncate(int fd, long length);

    [LibraryImport("libc", EntryPoint = "socketpair", SetLastError = true)]
    private static partial int SocketPairRaw(int domain, int type, int protocol, int* sv);

    [LibraryImport("libc", EntryPoint = "shutdown", SetLastError = true)]
    public static partial int Shutdown(int fd, int how);

    /// <summary>
    /// Receives up to <paramref name="buffer"/>.Length bytes and any descriptors riding with them (SCM_RIGHTS).
    /// Returns the byte count (0 at end of stream, negative errno on failure); <paramref name="truncated"/> is set
    /// when more descriptors came than <paramref name="fds"/> could hold (they are lost: the caller should drop the connection).
    /// </summary>
    public static int ReceiveWithFds(int socket, Span<byte> buffer, Span<int> fds, out int fdCount, out bool truncated, int flags = 0)
    {
        fdCount = 0;
        truncated = false;
        int controlLength = 16 + (((fds.Length * 4) + 7) & ~7);
        byte* control = stackalloc byte[controlLength];
        new Span<byte>(control, controlLength).Clear();
        fixed (byte* data = buffer)
        {
            var iov = new IoVec { Base = data, Length = (nuint)buffer.Length };
            var msg = new MsgHdr { Iov = &iov, IovLength = 1, Control = control, ControlLength = (nuint)controlLength };
            nint n;
            do
            {
                n = RecvMsg(socket, &msg, flags);
            }
            while (n < 0 && Marshal.GetLastPInvokeError() == Eintr);

            if (n < 0)
            {
                return -Marshal.GetLastPInvokeError();
            }

            truncated = (msg.Flags & MsgCtrunc) != 0;
            byte* c = control;
            while (msg.ControlLength >= 16 && c + 16 <= control + (int)msg.ControlLength)
            {
                ulong length = *(ulong*)c;
                int level = *(int*)(c + 8);
                int type = *(int*)(c + 12);
                if (length < 16 || c + (long)length > control + controlLength)
                {
                    break;
                }

                if (level == SolSocket && type == ScmRights)
                {
                    int count = (int)(length - 16) / 4;
                    for (int i = 0; i < count; i++)
                    {
                        int fd = *(int*)(c + 16 + (4 * i));
                        if (fdCount < fds.Length)
                        {
                            fds[fdCount++] = fd;
                        }
                        else
                        {
                            Close(fd);
                            truncated = true;
                        }
                    }
                }

                c += (long)((length + 7) & ~7UL);
            }

            return (int)n;
        }
    }

    /// <summary>Sends all of <paramref name="data"/>, with <paramref name="fds"/> on the first bytes. False if the peer is gone.</summary>
    public static bool SendWithFds(int socket, ReadOnlySpan<byte> data, ReadOnlySpan<int> fds)
    {
        int sent = 0;
        int controlSpace = 16 + (((Math.Min(fds.Length, 64) * 4) + 7) & ~7);
        byte* control = stackalloc byte[controlSpace];
        fixed (byte* bytes = data)
        {
            while (sent < data.Length)
            {
                var iov = new IoVec { Base = bytes + sent, Length = (nuint)(data.Length - sent) };
                var msg = new MsgHdr { Iov = &iov, IovLength = 1 };
                int controlLength = fds.Length > 0 && fds.Length <= 64 && sent == 0 ? controlSpace : 0;
                if (controlLength > 0)
                {
                    new Span<byte>(control, controlLength).Clear();
                    *(ulong*)control = (ulong)(16 + (fds.Length * 4));
                    *(int*)(control + 8) = SolSocket;
                    *(int*)(control + 12) = ScmRights;
                    for (int i = 0; i < fds.Length; i++)
                    {
                        *(int*)(control + 16 + (4 * i)) = fds[i];
                    }

                    msg.Control = control;
                    msg.ControlLength = (nuint)controlLength;
                }

                nint n = SendMsg(socket, &msg, MsgNoSignal);
                if (n < 0)
                {
                    if (Marshal.GetLastPInvokeError() == Eintr)
                    {
                        continue;
                    }

                    return false;
                }

                sent += (int)n;
            }
        }

        return true;
    }

    /// <summary>Receives exactly <paramref name="buffer"/>.Length bytes; false at end of stream or on an error.</summary>
    public static bool ReceiveExactly(int socket, Span<byte> buffer)
    {
        int done = 0;
        fixed (byte* data = buffer)
        {
            while (done < buffer.Length)
            {
                nint n = Recv(socket, data + done, (nuint)(buffer.Length - done), 0);
                if (n < 0 && Marshal.GetLastPInvokeError() == Eintr)
                {
                    continue;
                }

                if (n <= 0)
                {
                    return false;
                }

                done += (int)n;
            }
        }

        return true;
    }

    /// <summary>Receives up to <paramref name="buffer"/>.Length bytes: the count, 0 at end of stream, or a negative errno (-EAGAIN: nothing yet with MSG_DONTWAIT).</summary>
    public static int ReceiveSome(int socket, Span<byte> buffer, int flags)
    {
        fixed (byte* data = buffer)
        {
            while (true)
            {
                nint n = Recv(socket, data, (nuint)buffer.Length, flags);
                if (n >= 0)
                {
                    return (int)n;
                }

                int errno = Marshal.GetLastPInvokeError();
                if (errno != Eintr)
                {
                    return -errno;
                }
            }
        }
    }

    /// <summary>
    /// Waits until <paramref name="first"/> or <paramref name="second"/> (either may be -1: not watched) is readable — or
    /// at its end, or in error, which a read then reports — or <paramref name="timeoutNs"/> pass (negative: no limit).
    /// Returns bit 0 for the first, bit 1 for the second; 0 on timeout or a signal.
    /// </summary>
    public static int WaitReadable(int first, int second, long timeoutNs)
    {
        PollFd* fds = stackalloc PollFd[2];
        fds[0] = new PollFd { Fd = first, Events = PollIn };
        fds[1] = new PollFd { Fd = second, Events = PollIn };
        TimeSpec limit = new() { Seconds = timeoutNs / 1_000_000_000, Nanoseconds = timeoutNs % 1_000_000_000 };
        int n = PPoll(fds, 2, timeoutNs < 0 ? null : &limit, null);
        if (n <= 0)
        {
            return 0;
        }

        const short ready = PollIn | PollErr | PollHup | PollNval;
        return ((fds[0].Revents & ready) != 0 ? 1 : 0) | ((fds[1].Revents & ready) != 0 ? 2 : 0);
    }

    /// <summary>Signals an eventfd (adds 1 to its counter).</summary>
    public static bool SignalEventFd(int fd)
    {
        ulong one = 1;
        return WriteRaw(fd, &one, 8) == 8;
    }

    /// <summary>Reads an eventfd's counter (blocking until it is non-zero); -1 on error.</summary>
    public static long ReadEventFd(int fd)
    {
        ulong value = 0;
        nint n;
        do
        {
            n = ReadRaw(fd, &value, 8);
        }
        while (n < 0 && Marshal.GetLastPInvokeError() == Eintr);

        return n == 8 ? (long)value : -1;
    }

    public static (int A, int B) SocketPair()
    {
        int* sv = stackalloc int[2];
        if (SocketPairRaw(AfUnix, SockStream, 0, sv) != 0)
        {
            throw new IOException($"socketpair failed: errno {Marshal.GetLastPInvokeError()}");
        }

        return (sv[0], sv[1]);
    }
}
