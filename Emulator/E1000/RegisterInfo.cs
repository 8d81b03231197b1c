namespace Emu.Emulator.E1000;

/// <summary>
/// One row of the register map: <paramref name="Count"/> consecutive dwords from <paramref name="Offset"/> sharing a
/// name, reset value, write mask and access kind. <paramref name="Source"/> names the manual section (or, where the
/// manual is silent, the source we followed).
/// </summary>
public sealed record RegisterInfo(
    uint Offset,
    string Name,
    uint Reset,
    uint WriteMask,
    RegisterAccess Access,
    string Source,
    int Count = 1)
{
    public uint End => Offset + (4u * (uint)Count);

    public string NameAt(uint offset) => Count == 1 ? Name : $"{Name}[{(offset - Offset) / 4}]";
}
