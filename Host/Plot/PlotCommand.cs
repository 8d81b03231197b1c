using System.CommandLine;
using ScottPlot;

namespace Emu.Host.Plot;

/// <summary><c>emu plot tcp FILE.csv -o FILE.svg|png</c>: draws a <c>--tcp-trace</c> CSV (issue 20).</summary>
internal static class PlotCommand
{
    public const int DefaultWidth = 1200;

    public const int DefaultHeight = 900;

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var input = new Argument<FileInfo>("FILE") { Description = "A CSV written by --tcp-trace (emu run, emu device)." };
        var output = new Option<FileInfo>("--output", "-o") { HelpName = "FILE", Description = "The picture: FILE.svg or FILE.png.", Required = true };
        var connection = new Option<string?>("--connection") { HelpName = "CONN", Description = "The connection to draw, as the CSV names it ([src]:port-[dst]:port; default: the one with the most rows)." };
        var width = new Option<int>("--width") { HelpName = "PIXELS", Description = $"Width of the picture (default {DefaultWidth}).", DefaultValueFactory = _ => DefaultWidth };
        var height = new Option<int>("--height") { HelpName = "PIXELS", Description = $"Height of the picture (default {DefaultHeight}).", DefaultValueFactory = _ => DefaultHeight };
        var tcp = new Command("tcp", "Draw a TCP trace: sequence and ACK over time, cwnd/ssthresh/in flight, and SRTT/RTTVAR/RTO, for one connection.")
        {
            input,
            output,
            connection,
            width,
            height,
        };
        tcp.SetAction(parse =>
        {
            string file = parse.GetValue(input)!.FullName;
            string picture = parse.GetValue(output)!.FullName;
            int w = parse.GetValue(width);
            int h = parse.GetValue(height);
            if (!PlotImage.TryCheck(picture, w, h, out string? error) || !TcpTraceFile.TryRead(file, out List<TcpTraceRow> rows, out error))
            {
                stderr.WriteLine($"emu plot tcp: {error}.");
                return 2;
            }

            string? chosen = parse.GetValue(connection);
            if (chosen is not null && !rows.Any(r => r.Connection == chosen))
            {
                string known = string.Join(", ", rows.Select(r => r.Connection).Distinct(StringComparer.Ordinal).Take(5));
                stderr.WriteLine($"emu plot tcp: {file} has no connection '{chosen}' (it has {known}).");
                return 2;
            }

            chosen ??= TcpPlot.BusiestConnection(rows);
            Multiplot plots = TcpPlot.Build(rows, chosen);
            try
            {
                PlotImage.Save(plots, picture, w, h);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                stderr.WriteLine($"emu plot tcp: {picture}: {e.Message}");
                return 2;
            }

            stdout.WriteLine($"emu plot tcp: {picture}: {chosen}, {rows.Count(r => r.Connection == chosen)} rows");
            return 0;
        });
        return new Command("plot", "Draw what emu writes (a --tcp-trace CSV) as SVG or PNG.") { tcp };
    }
}
