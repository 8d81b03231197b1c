using System.IO.MemoryMappedFiles;
using Emu.Emulator.Platform;
using Microsoft.Win32.SafeHandles;

namespace Emu.Emulator.VfioUser;

/// <summary>
/// The client's DMA map table (DMA_MAP/DMA_UNMAP): guest-physical ranges, read-only or read-write, each backed by the
/// client's memory fd mapped into this process, or by nothing (then DMA goes through DMA_READ/DMA_WRITE messages).
/// One access may span several maps.
/// </summary>
public sealed unsafe class DmaMapTable : IDisposable
{
    /// <summary>Maps held at most (we announce it as max_dma_maps).</summary>
    public const int MaxMaps = 65535;

    private readonly List<Map> _maps = [];

    public int Count => _maps.Count;

    public IEnumerable<(ulong Iova, ulong Size, bool Writable, bool FileBacked)> Ranges => _maps.Select(m => (m.Iova, m.Size, m.Writable, m.Pointer != null));

    /// <summary>Adds a map; takes the fd (closed here either way). An error string when the map is refused.</summary>
    public string? Add(ulong iova, ulong size, ulong fileOffset, bool writable, int fd)
    {
        if (size == 0 || iova + size < iova || fileOffset + size < fileOffset)
        {
            CloseFd(fd);
            return "empty or wrapping range";
        }

        if (_maps.Count >= MaxMaps)
        {
            CloseFd(fd);
            return "too many maps";
        }

        foreach (Map m in _maps)
        {
            if (iova < m.Iova + m.Size && m.Iova < iova + size)
            {
                CloseFd(fd);
                return $"overlaps the map at 0x{m.Iova:x}";
            }
        }

        var map = new Map { Iova = iova, Size = size, Writable = writable };
        if (fd >= 0)
        {
            try
            {
                var handle = new SafeFileHandle(fd, ownsHandle: true);
                map.File = MemoryMappedFile.CreateFromFile(handle, null, 0, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: false);
                map.View = map.File.CreateViewAccessor((long)fileOffset, (long)size, MemoryMappedFileAccess.ReadWrite);
                byte* pointer = null;
                map.View.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
                map.Pointer = pointer + map.View.PointerOffset;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
            {
                map.Dispose();
                return $"cannot map the fd: {e.Message}";
            }
        }

        int at = 0;
        while (at < _maps.Count && _maps[at].Iova < iova)
        {
            at++;
        }

        _maps.Insert(at, map);
        return null;
    }

    /// <summary>Removes the map at exactly (iova, size); false when there is none.</summary>
    public bool Remove(ulong iova, ulong size)
    {
        for (int i = 0; i < _maps.Count; i++)
        {
            if (_maps[i].Iova == iova && _maps[i].Size == size)
            {
                _maps[i].Dispose();
                _maps.RemoveAt(i);
                return true;
            }
        }

        return false;
    }

    public void Clear()
    {
        foreach (Map m in _maps)
        {
            m.Dispose();
        }

        _maps.Clear();
    }

    public void Dispose() => Clear();

    /// <summary>
    /// Where <paramref name="address"/> lies: the pointer to it (null for a map without fd), how many bytes the map has
    /// from there, and whether it is writable. False when no map holds it.
    /// </summary>
    public bool Lookup(ulong address, out byte* pointer, out ulong available, out bool writable)
    {
        foreach (Map m in _maps)
        {
            if (address >= m.Iova && address - m.Iova < m.Size)
            {
                ulong offset = address - m.Iova;
                pointer = m.Pointer == null ? null : m.Pointer + offset;
                available = m.Size - offset;
                writable = m.Writable;
                return true;
            }
        }

        pointer = null;
        available = 0;
        writable = false;
        return false;
    }

    private static void CloseFd(int fd)
    {
        if (fd >= 0)
        {
            Native.Close(fd);
        }
    }

    private sealed class Map : IDisposable
    {
        public ulong Iova;
        public ulong Size;
        public bool Writable;
        public MemoryMappedFile? File;
        public MemoryMappedViewAccessor? View;
        public byte* Pointer;

        public void Dispose()
        {
            if (View is not null && Pointer != null)
            {
                View.SafeMemoryMappedViewHandle.ReleasePointer();
            }

            Pointer = null;
            View?.Dispose();
            File?.Dispose();
        }
    }
}
