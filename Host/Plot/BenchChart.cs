using ScottPlot;

namespace Emu.Host.Plot;

/// <summary><c>emu bench ... --plot FILE</c>: the benchmark's main metric as one bar per row of its table.</summary>
public static class BenchChart
{
    public const int Width = 900;

    public const int Height = 500;

    public static void Save(string path, string title, string metric, IReadOnlyList<(string Label, double Value)> bars)
    {
        using var plot = new ScottPlot.Plot();
        var bar = plot.Add.Bars(bars.Select(b => b.Value).ToArray());
        for (int i = 0; i < bar.Bars.Count; i++)
        {
            bar.Bars[i].Label = FormattableString.Invariant($"{bars[i].Value:G4}");
            bar.Bars[i].FillColor = plot.Add.Palette.GetColor(i);
        }

        bar.ValueLabelStyle.FontSize = 14;
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, bars.Count).Select(i => (double)i).ToArray(), bars.Select(b => b.Label).ToArray());
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        plot.Axes.Margins(bottom: 0, top: 0.15);
        plot.Title(title);
        plot.YLabel(metric);
        plot.HideGrid();
        PlotImage.Save(plot, path, Width, Height);
    }
}
