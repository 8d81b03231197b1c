using System.Buffers.Binary;

namespace Emu.Emulator.VfioUser;

/// <summary>
/// The 16-byte header of every vfio-user message, little-endian: message id, command, size of the whole message,
/// flags (type in bits 0-3: 0 request, 1 reply; 0x10 NO_REPLY; 0x20 ERROR) and errno.
/// </summary>
public readonly record struct VfioUserHeader(ushort Id, VfioUserCommand Command, uint Size, uint Flags, uint Error)
{
    public const int Length = 16;
    public const uint TypeMask = 0xF;
    public const uint TypeRequest = 0;
    public const uint TypeReply = 1;
    public const uint NoReply = 0x10;
    public const uint ErrorFlag = 0x20;

    public bool IsReply => (Flags & TypeMask) == TypeReply;

    public bool WantsReply => !IsReply && (Flags & NoReply) == 0;

    public static VfioUserHeader Read(ReadOnlySpan<byte> b) => new(
        BinaryPrimitives.ReadUInt16LittleEndian(b),
        (VfioUserCommand)BinaryPrimitives.ReadUInt16LittleEndian(b[2..]),
        BinaryPrimitives.ReadUInt32LittleEndian(b[4..]),
        BinaryPrimitives.ReadUInt32LittleEndian(b[8..]),
        BinaryPrimitives.ReadUInt32LittleEndian(b[12..]));

    public void Write(Span<byte> b)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(b, Id);
        BinaryPrimitives.WriteUInt16LittleEndian(b[2..], (ushort)Command);
        BinaryPrimitives.WriteUInt32LittleEndian(b[4..], Size);
        BinaryPrimitives.WriteUInt32LittleEndian(b[8..], Flags);
        BinaryPrimitives.WriteUInt32LittleEndian(b[12..], Error);
    }
}
