using System.Collections.Concurrent;

namespace Emu.Emulator.Wire;

/// <summary>
/// The single thread a node runs on (DESIGN.md, execution model). Other threads — socket readers, the stdin reader —
/// never touch the node: they post work here, and the loop runs it in arrival order. Frames posted by netdev readers
/// travel in pooled buffers, so steady traffic allocates nothing.
/// </summary>
public sealed class NodeLoop : IDisposable
{
    private readonly ConcurrentQueue<LoopItem> _inbox = new();
    private readonly SemaphoreSlim _signal = new(0);

    private volatile bool _disposed;

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
        try
        {
            _signal.Release();
            return true;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>Waits up to <paramref name="timeout"/> for an item; false on timeout. Runs on the loop thread.</summary>
    public bool TryTake(TimeSpan timeout, out LoopItem item)
    {
        if (_signal.Wait(timeout) && _inbox.TryDequeue(out item))
        {
            return true;
        }

        item = default;
        return false;
    }

    public void Dispose()
    {
        _disposed = true;
        _signal.Dispose();
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
