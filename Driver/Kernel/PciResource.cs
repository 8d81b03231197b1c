namespace Emu.Driver.Kernel;

/// <summary>struct resource for one BAR: bus address, length, I/O or memory.</summary>
public sealed record PciResource(int Bar, ulong Start, ulong Length, bool IsIo);
