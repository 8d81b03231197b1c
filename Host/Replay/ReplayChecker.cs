using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Emu.Emulator.Replay;

namespace Emu.Host.Replay;

/// <summary>
/// What every replayer checks the same way: the Digest and End records against the replay's own digests of its
/// outputs and inputs (docs/record-format.md), and at the end the counters text; each difference is one report.
/// </summary>
internal sealed class ReplayChecker(bool check, TextWriter errors)
{
    private readonly CultureInfo _c = CultureInfo.InvariantCulture;
    private long _lastMatch;
    private long _lastMatchTime;

    public OutputDigest Outputs { get; } = new();

    public OutputDigest Inputs { get; } = new();

    /// <summary>The last input fed, for the reports ("record N, a 86-byte frame at T s").</summary>
    public string LastInput { get; set; } = "none";

    public long DigestsChecked { get; private set; }

    /// <summary>Whether the End record was reached.</summary>
    public bool Ended { get; private set; }

    /// <summary>
    /// Checks a Digest or End record; <paramref name="counters"/> gives the replay's counters text (End only) and
    /// <paramref name="pendingDivergence"/> a divergence the replayer found itself, reported here. Returns 0 when it
    /// matched, 1 on a difference (reported), 2 on a malformed record (reported).
    /// </summary>
    public int Check(TraceRecord record, Func<string> counters, string? pendingDivergence = null)
    {
        // u64 outputs, u64 hash, u64 inputs, u64 hash, u8 clock flag; End then the counters text.
        if (record.Payload.Length < 33)
        {
            errors.WriteLine($"emu replay: record {record.Index}: a {record.Kind} record of {record.Payload.Length} bytes (33 at least)");
            return 2;
        }

        ulong count = BinaryPrimitives.ReadUInt64LittleEndian(record.Payload);
        ulong value = BinaryPrimitives.ReadUInt64LittleEndian(record.Payload[8..]);
        ulong inputCount = BinaryPrimitives.ReadUInt64LittleEndian(record.Payload[16..]);
        ulong inputValue = BinaryPrimitives.ReadUInt64LittleEndian(record.Payload[24..]);
        int status = 0;
        if (check && (inputCount != Inputs.Count || inputValue != Inputs.Value))
        {
            // The inputs themselves are not what was recorded: the trace was edited after the fact.
            errors.WriteLine(string.Create(_c, $"emu replay: the trace's inputs differ from what was recorded, at record {record.Index} ({Seconds(record.Time)} s): an input among records {_lastMatch + 1}-{record.Index - 1} was altered after recording; the last of them: {LastInput}"));
            status = 1;
        }
        else if (pendingDivergence is not null)
        {
            errors.WriteLine(pendingDivergence);
            errors.WriteLine(string.Create(_c, $"  the outputs last matched at record {_lastMatch} ({Seconds(_lastMatchTime)} s)"));
            status = 1;
        }
        else if (check && (count != Outputs.Count || value != Outputs.Value))
        {
            errors.WriteLine(string.Create(_c, $"emu replay: diverged at virtual time {Seconds(record.Time)} s, record {record.Index}: the recording had {count} outputs (digest {value:x16}), the replay {Outputs.Count} ({Outputs.Value:x16})"));
            errors.WriteLine(string.Create(_c, $"  the outputs last matched at record {_lastMatch} ({Seconds(_lastMatchTime)} s); the last input before the difference: {LastInput}"));
            status = 1;
        }
        else
        {
            _lastMatch = record.Index;
            _lastMatchTime = record.Time;
        }

        DigestsChecked++;
        if (record.Kind != TraceRecordKind.End)
        {
            return status;
        }

        Ended = true;
        string recorded = Encoding.UTF8.GetString(record.Payload[33..]);
        string replayed = counters();
        if (check && status == 0 && recorded != replayed)
        {
            errors.WriteLine("emu replay: the counters differ at the end:");
            foreach (string diff in recorded.Split('\n').Except(replayed.Split('\n')))
            {
                errors.WriteLine("  recorded: " + diff);
            }

            foreach (string diff in replayed.Split('\n').Except(recorded.Split('\n')))
            {
                errors.WriteLine("  replayed: " + diff);
            }

            status = 1;
        }

        return status;
    }

    public static string Seconds(long ns) => (ns / 1e9).ToString("F6", CultureInfo.InvariantCulture);
}
