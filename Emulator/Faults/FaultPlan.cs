using System.Text.Json;

namespace Emu.Emulator.Faults;

/// <summary>
/// A seeded fault plan (issue 21): the faults armed, each with its id, and the seed that makes a run repeatable in
/// virtual time. The same object serves the command line (<c>--fault</c>, <c>--faults FILE</c>, <c>--seed</c>), the
/// control socket (arm, disarm, list) and tests in-process. Not thread-safe: use it on the node's loop.
/// </summary>
public sealed class FaultPlan
{
    private readonly List<Fault> _faults = [];
    private int _nextId = 1;

    public FaultPlan(int seed)
    {
        Seed = seed;
    }

    public int Seed { get; }

    /// <summary>Every fault ever armed, disarmed ones too (their counts stay for the summary).</summary>
    public IReadOnlyList<Fault> Faults => _faults;

    /// <summary>Raised after a fault is armed or disarmed, so the hooks can (re)build what they consult.</summary>
    public event Action? Changed;

    public Fault Arm(FaultSpec spec)
    {
        var fault = new Fault(_nextId++, spec, Seed);
        _faults.Add(fault);
        Changed?.Invoke();
        return fault;
    }

    public bool Disarm(int id)
    {
        Fault? fault = _faults.Find(f => f.Id == id && f.Armed);
        if (fault is null)
        {
            return false;
        }

        fault.Armed = false;
        Changed?.Invoke();
        return true;
    }

    /// <summary>The armed faults of one kind.</summary>
    public IEnumerable<Fault> Armed(FaultKind kind) => _faults.Where(f => f.Armed && f.Spec.Kind == kind);

    /// <summary>Parses every SPEC and the JSON plan file's objects; nothing is armed unless all of them parse.</summary>
    public static bool TryCreate(int seed, IEnumerable<string> specs, string? jsonText, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out FaultPlan? plan, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        plan = null;
        var parsed = new List<FaultSpec>();
        foreach (string text in specs)
        {
            if (!FaultSpec.TryParse(text, out FaultSpec? spec, out error))
            {
                error = $"--fault '{text}': {error}";
                return false;
            }

            parsed.Add(spec);
        }

        if (jsonText is not null)
        {
            if (!TryParseJson(jsonText, parsed, out error))
            {
                return false;
            }
        }

        if (!WireFaults.TryCheck(parsed, out error))
        {
            return false;
        }

        plan = new FaultPlan(seed);
        foreach (FaultSpec spec in parsed)
        {
            plan.Arm(spec);
        }

        error = null;
        return true;
    }

    /// <summary>A JSON plan: an array of objects with a SPEC's keys, <c>"kind"</c> the kind.</summary>
    private static bool TryParseJson(string text, List<FaultSpec> into, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 8, AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            error = $"--faults: not JSON ({e.Message})";
            return false;
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Array)
            {
                error = "--faults: the plan is a JSON array of objects";
                return false;
            }

            int index = 0;
            foreach (JsonElement item in document.RootElement.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("kind", out JsonElement kindElement) || kindElement.ValueKind != JsonValueKind.String)
                {
                    error = $"--faults: item {index} is not an object with a \"kind\" string";
                    return false;
                }

                string kindName = kindElement.GetString()!;
                FaultKind? kind = FaultKind.Find(kindName);
                if (kind is null)
                {
                    error = $"--faults: item {index}: '{kindName}' is not a fault kind";
                    return false;
                }

                var pairs = new List<(string, string)>();
                var specText = new System.Text.StringBuilder(kindName);
                foreach (JsonProperty property in item.EnumerateObject())
                {
                    if (property.Name == "kind")
                    {
                        continue;
                    }

                    string? value = property.Value.ValueKind switch
                    {
                        JsonValueKind.String => property.Value.GetString(),
                        JsonValueKind.Number => property.Value.GetRawText(),
                        JsonValueKind.True => string.Empty,
                        _ => null,
                    };
                    if (value is null)
                    {
                        error = $"--faults: item {index} ({kindName}): key '{property.Name}' must be a string, a number or true";
                        return false;
                    }

                    pairs.Add((property.Name, value));
                    specText.Append(',').Append(property.Name);
                    if (value.Length > 0)
                    {
                        specText.Append('=').Append(value);
                    }
                }

                if (!FaultSpec.TryBuild(kind, specText.ToString(), pairs, out FaultSpec? spec, out error))
                {
                    error = $"--faults: item {index}: {error}";
                    return false;
                }

                into.Add(spec);
                index++;
            }
        }

        error = null;
        return true;
    }
}
