namespace Emu.Emulator.Qtest;

/// <summary>A malformed qtest command: answered with "ERR reason" where QEMU would abort.</summary>
public sealed class QtestArgumentException(string message) : Exception(message);
