using System.Globalization;
using Emu.Host.Instruments;

namespace Emu.Host.Plot;

/// <summary>
/// Reads a <c>--tcp-trace</c> CSV (<see cref="TcpTraceCsv.Header"/>): columns by their names in the header row, so
/// that columns may be added later; a missing file, an empty one, a header without the columns a plot needs, or a
/// row that does not parse is an error naming the file and line.
/// </summary>
public static class TcpTraceFile
{
    private static readonly string[] Required = ["time", "connection", "event", "snd_una", "snd_nxt", "cwnd"];

    public static bool TryRead(string path, out List<TcpTraceRow> rows, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        rows = [];
        error = null;
        if (!File.Exists(path))
        {
            error = $"{path}: no such file";
            return false;
        }

        try
        {
            using var reader = new StreamReader(path);
            return TryRead(reader, path, rows, out error);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = $"{path}: {e.Message}";
            return false;
        }
    }

    public static bool TryRead(TextReader reader, string name, List<TcpTraceRow> rows, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        error = null;
        string? header = reader.ReadLine();
        if (header is null || header.Trim().Length == 0)
        {
            error = $"{name}: empty file (expected the header row of an emu --tcp-trace CSV)";
            return false;
        }

        string[] names = header.Trim().Split(',');
        var column = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < names.Length; i++)
        {
            column.TryAdd(names[i].Trim(), i);
        }

        foreach (string required in Required)
        {
            if (!column.ContainsKey(required))
            {
                error = $"{name}:1: not an emu --tcp-trace header (no '{required}' column)";
                return false;
            }
        }

        int line = 1;
        string? text;
        while ((text = reader.ReadLine()) is not null)
        {
            line++;
            if (text.Length == 0)
            {
                continue;
            }

            string[] f = text.Split(',');
            if (f.Length != names.Length)
            {
                error = $"{name}:{line}: {f.Length} fields where the header has {names.Length}";
                return false;
            }

            string? bad = null;
            double Number(string col, bool required = false)
            {
                if (!column.TryGetValue(col, out int i) || f[i].Length == 0)
                {
                    if (required)
                    {
                        bad ??= $"empty '{col}'";
                    }

                    return double.NaN;
                }

                if (!double.TryParse(f[i], NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
                {
                    bad ??= $"'{col}' is not a number: '{f[i]}'";
                    return double.NaN;
                }

                return v;
            }

            uint Seq(string col)
            {
                double v = Number(col, required: true);
                if (double.IsNaN(v))
                {
                    return 0;
                }

                if (v < 0 || v > uint.MaxValue || v != Math.Floor(v))
                {
                    bad ??= $"'{col}' is not a 32-bit sequence number: '{f[column[col]]}'";
                    return 0;
                }

                return (uint)v;
            }

            string Text(string col) => column.TryGetValue(col, out int i) ? f[i] : string.Empty;

            var row = new TcpTraceRow
            {
                Time = Number("time", required: true),
                Connection = Text("connection"),
                Event = Text("event"),
                Reason = Text("reason"),
                State = Text("state"),
                Seq = Number("seq"),
                Length = Number("len"),
                SndUna = Seq("snd_una"),
                SndNxt = Seq("snd_nxt"),
                Cwnd = Number("cwnd", required: true),
                SsThresh = Number("ssthresh"),
                SrttMs = Number("srtt_ms"),
                RttVarMs = Number("rttvar_ms"),
                RtoMs = Number("rto_ms"),
                InFlight = Number("in_flight"),
                Retransmits = Number("retransmits"),
                Rwnd = Number("rwnd"),
            };
            if (bad is null && row.Connection.Length == 0)
            {
                bad = "empty 'connection'";
            }

            if (bad is not null)
            {
                error = $"{name}:{line}: {bad}";
                return false;
            }

            rows.Add(row);
        }

        if (rows.Count == 0)
        {
            error = $"{name}: no rows after the header";
            return false;
        }

        return true;
    }
}
