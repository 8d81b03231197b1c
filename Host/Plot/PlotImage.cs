using ScottPlot;
using SkiaSharp;

namespace Emu.Host.Plot;

/// <summary>Writes a plot or a stack of plots as SVG or PNG, chosen by the output file's extension.</summary>
public static class PlotImage
{
    public const int MaxPixels = 20_000;

    /// <summary>Checks the output path and size before any work; false with a one-line reason.</summary>
    public static bool TryCheck(string path, int width, int height, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        error = null;
        string ext = Path.GetExtension(path).ToLowerInvariant();
        if (ext is not (".svg" or ".png"))
        {
            error = $"{path}: the output must end in .svg or .png";
            return false;
        }

        if (width is < 100 or > MaxPixels || height is < 100 or > MaxPixels)
        {
            error = $"--width and --height take 100 to {MaxPixels} pixels";
            return false;
        }

        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null && !Directory.Exists(directory))
        {
            error = $"{path}: no such directory";
            return false;
        }

        return true;
    }

    public static void Save(Multiplot plots, string path, int width, int height)
    {
        if (IsSvg(path))
        {
            // As Plot.SaveSvg does it: Skia's SVG canvas, closed before the file so that it ends the document.
            using var file = new FileStream(path, FileMode.Create, FileAccess.Write);
            using var stream = new SKManagedWStream(file);
            using (SKCanvas canvas = SKSvgCanvas.Create(new SKRect(0, 0, width, height), stream))
            {
                plots.Render(canvas, new PixelRect(0, width, height, 0));
            }
        }
        else
        {
            plots.SavePng(path, width, height);
        }
    }

    public static void Save(ScottPlot.Plot plot, string path, int width, int height)
    {
        if (IsSvg(path))
        {
            plot.SaveSvg(path, width, height);
        }
        else
        {
            plot.SavePng(path, width, height);
        }
    }

    private static bool IsSvg(string path) => Path.GetExtension(path).Equals(".svg", StringComparison.OrdinalIgnoreCase);
}
