using System.Globalization;

namespace Emu.Emulator.Faults;

/// <summary>Which way a frame crosses the wire: rx is wire → device, tx is device → wire.</summary>
[Flags]
public enum FaultDirection
{
    Rx = 1,
    Tx = 2,
    Both = Rx | Tx,
}

/// <summary>
/// One parsed fault: <c>KIND[,key=value]...</c> (issue 21's interface). The triggers common to every kind
/// (<see cref="Trigger"/>), the frame filters of frame kinds (<see cref="Filter"/>) and the kind's own keys, each
/// checked for its type and range when parsed, so a plan never runs half-configured. Parsing never throws.
/// </summary>
public sealed class FaultSpec
{
    private static readonly HashSet<string> TriggerKeys = ["prob", "nth", "only", "times", "after", "until", "dir"];
    private static readonly HashSet<string> FilterKeys = ["ethertype", "proto", "port", "len", "tcpflags"];
    private static readonly HashSet<string> DurationKeys = ["after", "until", "time", "jitter", "for", "down", "every", "min", "max"];
    private static readonly HashSet<string> ProbabilityKeys = ["prob", "corr", "p", "r", "bad", "good", "p13", "p31", "p32", "p23", "p14"];
    private static readonly HashSet<string> CountKeys = ["nth", "only", "times", "bits", "gap", "frames", "descriptors", "packets", "bytes", "word", "length", "overhead"];
    private static readonly HashSet<string> HexKeys = ["value", "status"];

    private readonly Dictionary<string, double> _numbers = [];
    private readonly Dictionary<string, string> _words = [];

    private FaultSpec(FaultKind kind, string text)
    {
        Kind = kind;
        Text = text;
    }

    public FaultKind Kind { get; }

    /// <summary>The SPEC as given (for listings, summaries and capture comments).</summary>
    public string Text { get; }

    public FaultTrigger Trigger { get; private set; } = FaultTrigger.Always;

    /// <summary>Null when the kind takes no frame filter or none was given.</summary>
    public FrameFilter? Filter { get; private set; }

    /// <summary>Whether the kind's own key was given.</summary>
    public bool Has(string key) => _numbers.ContainsKey(key) || _words.ContainsKey(key);

    /// <summary>A numeric key of the kind (durations in nanoseconds, probabilities 0..1, counts, hex values).</summary>
    public double Number(string key, double fallback) => _numbers.TryGetValue(key, out double v) ? v : fallback;

    public long Nanoseconds(string key, long fallback) => _numbers.TryGetValue(key, out double v) ? (long)v : fallback;

    public string? Word(string key) => _words.TryGetValue(key, out string? v) ? v : null;

    public override string ToString() => Text;

    /// <summary>Parses a SPEC; false with a one-line reason naming the key.</summary>
    public static bool TryParse(string text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out FaultSpec? spec, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        spec = null;
        string[] parts = text.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length == 0 || parts[0].Length == 0)
        {
            error = "an empty fault spec (KIND[,key=value]...)";
            return false;
        }

        FaultKind? kind = FaultKind.Find(parts[0]);
        if (kind is null)
        {
            error = $"'{parts[0]}' is not a fault kind (the kinds: {string.Join(", ", FaultKind.All.Select(k => k.Name))})";
            return false;
        }

        var pairs = new List<(string Key, string Value)>();
        foreach (string part in parts.Skip(1))
        {
            int eq = part.IndexOf('=', StringComparison.Ordinal);
            string key = (eq < 0 ? part : part[..eq]).Trim();
            string value = eq < 0 ? string.Empty : part[(eq + 1)..].Trim();
            if (key.Length == 0)
            {
                error = $"{kind.Name}: an empty key in '{text}'";
                return false;
            }

            pairs.Add((key, value));
        }

        return TryBuild(kind, text, pairs, out spec, out error);
    }

    /// <summary>Builds a spec from key/value pairs (a SPEC's, or a JSON plan object's).</summary>
    public static bool TryBuild(FaultKind kind, string text, IReadOnlyList<(string Key, string Value)> pairs, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out FaultSpec? spec, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        spec = null;
        var result = new FaultSpec(kind, text);
        var trigger = new Dictionary<string, string>();
        var filter = new Dictionary<string, string>();
        var seen = new HashSet<string>();
        foreach ((string key, string value) in pairs)
        {
            if (!seen.Add(key))
            {
                error = $"{kind.Name}: key '{key}' given twice";
                return false;
            }

            bool own = kind.Keys.Contains(key);
            if (!own && TriggerKeys.Contains(key))
            {
                trigger[key] = value;
                continue;
            }

            if (!own && FilterKeys.Contains(key))
            {
                if (!kind.FrameKind)
                {
                    error = $"{kind.Name}: '{key}' filters frames, and {kind.Name} does not act on a frame";
                    return false;
                }

                filter[key] = value;
                continue;
            }

            if (!own)
            {
                error = $"{kind.Name}: unknown key '{key}' (its keys: {string.Join(", ", kind.Keys.Concat(TriggerKeys).Concat(kind.FrameKind ? FilterKeys : []))})";
                return false;
            }

            if (!result.TryAddOwn(key, value, out error))
            {
                error = $"{kind.Name}: {error}";
                return false;
            }
        }

        if (!FaultTrigger.TryParse(trigger, out FaultTrigger? parsedTrigger, out error))
        {
            error = $"{kind.Name}: {error}";
            return false;
        }

        result.Trigger = parsedTrigger;
        if (filter.Count > 0)
        {
            if (!FrameFilter.TryParse(filter, out FrameFilter? parsedFilter, out error))
            {
                error = $"{kind.Name}: {error}";
                return false;
            }

            result.Filter = parsedFilter;
        }

        if (kind.Site == FaultSite.Device && !DeviceFaultRules.TryValidate(result, out error))
        {
            error = $"{kind.Name}: {error}";
            return false;
        }

        spec = result;
        error = null;
        return true;
    }

    private bool TryAddOwn(string key, string value, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        error = null;
        if (DurationKeys.Contains(key))
        {
            if (!TryParseDuration(value, out long ns))
            {
                error = $"{key}='{value}' is not a duration (a number with ns, us, ms or s)";
                return false;
            }

            _numbers[key] = ns;
            return true;
        }

        if (ProbabilityKeys.Contains(key))
        {
            if (!TryParseProbability(value, out double p))
            {
                error = $"{key}='{value}' is not a probability from 0 to 1 (or 0% to 100%)";
                return false;
            }

            _numbers[key] = p;
            return true;
        }

        if (CountKeys.Contains(key) || (key == "len" && Kind == FaultKind.Truncate))
        {
            if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long n) || n > int.MaxValue)
            {
                error = $"{key}='{value}' is not a whole number";
                return false;
            }

            _numbers[key] = n;
            return true;
        }

        if (HexKeys.Contains(key))
        {
            if (!TryParseInteger(value, out long n) || n > 0xFFFF)
            {
                error = $"{key}='{value}' is not a number from 0 to 0xFFFF";
                return false;
            }

            _numbers[key] = n;
            return true;
        }

        switch (key)
        {
            case "bps":
                if (!TryParseRate(value, out double bps))
                {
                    error = $"bps='{value}' is not a rate (bits per second, with k, m or g: 10m, 1.5g)";
                    return false;
                }

                _numbers[key] = bps;
                return true;
            case "dist" when value is "uniform" or "normal" or "pareto" or "paretonormal":
            case "target" when value is "rx-desc" or "rx-buffer" or "tx-desc" or "tx-buffer":
                _words[key] = value;
                return true;
            case "dist":
                error = $"dist='{value}' is not uniform, normal, pareto or paretonormal";
                return false;
            case "target":
                error = $"target='{value}' is not rx-desc, rx-buffer, tx-desc or tx-buffer";
                return false;
            case "checksum" when value.Length == 0:
                _words[key] = "on";
                return true;
            default:
                error = $"{key}='{value}' is not understood";
                return false;
        }
    }

    /// <summary>A duration: a number with ns, us, ms or s (0 may go bare).</summary>
    public static bool TryParseDuration(string text, out long nanoseconds)
    {
        nanoseconds = 0;
        (string digits, double scale) = text switch
        {
            _ when text.EndsWith("ns", StringComparison.Ordinal) => (text[..^2], 1.0),
            _ when text.EndsWith("us", StringComparison.Ordinal) => (text[..^2], 1e3),
            _ when text.EndsWith("ms", StringComparison.Ordinal) => (text[..^2], 1e6),
            _ when text.EndsWith('s') => (text[..^1], 1e9),
            "0" => ("0", 1.0),
            _ => (string.Empty, 0),
        };
        if (digits.Length == 0 || !double.TryParse(digits, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value))
        {
            return false;
        }

        double ns = value * scale;
        if (!(ns >= 0 && ns <= 1e17))
        {
            return false;
        }

        nanoseconds = (long)Math.Round(ns);
        return true;
    }

    public static bool TryParseProbability(string text, out double p)
    {
        bool percent = text.EndsWith('%');
        if (!double.TryParse(percent ? text[..^1] : text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out p))
        {
            return false;
        }

        if (percent)
        {
            p /= 100;
        }

        return p is >= 0 and <= 1;
    }

    public static bool TryParseInteger(string text, out long value)
        => text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? long.TryParse(text[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value) && value >= 0
            : long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);

    private static bool TryParseRate(string text, out double bps)
    {
        string t = text.ToLowerInvariant();
        foreach (string unit in new[] { "bit", "bps" })
        {
            if (t.EndsWith(unit, StringComparison.Ordinal))
            {
                t = t[..^unit.Length];
            }
        }

        double scale = 1;
        if (t.Length > 0 && t[^1] is 'k' or 'm' or 'g')
        {
            scale = t[^1] switch { 'k' => 1e3, 'm' => 1e6, _ => 1e9 };
            t = t[..^1];
        }

        if (!double.TryParse(t, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out bps))
        {
            return false;
        }

        bps *= scale;
        return bps is >= 1 and <= 1e12;
    }
}
