using System.Buffers.Binary;

namespace Emu.Emulator.Machine;

/// <summary>
/// Guest physical RAM from address 0: sparse and page-granular (a page is allocated on its first write; unwritten pages
/// read as zeros), bounds-checked. Accessors return false for a range outside RAM instead of throwing, so a device's
/// DMA engine can count the error.
/// </summary>
public sealed class GuestMemory : IDmaMemory
{
    public const int PageSize = 4096;
    private const int PageShift = 12;

    /// <summary>QEMU's and our default machine size.</summary>
    public const ulong DefaultSize = 256UL * 1024 * 1024;

    private readonly byte[]?[] _pages;

    public GuestMemory(ulong size = DefaultSize)
    {
        if (size == 0 || size % PageSize != 0 || size > 64UL * 1024 * 1024 * 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, "RAM size must be a non-zero multiple of 4 KiB, at most 64 GiB.");
        }

        Size = size;
        _pages = new byte[]?[size >> PageShift];
    }

    public ulong Size { get; }

    /// <summary>Pages that have been written (and so hold memory).</summary>
    public int AllocatedPages
    {
        get
        {
            int n = 0;
            foreach (byte[]? page in _pages)
            {
                if (page is not null)
                {
                    n++;
                }
            }

            return n;
        }
    }

    public bool Contains(ulong address, ulong length) => length <= Size && address <= Size - length;

    public bool TryRead(ulong address, Span<byte> destination)
    {
        if (!Contains(address, (ulong)destination.Length))
        {
            return false;
        }

        while (!destination.IsEmpty)
        {
            int offset = (int)(address & (PageSize - 1));
            int chunk = Math.Min(destination.Length, PageSize - offset);
            byte[]? page = _pages[address >> PageShift];
            if (page is null)
            {
                destination[..chunk].Clear();
            }
            else
            {
                page.AsSpan(offset, chunk).CopyTo(destination);
            }

            destination = destination[chunk..];
            address += (ulong)chunk;
        }

        return true;
    }

    public bool TryWrite(ulong address, ReadOnlySpan<byte> source)
    {
        if (!Contains(address, (ulong)source.Length))
        {
            return false;
        }

        while (!source.IsEmpty)
        {
            int offset = (int)(address & (PageSize - 1));
            int chunk = Math.Min(source.Length, PageSize - offset);
            byte[] page = _pages[address >> PageShift] ??= new byte[PageSize];
            source[..chunk].CopyTo(page.AsSpan(offset, chunk));
            source = source[chunk..];
            address += (ulong)chunk;
        }

        return true;
    }

    public bool TryFill(ulong address, ulong length, byte value)
    {
        if (!Contains(address, length))
        {
            return false;
        }

        while (length > 0)
        {
            int offset = (int)(address & (PageSize - 1));
            int chunk = (int)Math.Min(length, (ulong)(PageSize - offset));
            byte[]? page = _pages[address >> PageShift];
            if (page is null && value != 0)
            {
                page = _pages[address >> PageShift] = new byte[PageSize];
            }

            page?.AsSpan(offset, chunk).Fill(value);
            length -= (ulong)chunk;
            address += (ulong)chunk;
        }

        return true;
    }

    public bool TryReadUInt32(ulong address, out uint value)
    {
        Span<byte> buffer = stackalloc byte[4];
        bool ok = TryRead(address, buffer);
        value = ok ? BinaryPrimitives.ReadUInt32LittleEndian(buffer) : 0;
        return ok;
    }

    public bool TryWriteUInt32(ulong address, uint value)
    {
        Span<byte> buffer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(buffer, value);
        return TryWrite(address, buffer);
    }

    public bool TryReadUInt64(ulong address, out ulong value)
    {
        Span<byte> buffer = stackalloc byte[8];
        bool ok = TryRead(address, buffer);
        value = ok ? BinaryPrimitives.ReadUInt64LittleEndian(buffer) : 0;
        return ok;
    }
}
