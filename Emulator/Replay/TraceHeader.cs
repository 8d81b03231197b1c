using System.Text;
using System.Text.Json;

namespace Emu.Emulator.Replay;

/// <summary>
/// What a replay needs to rebuild the node before the first input: the mode and command line it ran with, the
/// e1000's EEPROM (MAC included), the stack's and the fault plan's seeds, the faults given at start, the netdev and
/// the HTTP root. Written as the trace's first record, in JSON.
/// </summary>
public sealed record TraceHeader
{
    public int FormatVersion { get; init; } = TraceFormat.Version;

    public string EmuVersion { get; init; } = "";

    /// <summary>"run", "device" or "qtest".</summary>
    public string Mode { get; init; } = "run";

    public IReadOnlyList<string> CommandLine { get; init; } = [];

    /// <summary>The 64 EEPROM words the device was built with.</summary>
    public IReadOnlyList<ushort> Eeprom { get; init; } = [];

    public int Ipv6Seed { get; init; }

    /// <summary>The fault plan's seed, or null when the session had no plan.</summary>
    public int? FaultSeed { get; init; }

    /// <summary>The SPECs armed at start (live arms are Control records).</summary>
    public IReadOnlyList<string> Faults { get; init; } = [];

    /// <summary>The netdev's SPEC text (run), or null.</summary>
    public string? Netdev { get; init; }

    /// <summary>Whether the netdev starts without carrier (a stream netdev with no peer yet).</summary>
    public bool StartsWithoutCarrier { get; init; }

    /// <summary>The --www directory, or null for the built-in page.</summary>
    public string? Www { get; init; }

    /// <summary>Virtual time between digest records.</summary>
    public long DigestIntervalNs { get; init; }

    public byte[] ToJson()
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteNumber("formatVersion", FormatVersion);
            w.WriteString("emuVersion", EmuVersion);
            w.WriteString("mode", Mode);
            w.WriteStartArray("commandLine");
            foreach (string arg in CommandLine)
            {
                w.WriteStringValue(arg);
            }

            w.WriteEndArray();
            w.WriteStartArray("eeprom");
            foreach (ushort word in Eeprom)
            {
                w.WriteNumberValue(word);
            }

            w.WriteEndArray();
            w.WriteNumber("ipv6Seed", Ipv6Seed);
            if (FaultSeed is { } seed)
            {
                w.WriteNumber("faultSeed", seed);
            }

            w.WriteStartArray("faults");
            foreach (string spec in Faults)
            {
                w.WriteStringValue(spec);
            }

            w.WriteEndArray();
            if (Netdev is not null)
            {
                w.WriteString("netdev", Netdev);
            }

            w.WriteBoolean("startsWithoutCarrier", StartsWithoutCarrier);
            if (Www is not null)
            {
                w.WriteString("www", Www);
            }

            w.WriteNumber("digestIntervalNs", DigestIntervalNs);
            w.WriteEndObject();
        }

        return stream.ToArray();
    }

    /// <summary>Reads a header record's JSON; never throws on bad input.</summary>
    public static bool TryParse(ReadOnlySpan<byte> json, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out TraceHeader? header, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        header = null;
        try
        {
            using JsonDocument document = JsonDocument.Parse(json.ToArray());
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                error = "the header is not a JSON object";
                return false;
            }

            int version = root.TryGetProperty("formatVersion", out JsonElement v) && v.TryGetInt32(out int n) ? n : -1;
            if (version != TraceFormat.Version)
            {
                error = $"the header says format version {version}; this Emu reads version {TraceFormat.Version}";
                return false;
            }

            string? mode = Text(root, "mode");
            if (mode is not ("run" or "device" or "qtest"))
            {
                error = $"the header's mode '{mode}' is not run, device or qtest";
                return false;
            }

            var eeprom = new List<ushort>();
            if (root.TryGetProperty("eeprom", out JsonElement words) && words.ValueKind == JsonValueKind.Array)
            {
                foreach (JsonElement word in words.EnumerateArray())
                {
                    if (!word.TryGetUInt16(out ushort value))
                    {
                        error = "the header's EEPROM holds a value that is not a 16-bit word";
                        return false;
                    }

                    eeprom.Add(value);
                }
            }

            if (eeprom.Count != 64)
            {
                error = $"the header's EEPROM has {eeprom.Count} words, not 64";
                return false;
            }

            header = new TraceHeader
            {
                FormatVersion = version,
                EmuVersion = Text(root, "emuVersion") ?? "",
                Mode = mode,
                CommandLine = Strings(root, "commandLine"),
                Eeprom = eeprom,
                Ipv6Seed = root.TryGetProperty("ipv6Seed", out JsonElement s) && s.TryGetInt32(out int seed) ? seed : 0,
                FaultSeed = root.TryGetProperty("faultSeed", out JsonElement f) && f.TryGetInt32(out int faultSeed) ? faultSeed : null,
                Faults = Strings(root, "faults"),
                Netdev = Text(root, "netdev"),
                StartsWithoutCarrier = root.TryGetProperty("startsWithoutCarrier", out JsonElement c) && c.ValueKind == JsonValueKind.True,
                Www = Text(root, "www"),
                DigestIntervalNs = root.TryGetProperty("digestIntervalNs", out JsonElement d) && d.TryGetInt64(out long interval) ? interval : 0,
            };
            error = null;
            return true;
        }
        catch (JsonException e)
        {
            error = "the header is not valid JSON: " + e.Message;
            return false;
        }
    }

    private static string? Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static List<string> Strings(JsonElement root, string name)
    {
        var list = new List<string>();
        if (root.TryGetProperty(name, out JsonElement array) && array.ValueKind == JsonValueKind.Array)
        {
            foreach (JsonElement item in array.EnumerateArray())
            {
                if (item.ValueKind == JsonValueKind.String)
                {
                    list.Add(item.GetString()!);
                }
            }
        }

        return list;
    }

    public override string ToString() => Encoding.UTF8.GetString(ToJson());
}
