namespace Emu.Emulator.E1000;

/// <summary>One place where Emu follows the Intel manual and QEMU's e1000 answers differently.</summary>
/// <param name="Id">Stable name, used in tests, qtest script annotations and README's deviation table.</param>
/// <param name="ManualSection">The 8254x manual section (or other primary source) we follow.</param>
/// <param name="Emu">What Emu does.</param>
/// <param name="Qemu">What QEMU 11.1's e1000 does.</param>
public sealed record QemuDeviation(string Id, string ManualSection, string Emu, string Qemu);
