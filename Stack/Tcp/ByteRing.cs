namespace Emu.Stack.Tcp;

/// <summary>
/// A byte queue over one circular array: a TCP send buffer (from SND.UNA on) or receive buffer (from what the
/// application has not read). Copies in and out with at most two spans; no allocation once created.
/// </summary>
public sealed class ByteRing
{
    private byte[] _buffer;
    private int _head;

    public ByteRing(int capacity)
    {
        _buffer = new byte[Math.Max(1, capacity)];
    }

    public int Capacity => _buffer.Length;

    public int Count { get; private set; }

    public int Free => _buffer.Length - Count;

    /// <summary>Appends as much of <paramref name="data"/> as fits; returns how much.</summary>
    public int Write(ReadOnlySpan<byte> data)
    {
        int n = Math.Min(data.Length, Free);
        int tail = (_head + Count) % _buffer.Length;
        int first = Math.Min(n, _buffer.Length - tail);
        data[..first].CopyTo(_buffer.AsSpan(tail));
        data[first..n].CopyTo(_buffer);
        Count += n;
        return n;
    }

    /// <summary>Writes <paramref name="data"/> at <paramref name="offset"/> past the head (within capacity), without changing Count.</summary>
    public void WriteAt(int offset, ReadOnlySpan<byte> data)
    {
        int at = (_head + offset) % _buffer.Length;
        int first = Math.Min(data.Length, _buffer.Length - at);
        data[..first].CopyTo(_buffer.AsSpan(at));
        data[first..].CopyTo(_buffer);
    }

    /// <summary>Counts <paramref name="n"/> bytes already placed by <see cref="WriteAt"/> right after the queued ones.</summary>
    public void Commit(int n) => Count += Math.Min(n, Free);

    /// <summary>Copies <paramref name="destination"/>.Length bytes starting <paramref name="offset"/> bytes past the head.</summary>
    public void Peek(int offset, Span<byte> destination)
    {
        int at = (_head + offset) % _buffer.Length;
        int first = Math.Min(destination.Length, _buffer.Length - at);
        _buffer.AsSpan(at, first).CopyTo(destination);
        _buffer.AsSpan(0, destination.Length - first).CopyTo(destination[first..]);
    }

    /// <summary>Moves up to destination.Length bytes out; returns how many.</summary>
    public int Read(Span<byte> destination)
    {
        int n = Math.Min(destination.Length, Count);
        Peek(0, destination[..n]);
        Discard(n);
        return n;
    }

    public void Discard(int n)
    {
        n = Math.Min(n, Count);
        _head = (_head + n) % _buffer.Length;
        Count -= n;

        // The head stays where it is even when empty: bytes placed past Count (out-of-order data) keep their offsets.
    }

    /// <summary>A new capacity (never below what is queued), keeping the bytes.</summary>
    public void Resize(int capacity)
    {
        capacity = Math.Max(Math.Max(1, capacity), Count);
        if (capacity == _buffer.Length)
        {
            return;
        }

        byte[] next = new byte[capacity];
        Peek(0, next.AsSpan(0, Count));
        _buffer = next;
        _head = 0;
    }
}
