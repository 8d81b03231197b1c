namespace Emu.Tests.Differential;

/// <summary>Something that answers qtest commands: QEMU or Emu.</summary>
public interface IQtestTarget : IDisposable
{
    /// <summary>Sends one command; returns its IRQ lines and reply joined by " | ".</summary>
    string Send(string command);
}
