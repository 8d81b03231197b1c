namespace Emu.Emulator.Machine;

/// <summary>
/// The machine's interrupt inputs (the IOAPIC's GSIs; ISA IRQs 0–15 are GSIs 0–15 on the pc board). Each GSI's level
/// is the OR of its sources; listeners hear only changes. Sources are updated by the machine after the access or
/// event that changed them, never from inside a device handler.
/// </summary>
public sealed class InterruptController
{
    public const int GsiCount = 24;

    private readonly bool[] _levels = new bool[GsiCount];

    /// <summary>Raised with (gsi, level) when a GSI changes level.</summary>
    public event Action<int, bool>? GsiChanged;

    public bool Level(int gsi) => _levels[gsi];

    internal void Set(int gsi, bool level)
    {
        if (_levels[gsi] == level)
        {
            return;
        }

        _levels[gsi] = level;
        GsiChanged?.Invoke(gsi, level);
    }
}
