namespace Emu.Emulator.Faults;

/// <summary>One armed fault of a plan: its id, spec, its own seeded generator and how often it was eligible and fired.</summary>
public sealed class Fault
{
    internal Fault(int id, FaultSpec spec, int planSeed)
    {
        Id = id;
        Spec = spec;
        Label = $"fault {id} {spec.Kind.Name}";

        // Each fault draws from its own generator, so arming or disarming one never shifts another's draws.
        Random = new Random(unchecked((planSeed * 1_000_003) + id));
    }

    public int Id { get; }

    public FaultSpec Spec { get; }

    /// <summary>The fault's own generator (seeded from the plan's seed and the id): kinds draw their parameters from it.</summary>
    public Random Random { get; }

    public long Eligible { get; private set; }

    public long Fired { get; private set; }

    public bool Armed { get; internal set; } = true;

    /// <summary>The name a capture comment or a summary gives it: <c>fault 3 loss-ge</c>.</summary>
    public string Label { get; }

    /// <summary>
    /// The common trigger for one event at <paramref name="now"/> (ns since start): the window, the direction and the
    /// frame filters make it eligible; then only/nth/times/prob decide. Counts the firing when it fires.
    /// </summary>
    public bool TryFire(long now, FaultDirection direction, ReadOnlySpan<byte> frame)
        => IsEligible(now, direction, frame) && Decide();

    /// <summary>The common trigger for a device event with no frame.</summary>
    public bool TryFire(long now) => Armed && Spec.Trigger.InWindow(now) && Decide();

    /// <summary>Whether the frame is one this fault looks at: armed, in the window, the direction and past the filters.</summary>
    public bool IsEligible(long now, FaultDirection direction, ReadOnlySpan<byte> frame)
        => Armed && Spec.Trigger.InWindow(now) && (Spec.Trigger.Direction & direction) != 0
            && (Spec.Filter is not { } filter || filter.Matches(frame));

    /// <summary>
    /// Counts one eligible event and applies only/nth/times (not prob): for kinds whose own model then decides
    /// (netem's correlated loss, Gilbert-Elliott, 4-state, reorder), which call <see cref="CountFiring"/> on a yes.
    /// </summary>
    public bool Admit()
    {
        FaultTrigger t = Spec.Trigger;
        long n = ++Eligible;
        if (t.Only != 0 && n != t.Only)
        {
            return false;
        }

        if (t.Nth != 0 && n % t.Nth != 0)
        {
            return false;
        }

        return t.Times == 0 || Fired < t.Times;
    }

    private bool Decide()
    {
        if (!Admit())
        {
            return false;
        }

        double p = Spec.Trigger.Probability;
        if (p < 1 && Random.NextDouble() >= p)
        {
            return false;
        }

        Fired++;
        return true;
    }

    /// <summary>For kinds whose own model decides (loss-ge, delay): counts a firing that the trigger let through.</summary>
    public void CountFiring() => Fired++;
}
