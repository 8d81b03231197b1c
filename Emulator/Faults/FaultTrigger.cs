using System.Globalization;

namespace Emu.Emulator.Faults;

/// <summary>
/// When a fault fires, as Linux's fault-injection framework counts it (Documentation/fault-injection): among the
/// eligible events (those in the window <c>after</c>..<c>until</c>, in the direction, past the filters), only the
/// <c>only</c>-th (fail-nth), or every <c>nth</c> (interval), with probability <c>prob</c>, at most <c>times</c> times.
/// </summary>
public sealed record FaultTrigger(double Probability, long Nth, long Only, long Times, long AfterNs, long UntilNs, FaultDirection Direction)
{
    public static FaultTrigger Always { get; } = new(1.0, 0, 0, 0, 0, 0, FaultDirection.Both);

    /// <summary>Whether <paramref name="now"/> (ns since the node started) lies in the window.</summary>
    public bool InWindow(long now) => now >= AfterNs && (UntilNs == 0 || now < UntilNs);

    internal static bool TryParse(IReadOnlyDictionary<string, string> keys, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out FaultTrigger? trigger, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        trigger = null;
        double prob = 1;
        long nth = 0, only = 0, times = 0, after = 0, until = 0;
        var dir = FaultDirection.Both;
        foreach ((string key, string value) in keys)
        {
            bool ok = key switch
            {
                "prob" => FaultSpec.TryParseProbability(value, out prob),
                "nth" => TryPositive(value, out nth),
                "only" => TryPositive(value, out only),
                "times" => TryPositive(value, out times),
                "after" => FaultSpec.TryParseDuration(value, out after),
                "until" => FaultSpec.TryParseDuration(value, out until),
                "dir" => TryDirection(value, out dir),
                _ => false,
            };
            if (!ok)
            {
                error = key switch
                {
                    "prob" => $"prob='{value}' is not a probability from 0 to 1",
                    "nth" or "only" or "times" => $"{key}='{value}' is not a whole number of at least 1",
                    "after" or "until" => $"{key}='{value}' is not a duration (a number with ns, us, ms or s)",
                    "dir" => $"dir='{value}' is not rx, tx or both",
                    _ => $"unknown trigger key '{key}'",
                };
                return false;
            }
        }

        if (until != 0 && until <= after)
        {
            error = string.Create(CultureInfo.InvariantCulture, $"until={until} ns is not after after={after} ns: the window is empty");
            return false;
        }

        if (only != 0 && (nth != 0 || times != 0))
        {
            error = "only= fires once, on the Nth event: it does not go with nth= or times=";
            return false;
        }

        trigger = new FaultTrigger(prob, nth, only, times, after, until, dir);
        error = null;
        return true;
    }

    private static bool TryPositive(string text, out long value)
        => long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= 1;

    private static bool TryDirection(string text, out FaultDirection dir)
    {
        dir = text switch { "rx" => FaultDirection.Rx, "tx" => FaultDirection.Tx, "both" => FaultDirection.Both, _ => 0 };
        return dir != 0;
    }
}
