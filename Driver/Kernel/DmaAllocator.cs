namespace Emu.Driver.Kernel;

/// <summary>
/// The DMA API over guest RAM (Linux kernel/dma): coherent allocations for rings, and streaming mappings that bounce
/// through guest RAM (as swiotlb does): map copies to the device's buffer, unmap copies back. Buffers come from size
/// classes with free lists, so steady traffic reuses them. RAM below <see cref="Base"/> is left to firmware and tests.
/// </summary>
public sealed class DmaAllocator
{
    public const ulong Base = 16UL * 1024 * 1024;
    private const int MinClassShift = 6;
    private const int MaxClassShift = 20;
    private readonly IPlatformBus _bus;
    private readonly Stack<ulong>[] _free = new Stack<ulong>[MaxClassShift + 1];
    private ulong _next = Base;

    public DmaAllocator(IPlatformBus bus)
    {
        _bus = bus;
        for (int i = 0; i < _free.Length; i++)
        {
            _free[i] = new Stack<ulong>();
        }
    }

    public long BytesInUse { get; private set; }

    public long Failures { get; private set; }

    /// <summary>dma_alloc_coherent: zeroed, aligned to its size class (at least 64 bytes, rings to 4 KiB).</summary>
    public DmaBuffer AllocCoherent(int size)
    {
        DmaBuffer buffer = Allocate(size);
        if (buffer.IsValid)
        {
            Fill(buffer, 0);
        }

        return buffer;
    }

    public void FreeCoherent(DmaBuffer buffer) => Free(buffer);

    /// <summary>dma_map_single(DMA_TO_DEVICE): a device-visible copy of <paramref name="data"/>.</summary>
    public DmaBuffer MapToDevice(ReadOnlySpan<byte> data)
    {
        DmaBuffer buffer = Allocate(data.Length);
        if (buffer.IsValid)
        {
            _bus.TryWriteRam(buffer.Address, data);
        }

        return buffer with { Size = data.Length };
    }

    /// <summary>dma_map_single(DMA_FROM_DEVICE): a device-writable buffer of <paramref name="size"/> bytes.</summary>
    public DmaBuffer MapFromDevice(int size) => Allocate(size);

    /// <summary>dma_sync_single_for_cpu / the copy-back of an unmap: reads what the device wrote.</summary>
    public bool SyncForCpu(DmaBuffer buffer, Span<byte> destination) => _bus.TryReadRam(buffer.Address, destination);

    /// <summary>dma_unmap_single.</summary>
    public void Unmap(DmaBuffer buffer) => Free(buffer);

    public bool Read(ulong address, Span<byte> destination) => _bus.TryReadRam(address, destination);

    public bool Write(ulong address, ReadOnlySpan<byte> source) => _bus.TryWriteRam(address, source);

    public void Fill(DmaBuffer buffer, byte value)
    {
        Span<byte> chunk = stackalloc byte[256];
        chunk.Fill(value);
        for (int done = 0; done < buffer.Size; done += chunk.Length)
        {
            _bus.TryWriteRam(buffer.Address + (ulong)done, chunk[..Math.Min(chunk.Length, buffer.Size - done)]);
        }
    }

    private static int ClassOf(int size)
    {
        int shift = MinClassShift;
        while ((1 << shift) < size)
        {
            shift++;
        }

        return shift;
    }

    private DmaBuffer Allocate(int size)
    {
        int shift = ClassOf(Math.Max(size, 1));
        if (shift > MaxClassShift)
        {
            Failures++;
            return default;
        }

        ulong address;
        if (_free[shift].Count > 0)
        {
            address = _free[shift].Pop();
        }
        else
        {
            ulong align = 1UL << Math.Min(shift, 12);
            ulong start = (_next + align - 1) & ~(align - 1);
            if (start + (1UL << shift) > _bus.RamSize)
            {
                Failures++;
                return default;
            }

            address = start;
            _next = start + (1UL << shift);
        }

        BytesInUse += 1L << shift;
        return new DmaBuffer(address, 1 << shift);
    }

    private void Free(DmaBuffer buffer)
    {
        if (!buffer.IsValid)
        {
            return;
        }

        int shift = ClassOf(buffer.Size);
        _free[shift].Push(buffer.Address);
        BytesInUse -= 1L << shift;
    }
}
