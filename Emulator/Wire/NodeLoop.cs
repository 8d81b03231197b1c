using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Emu.Emulator.Platform;
using Microsoft.Win32.SafeHandles;

namespace Emu.Emulator.Wire;

/// <summary>
/// The single thread a node runs on (DESIGN.md, execution model). Other threads — socket readers, the stdin reader —
/// never touch the node: they post work here, and the loop runs it in arrival order. Frames posted by netdev readers
/// travel in pooled buffers, so steady traffic allocates nothing. The loop sleeps in ppoll on an eventfd (and, for
/// `emu device`, the vfio-user socket too): a timer a few microseconds away is slept for, not spun for, so the
/// cores stay with the QEMU guest beside us.
/// </summary>
public sealed class NodeLoop : IDisposable
{
    private readonly ConcurrentQueue<LoopItem> _inbox = new();
    private readonly SafeFileHandle _wakeup;
    private int _sleeping;
    private volatile bool _disposed;

    public NodeLoop()
    {
        int fd = Native.EventFd(0, Native.EfdNonBlock | Native.EfdCloexec);
        if (fd < 0)
        {
            throw new IOException($"eventfd failed: errno {Marshal.GetLastPInvokeError()}");
        }

        _wakeup = new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>
    /// Posts work from any thread; false once the loop is gone (a reader thread that outlives its node, e.g. a client
    /// closing while the host shuts down, must not crash the process).
    /// </summary>
    public bool Post(LoopItem item)
    {
        if (_disposed)
        {
            return false;
        }

        _inbox.Enqueue(item);

        // Paired with the fence in Wait: either the loop sees the item before it sleeps, or we see it sleeping.
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _sleeping) == 0)
        {
            return true;
        }

        bool added = false;
        try
        {
            _wakeup.DangerousAddRef(ref added);   // the descriptor cannot be closed (and reused) under us
            Native.SignalEventFd((int)_wakeup.DangerousGetHandle());
            return true;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
        finally
        {
            if (added)
            {
                _wakeup.DangerousRelease();
            }
        }
    }

    /// <summary>Waits up to <paramref name="timeout"/> for an item; false on timeout. Runs on the loop thread.</summary>
    public bool TryTake(TimeSpan timeout, out LoopItem item)
    {
        long end = timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            if (_inbox.TryDequeue(out item))
            {
                return true;
            }

            long left = end == long.MaxValue ? -1 : end - Stopwatch.GetTimestamp();
            if (end != long.MaxValue && left <= 0)
            {
                return false;
            }

            Wait(left < 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds((double)left / Stopwatch.Frequency));
        }
    }

    /// <summary>
    /// Sleeps until an item is posted, <paramref name="fd"/> (-1: none) is readable, or <paramref name="timeout"/> passes
    /// (<see cref="Timeout.InfiniteTimeSpan"/>: no limit); true when <paramref name="fd"/> is readable. Loop thread only.
    /// </summary>
    public bool Wait(TimeSpan timeout, int fd = -1)
    {
        Volatile.Write(ref _sleeping, 1);
        Interlocked.MemoryBarrier();
        long ns = timeout == Timeout.InfiniteTimeSpan ? -1 : Math.Max(0, timeout.Ticks * 100);
        int ready = Native.WaitReadable((int)_wakeup.DangerousGetHandle(), fd, _inbox.IsEmpty ? ns : 0);
        Volatile.Write(ref _sleeping, 0);
        if ((ready & 1) != 0)
        {
            Native.ReadEventFd((int)_wakeup.DangerousGetHandle());   // non-blocking: resets the counter
        }

        return (ready & 2) != 0;
    }

    public void Dispose()
    {
        _disposed = true;
        _wakeup.Dispose();
    }
}

/// <summary>What the loop is asked to do.</summary>
public enum LoopItemKind
{
    /// <summary>A frame from a netdev: <see cref="LoopItem.Buffer"/> (pooled) holds <see cref="LoopItem.Length"/> bytes.</summary>
    Frame,

    /// <summary>A netdev's peer connected.</summary>
    CarrierUp,

    /// <summary>A netdev's peer went away.</summary>
    CarrierDown,

    /// <summary>A line of text (a qtest command).</summary>
    Line,

    /// <summary>The text input ended (or the node is asked to stop).</summary>
    EndOfInput,

    /// <summary>Work another thread wants run on the node: <see cref="LoopItem.Work"/>.</summary>
    Work,
}

/// <summary>One unit of work for a <see cref="NodeLoop"/>.</summary>
public readonly record struct LoopItem(LoopItemKind Kind, Netdev? Source, byte[]? Buffer, int Length, string? Text, Action? Work = null);
