namespace Emu.Host.Status;

/// <summary>The fault source of a run with no fault injection: nothing armed, nothing fired.</summary>
public sealed class NoFaults : IFaultSource
{
    private NoFaults()
    {
    }

    public static NoFaults Instance { get; } = new();

    public int Armed => 0;

    public IReadOnlyList<KeyValuePair<string, long>> Firings => [];
}
