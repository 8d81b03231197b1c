namespace Emu.Emulator.Faults;

/// <summary>
/// netem's delay distributions (tc-netem(8) <c>distribution</c>; sch_netem.c tabledist): a delay is
/// <c>time + jitter × t</c> with t drawn from the distribution. Uniform, as netem without a table, spreads evenly over
/// time ± jitter; normal, pareto and paretonormal are 4096-entry quantile tables scaled to mean 0 and standard
/// deviation 1, as iproute2's are (so jitter is their standard deviation). Pareto has shape 3 (iproute2's pareto.c),
/// paretonormal is a quarter normal plus three quarters pareto (paretonormal.c). Tables are computed here, not copied.
/// </summary>
public enum DelayDistribution
{
    Uniform,
    Normal,
    Pareto,
    ParetoNormal,
}

/// <summary>Draws from a <see cref="DelayDistribution"/> given a uniform value (possibly correlated, as netem's).</summary>
public static class DelayDistributions
{
    private const int TableSize = 4096;
    private static readonly Lazy<double[]> NormalTable = new(() => Normalise(i => InverseNormal((i + 0.5) / TableSize)));
    private static readonly Lazy<double[]> ParetoTable = new(() => Normalise(i => Pareto((i + 0.5) / TableSize)));
    private static readonly Lazy<double[]> ParetoNormalTable = new(BuildParetoNormal);

    public static DelayDistribution Parse(string? name) => name switch
    {
        "normal" => DelayDistribution.Normal,
        "pareto" => DelayDistribution.Pareto,
        "paretonormal" => DelayDistribution.ParetoNormal,
        _ => DelayDistribution.Uniform,
    };

    /// <summary>t for the uniform value <paramref name="u"/> in [0, 1): uniform in [-1, 1), the others mean 0, sd 1.</summary>
    public static double Sample(DelayDistribution distribution, double u) => distribution switch
    {
        DelayDistribution.Normal => NormalTable.Value[Index(u)],
        DelayDistribution.Pareto => ParetoTable.Value[Index(u)],
        DelayDistribution.ParetoNormal => ParetoNormalTable.Value[Index(u)],
        _ => (2 * u) - 1,
    };

    /// <summary>netem's tabledist: mu + sigma × t; sigma 0 gives mu.</summary>
    public static double Delay(DelayDistribution distribution, double mu, double sigma, CorrelatedRandom random)
        => sigma == 0 ? mu : mu + (sigma * Sample(distribution, random.Next()));

    /// <summary>As netem indexes its table: a finite table, so the tails are cut where iproute2's are.</summary>
    private static int Index(double u) => Math.Clamp((int)(u * TableSize), 0, TableSize - 1);

    /// <summary>A quantile table scaled to mean 0 and standard deviation 1 over its own entries.</summary>
    private static double[] Normalise(Func<int, double> quantile)
    {
        double[] table = new double[TableSize];
        for (int i = 0; i < TableSize; i++)
        {
            table[i] = quantile(i);
        }

        double mean = table.Average();
        double sd = Math.Sqrt(table.Sum(v => (v - mean) * (v - mean)) / TableSize);
        for (int i = 0; i < TableSize; i++)
        {
            table[i] = (table[i] - mean) / sd;
        }

        return table;
    }

    private static double Clamp(double u) => Math.Clamp(u, 0.5 / TableSize, 1 - (0.5 / TableSize));

    /// <summary>Pareto with shape 3 and scale 1 (mean 1.5, variance 3/4), by its inverse CDF, centred and scaled.</summary>
    private static double Pareto(double u) => (Math.Pow(1 - u, -1.0 / 3) - 1.5) / Math.Sqrt(0.75);

    /// <summary>The standard normal quantile (P. J. Acklam's rational approximation, relative error below 1.2e-9).</summary>
    public static double InverseNormal(double p)
    {
        const double Low = 0.02425;
        double q;
        if (p < Low)
        {
            q = Math.Sqrt(-2 * Math.Log(p));
            return Tail(q);
        }

        if (p > 1 - Low)
        {
            q = Math.Sqrt(-2 * Math.Log(1 - p));
            return -Tail(q);
        }

        q = p - 0.5;
        double r = q * q;
        return (((((((-3.969683028665376e+01 * r) + 2.209460984245205e+02) * r) - 2.759285104469687e+02) * r + 1.383577518672690e+02) * r - 3.066479806614716e+01) * r + 2.506628277459239e+00) * q
            / (((((((-5.447609879822406e+01 * r) + 1.615858368580409e+02) * r) - 1.556989798598866e+02) * r + 6.680131188771972e+01) * r - 1.328068155288572e+01) * r + 1);

        static double Tail(double q)
            => (((((((-7.784894002430293e-03 * q) - 3.223964580411365e-01) * q) - 2.400758277161838e+00) * q - 2.549732539343734e+00) * q + 4.374664141464968e+00) * q + 2.938163982698783e+00)
                / ((((((7.784695709041462e-03 * q) + 3.224671290700398e-01) * q) + 2.445134137142996e+00) * q + 3.754408661907416e+00) * q + 1);
    }

    /// <summary>The quantiles of 0.25 × normal + 0.75 × pareto, from a fixed-seed sample (the table is the same every run).</summary>
    private static double[] BuildParetoNormal()
    {
        const int Samples = TableSize * 16;
        var random = new Random(20_210_021);
        double[] values = new double[Samples];
        for (int i = 0; i < Samples; i++)
        {
            values[i] = (0.25 * InverseNormal(Clamp(random.NextDouble()))) + (0.75 * Pareto(Clamp(random.NextDouble())));
        }

        Array.Sort(values);
        return Normalise(i => values[(i * 16) + 8]);
    }
}
