using Emu.Emulator.Faults;

namespace Emu.Host.Status;

/// <summary>The status view's and the counters' fault row, from the run's fault plan: faults armed, firings by label.</summary>
public sealed class PlanFaultSource(FaultPlan plan) : IFaultSource
{
    public int Armed => plan.Faults.Count(f => f.Armed);

    public IReadOnlyList<KeyValuePair<string, long>> Firings => plan.Faults.Select(f => new KeyValuePair<string, long>(f.Label, f.Fired)).ToList();
}
