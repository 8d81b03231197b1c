namespace Emu.Stack.Core;

/// <summary>
/// Packet data buffers by power-of-two size, per thread (a node runs on one thread). Unlike ArrayPool.Shared, it keeps
/// as many buffers as were ever in flight at once (a TX ring, a TCP window), up to a cap, so steady traffic allocates
/// nothing, and it takes no lock.
/// </summary>
public static class PacketBufferPool
{
    private const int MinShift = 6;
    private const int MaxShift = 18;
    private const int MaxPerBucket = 8192;

    [ThreadStatic]
    private static Stack<byte[]>?[]? t_buckets;

    /// <summary>A buffer of at least <paramref name="size"/> bytes.</summary>
    public static byte[] Rent(int size)
    {
        int shift = ShiftFor(size);
        if (shift > MaxShift)
        {
            return new byte[size];
        }

        Stack<byte[]>? bucket = (t_buckets ??= new Stack<byte[]>?[MaxShift + 1])[shift];
        return bucket is { Count: > 0 } ? bucket.Pop() : new byte[1 << shift];
    }

    /// <summary>Gives a buffer from <see cref="Rent"/> back.</summary>
    public static void Return(byte[] buffer)
    {
        int shift = ShiftFor(buffer.Length);
        if (shift > MaxShift || buffer.Length != 1 << shift)
        {
            return;   // not one of ours: the GC takes it
        }

        Stack<byte[]> bucket = (t_buckets ??= new Stack<byte[]>?[MaxShift + 1])[shift] ??= new Stack<byte[]>();
        if (bucket.Count < MaxPerBucket)
        {
            bucket.Push(buffer);
        }
    }

    private static int ShiftFor(int size) => Math.Max(MinShift, 32 - int.LeadingZeroCount(Math.Max(1, size) - 1));
}
