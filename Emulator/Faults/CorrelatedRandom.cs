namespace Emu.Emulator.Faults;

/// <summary>
/// netem's correlated generator (sch_netem.c get_crandom): each draw is the new uniform value weighted by 1 - corr
/// plus the previous draw weighted by corr. corr 0 gives independent uniform draws. As in netem, the correlation
/// shapes runs of draws, and it also narrows their spread (the mean stays 1/2).
/// </summary>
public sealed class CorrelatedRandom
{
    private readonly Random _random;
    private readonly double _rho;
    private double _last;

    public CorrelatedRandom(Random random, double correlation)
    {
        _random = random;
        _rho = correlation;
        _last = correlation == 0 ? 0 : random.NextDouble();   // netem's init_crandom seeds last with a draw
    }

    /// <summary>A value in [0, 1).</summary>
    public double Next()
    {
        double value = _random.NextDouble();
        if (_rho == 0)
        {
            return value;
        }

        _last = (value * (1 - _rho)) + (_last * _rho);
        return _last;
    }
}
