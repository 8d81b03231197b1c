using System.Buffers.Binary;

namespace Emu.Emulator.Pci;

/// <summary>
/// A type-0 function's 256-byte configuration space with per-byte write masks and write-1-to-clear masks
/// (PCI Local Bus Specification 3.0 §6.1–6.2). A write stores <c>(old &amp; ~wmask) | (new &amp; wmask)</c> per byte,
/// then clears the W1C bits written as 1.
/// </summary>
public sealed class PciConfigSpace
{
    public const int Size = 256;

    public const int VendorId = 0x00;
    public const int DeviceId = 0x02;
    public const int Command = 0x04;
    public const int Status = 0x06;
    public const int Revision = 0x08;
    public const int ClassCode = 0x09;
    public const int CacheLineSize = 0x0C;
    public const int LatencyTimer = 0x0D;
    public const int HeaderType = 0x0E;
    public const int Bar0 = 0x10;
    public const int SubsystemVendorId = 0x2C;
    public const int SubsystemId = 0x2E;
    public const int ExpansionRom = 0x30;
    public const int CapabilitiesPointer = 0x34;
    public const int InterruptLine = 0x3C;
    public const int InterruptPin = 0x3D;

    public const ushort CommandIo = 0x0001;
    public const ushort CommandMemory = 0x0002;
    public const ushort CommandBusMaster = 0x0004;
    public const ushort CommandSerr = 0x0100;
    public const ushort CommandIntxDisable = 0x0400;

    /// <summary>STATUS bit 3: the function is asserting INTx (PCI 3.0 §6.2.3), read-only.</summary>
    public const ushort StatusInterrupt = 0x0008;

    private readonly byte[] _bytes = new byte[Size];
    private readonly byte[] _writeMask = new byte[Size];
    private readonly byte[] _w1cMask = new byte[Size];

    public ReadOnlySpan<byte> Bytes => _bytes;

    public byte GetByte(int offset) => _bytes[offset];

    /// <summary>Replaces the whole space (a snapshot restore); the masks are the device's and stay.</summary>
    public void Load(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
        {
            throw new ArgumentException($"A configuration space has {Size} bytes.", nameof(bytes));
        }

        bytes.CopyTo(_bytes);
    }

    public ushort GetWord(int offset) => BinaryPrimitives.ReadUInt16LittleEndian(_bytes.AsSpan(offset));

    public uint GetDword(int offset) => BinaryPrimitives.ReadUInt32LittleEndian(_bytes.AsSpan(offset));

    /// <summary>Sets bytes directly, bypassing the masks (the device's own view).</summary>
    public void SetByte(int offset, byte value) => _bytes[offset] = value;

    public void SetWord(int offset, ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(_bytes.AsSpan(offset), value);

    public void SetDword(int offset, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(_bytes.AsSpan(offset), value);

    public void SetWriteMask(int offset, int length, uint mask)
    {
        for (int i = 0; i < length; i++)
        {
            _writeMask[offset + i] = (byte)(mask >> (8 * i));
        }
    }

    public void SetW1cMask(int offset, int length, uint mask)
    {
        for (int i = 0; i < length; i++)
        {
            _w1cMask[offset + i] = (byte)(mask >> (8 * i));
        }
    }

    /// <summary>Reads <paramref name="size"/> bytes little-endian; bytes past the end of the space read as 0xFF.</summary>
    public uint Read(int offset, int size)
    {
        uint value = 0;
        for (int i = 0; i < size; i++)
        {
            int at = offset + i;
            uint b = at < Size ? _bytes[at] : 0xFFu;
            value |= b << (8 * i);
        }

        return value;
    }

    /// <summary>A guest write through the masks; bytes past the end of the space are dropped.</summary>
    public void Write(int offset, int size, uint value)
    {
        for (int i = 0; i < size; i++)
        {
            int at = offset + i;
            if (at >= Size)
            {
                break;
            }

            byte b = (byte)(value >> (8 * i));
            byte wmask = _writeMask[at];
            byte stored = (byte)((_bytes[at] & ~wmask) | (b & wmask));
            stored &= (byte)~(b & _w1cMask[at]);
            _bytes[at] = stored;
        }
    }
}
