using ScottPlot;

namespace Emu.Host.Plot;

/// <summary>
/// <c>emu plot tcp</c>'s picture of one connection, as tcptrace and the tcp_probe scripts draw it: sequence space
/// over time (SND.NXT, SND.UNA, segments sent, retransmissions, RTOs), then cwnd, ssthresh and bytes in flight, then
/// SRTT, RTTVAR and RTO — stacked, one time axis.
/// </summary>
public static class TcpPlot
{
    /// <summary>Points per line above which lines are thinned (per pixel column: first, min, max, last).</summary>
    private const int MaxLinePoints = 8000;

    /// <summary>The connection with the most rows (the default of <c>--connection</c>).</summary>
    public static string BusiestConnection(IReadOnlyList<TcpTraceRow> rows)
        => rows.GroupBy(r => r.Connection, StringComparer.Ordinal).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).First().Key;

    public static Multiplot Build(IReadOnlyList<TcpTraceRow> all, string connection)
    {
        List<TcpTraceRow> rows = all.Where(r => r.Connection == connection).ToList();
        double t0 = rows[0].Time;
        double[] time = rows.Select(r => r.Time - t0).ToArray();

        // Sequence numbers relative to the first SND.UNA, unwrapped (RFC 9293 §3.4: arithmetic modulo 2^32).
        uint origin = rows[0].SndUna;
        double[] una = Unwrap(rows.Select(r => r.SndUna), origin);
        double[] nxt = Unwrap(rows.Select(r => r.SndNxt), origin);

        var multiplot = new Multiplot();
        multiplot.AddPlots(3);
        ScottPlot.Plot seq = multiplot.GetPlot(0);
        ScottPlot.Plot cwnd = multiplot.GetPlot(1);
        ScottPlot.Plot rtt = multiplot.GetPlot(2);

        seq.Title($"TCP {connection}");
        Line(seq, time, nxt, "snd_nxt (sent)", Colors.Blue);
        Line(seq, time, una, "snd_una (acknowledged)", Colors.Green);
        Points(seq, rows, time, una, "send", "segments sent", Colors.Blue.WithAlpha(0.5), 3);
        Points(seq, rows, time, una, "retransmit", "retransmissions", Colors.Red, 5);
        foreach (int i in Indexes(rows, r => r.Event == "rto"))
        {
            var line = seq.Add.VerticalLine(time[i], 1, Colors.Orange);
            line.LinePattern = LinePattern.Dashed;
        }

        foreach (int i in Indexes(rows, r => r.Event == "recovery_enter"))
        {
            var line = seq.Add.VerticalLine(time[i], 1, Colors.Purple.WithAlpha(0.5));
            line.LinePattern = LinePattern.Dotted;
        }

        seq.YLabel("sequence (bytes)");
        seq.ShowLegend(Alignment.UpperLeft);

        Line(cwnd, time, rows.Select(r => r.Cwnd / 1024).ToArray(), "cwnd", Colors.Blue);
        Line(cwnd, time, rows.Select(r => r.SsThresh / 1024).ToArray(), "ssthresh", Colors.Red);
        Line(cwnd, time, rows.Select(r => r.InFlight / 1024).ToArray(), "in flight", Colors.Green);
        cwnd.YLabel("KiB");
        cwnd.ShowLegend(Alignment.UpperLeft);

        Line(rtt, time, rows.Select(r => r.SrttMs).ToArray(), "srtt", Colors.Blue);
        Line(rtt, time, rows.Select(r => r.RttVarMs).ToArray(), "rttvar", Colors.Gray);
        // RTO (at least 200 ms) on its own axis, so that a LAN's SRTT of a few ms stays readable.
        ScottPlot.Plottables.Scatter? rto = Line(rtt, time, rows.Select(r => r.RtoMs).ToArray(), "rto (right axis)", Colors.Orange);
        if (rto is not null)
        {
            rto.Axes.YAxis = rtt.Axes.Right;
            rtt.Axes.Right.Label.Text = "rto ms";
        }

        rtt.YLabel("srtt, rttvar ms");
        rtt.XLabel($"seconds of virtual time from {t0:F6}");
        rtt.ShowLegend(Alignment.UpperLeft);

        foreach (ScottPlot.Plot p in multiplot.GetPlots())
        {
            p.Axes.AutoScale();
            p.Axes.Left.MinimumSize = 110;   // one left and right edge for all panels, so that their time axes line up
            p.Axes.Right.MinimumSize = 70;
        }

        multiplot.SharedAxes.ShareX(multiplot.GetPlots());
        return multiplot;
    }

    private static double[] Unwrap(IEnumerable<uint> values, uint origin)
    {
        var result = new List<double>();
        uint last = origin;
        long position = 0;
        foreach (uint v in values)
        {
            position += (int)(v - last);
            last = v;
            result.Add(position);
        }

        return [.. result];
    }

    private static IEnumerable<int> Indexes(List<TcpTraceRow> rows, Func<TcpTraceRow, bool> match)
    {
        for (int i = 0; i < rows.Count; i++)
        {
            if (match(rows[i]))
            {
                yield return i;
            }
        }
    }

    /// <summary>A step line through the finite values (a series with none is left out).</summary>
    private static ScottPlot.Plottables.Scatter? Line(ScottPlot.Plot plot, double[] x, double[] y, string label, Color color)
    {
        var xs = new List<double>();
        var ys = new List<double>();
        for (int i = 0; i < x.Length; i++)
        {
            if (double.IsFinite(y[i]))
            {
                xs.Add(x[i]);
                ys.Add(y[i]);
            }
        }

        if (xs.Count == 0)
        {
            return null;
        }

        (xs, ys) = Thin(xs, ys);
        var line = plot.Add.ScatterLine(xs.ToArray(), ys.ToArray(), color);
        line.ConnectStyle = ConnectStyle.StepHorizontal;
        line.LineWidth = 1.5f;
        line.LegendText = label;
        return line;
    }

    /// <summary>Segment starts of one event kind, in the same relative sequence space (at most <see cref="MaxLinePoints"/>).</summary>
    private static void Points(ScottPlot.Plot plot, List<TcpTraceRow> rows, double[] time, double[] una, string kind, string label, Color color, float size)
    {
        var xs = new List<double>();
        var ys = new List<double>();
        for (int i = 0; i < rows.Count; i++)
        {
            TcpTraceRow r = rows[i];
            if (r.Event == kind && double.IsFinite(r.Seq) && r.Seq >= 0 && r.Seq <= uint.MaxValue)
            {
                // Relative to SND.UNA at the time (a short distance), then placed on the unwrapped axis.
                xs.Add(time[i]);
                ys.Add(una[i] + (int)((uint)r.Seq - r.SndUna));
            }
        }

        if (xs.Count == 0)
        {
            return;
        }

        int step = Math.Max(1, xs.Count / MaxLinePoints);
        double[] px = xs.Where((_, i) => i % step == 0).ToArray();
        double[] py = ys.Where((_, i) => i % step == 0).ToArray();
        var points = plot.Add.ScatterPoints(px, py, color);
        points.MarkerSize = size;
        points.LegendText = label;
    }

    /// <summary>Above <see cref="MaxLinePoints"/>, keeps per bucket its first, lowest, highest and last points, so that a sawtooth keeps its teeth.</summary>
    private static (List<double>, List<double>) Thin(List<double> xs, List<double> ys)
    {
        if (xs.Count <= MaxLinePoints)
        {
            return (xs, ys);
        }

        int buckets = MaxLinePoints / 4;
        double x0 = xs[0];
        double span = Math.Max(xs[^1] - x0, 1e-12);
        var ox = new List<double>(MaxLinePoints);
        var oy = new List<double>(MaxLinePoints);
        int start = 0;
        while (start < xs.Count)
        {
            int bucket = Math.Min(buckets - 1, (int)((xs[start] - x0) / span * buckets));
            int end = start;
            int lo = start;
            int hi = start;
            while (end < xs.Count && Math.Min(buckets - 1, (int)((xs[end] - x0) / span * buckets)) == bucket)
            {
                if (ys[end] < ys[lo])
                {
                    lo = end;
                }

                if (ys[end] > ys[hi])
                {
                    hi = end;
                }

                end++;
            }

            foreach (int k in new SortedSet<int> { start, lo, hi, end - 1 })
            {
                ox.Add(xs[k]);
                oy.Add(ys[k]);
            }

            start = end;
        }

        return (ox, oy);
    }
}
