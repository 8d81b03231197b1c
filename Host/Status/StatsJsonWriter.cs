using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Emu.Host.Status;

/// <summary>
/// <c>--stats-json</c> and <c>--summary json</c>: a <see cref="CounterSnapshot"/> as one JSON object on one line,
/// <c>{"time":{"virtual_ns":…,"wall_s":…,"utc":…},"link":{…},"e1000":{"CRCERRS":…,…},…}</c>, groups and counters in the
/// snapshot's order.
/// </summary>
public static class StatsJsonWriter
{
    /// <summary>The snapshot as one line of JSON (no newline).</summary>
    public static string Format(CounterSnapshot snapshot)
    {
        var buffer = new ArrayBufferWriter<byte>(8192);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartObject("time");
            json.WriteNumber("virtual_ns", snapshot.VirtualNs);
            json.WriteNumber("wall_s", Math.Round(snapshot.WallSeconds, 6));
            json.WriteString("utc", snapshot.Utc.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
            json.WriteEndObject();
            foreach (CounterGroup group in snapshot.Groups)
            {
                json.WriteStartObject(group.Name);
                foreach (KeyValuePair<string, long> counter in group.Counters)
                {
                    json.WriteNumber(counter.Key, counter.Value);
                }

                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Writes the snapshot as one line and flushes it, so a reader of a pipe gets whole lines.</summary>
    public static void WriteLine(TextWriter output, CounterSnapshot snapshot)
    {
        output.WriteLine(Format(snapshot));
        output.Flush();
    }
}
