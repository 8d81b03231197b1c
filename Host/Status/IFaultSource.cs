namespace Emu.Host.Status;

/// <summary>
/// What the status view and the counters show of fault injection: how many faults are armed and how often each fired.
/// No fault injection exists yet (<see cref="NoFaults"/>); the future Emulator/Faults feeds the view through this.
/// </summary>
public interface IFaultSource
{
    /// <summary>Faults armed now.</summary>
    int Armed { get; }

    /// <summary>Firings so far per fault, by name, in a stable order.</summary>
    IReadOnlyList<KeyValuePair<string, long>> Firings { get; }
}
