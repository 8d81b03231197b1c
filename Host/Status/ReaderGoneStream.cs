using System.Buffers;

namespace Emu.Host.Status;

/// <summary>
/// A write-only stream over a pipe whose reader may go away (Wireshark closed on <c>--pcap -</c>) or stop reading
/// without closing it. Writes never block the caller, which is the node's loop inside the device's transmit or receive
/// path: each write (one whole pcapng block) is queued for a thread of its own, up to <see cref="Limit"/> bytes; a
/// block that finds the queue full is dropped whole (counted in <see cref="BlocksDropped"/>, so the stream stays valid
/// pcapng); the first failed write ends the capture quietly. It never disposes the stream under it.
/// </summary>
public sealed class ReaderGoneStream : Stream
{
    public const int DefaultLimit = 8 << 20;

    private readonly Stream _inner;
    private readonly Queue<(byte[] Buffer, int Length)> _queue = new();
    private readonly object _lock = new();
    private readonly Thread _writer;
    private long _queuedBytes;
    private bool _closing;
    private bool _busy;

    public ReaderGoneStream(Stream inner, int limit = DefaultLimit)
    {
        _inner = inner;
        Limit = limit;
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "pcap stream" };
        _writer.Start();
    }

    /// <summary>The most bytes waiting for a slow reader.</summary>
    public int Limit { get; }

    /// <summary>Set once a write failed; nothing is written after it.</summary>
    public bool ReaderGone { get; private set; }

    /// <summary>Blocks dropped because the reader fell <see cref="Limit"/> bytes behind.</summary>
    public long BlocksDropped { get; private set; }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        lock (_lock)
        {
            if (ReaderGone || _closing || buffer.Length == 0)
            {
                return;
            }

            if (_queuedBytes + buffer.Length > Limit)
            {
                BlocksDropped++;
                return;
            }

            byte[] copy = ArrayPool<byte>.Shared.Rent(buffer.Length);
            buffer.CopyTo(copy);
            _queue.Enqueue((copy, buffer.Length));
            _queuedBytes += buffer.Length;
            Monitor.Pulse(_lock);
        }
    }

    /// <summary>Does not wait: the writer thread flushes whenever it has emptied the queue.</summary>
    public override void Flush()
    {
    }

    /// <summary>Waits until everything queued is written (or the reader is gone), up to <paramref name="timeout"/>.</summary>
    public bool WaitIdle(TimeSpan timeout)
    {
        DateTime end = DateTime.UtcNow + timeout;
        lock (_lock)
        {
            while ((_queue.Count > 0 || _busy) && !ReaderGone)
            {
                TimeSpan left = end - DateTime.UtcNow;
                if (left <= TimeSpan.Zero)
                {
                    return false;
                }

                Monitor.Wait(_lock, left);
            }

            return true;
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            WaitIdle(TimeSpan.FromSeconds(2));   // a reader that stalls does not hold the process at exit
            lock (_lock)
            {
                _closing = true;
                Monitor.PulseAll(_lock);
            }
        }

        base.Dispose(disposing);
    }

    private void WriteLoop()
    {
        while (true)
        {
            (byte[] Buffer, int Length) item;
            lock (_lock)
            {
                while (_queue.Count == 0 && !_closing)
                {
                    Monitor.Wait(_lock);
                }

                if (_queue.Count == 0)
                {
                    return;
                }

                item = _queue.Dequeue();
                _queuedBytes -= item.Length;
                _busy = true;
            }

            bool failed = false;
            try
            {
                _inner.Write(item.Buffer.AsSpan(0, item.Length));
                bool empty;
                lock (_lock)
                {
                    empty = _queue.Count == 0;
                }

                if (empty)
                {
                    _inner.Flush();
                }
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or NotSupportedException)
            {
                failed = true;
            }

            ArrayPool<byte>.Shared.Return(item.Buffer);
            lock (_lock)
            {
                _busy = false;
                if (failed)
                {
                    ReaderGone = true;
                    while (_queue.TryDequeue(out (byte[] Buffer, int Length) rest))
                    {
                        ArrayPool<byte>.Shared.Return(rest.Buffer);
                    }

                    _queuedBytes = 0;
                }

                Monitor.PulseAll(_lock);
            }

            if (failed)
            {
                return;
            }
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
