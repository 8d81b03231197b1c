using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Emu.Host.Status;

/// <summary>
/// The live status on a terminal (issue 20): link, frames and bytes per second each way, drops by counter,
/// interrupts per second, ring occupancy, TCP connections by state and fault firings, from two successive
/// <see cref="CounterSnapshot"/>s (rates are per second of virtual time, which follows the wall clock in
/// <c>emu run</c> and <c>emu device</c>). Rendering is pure: any <see cref="IAnsiConsole"/> takes it.
/// </summary>
public static class LiveStatusView
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>
    /// Whether to show the view: never with <c>--quiet</c>, never when the terminal it would draw on is not one
    /// (redirected output), never when that stream already carries JSON lines or a capture.
    /// </summary>
    public static bool ShouldShow(bool quiet, bool outputRedirected, bool outputCarriesData) => !quiet && !outputRedirected && !outputCarriesData;

    public static void Render(IAnsiConsole console, string title, CounterSnapshot? previous, CounterSnapshot current)
        => console.Write(Build(title, previous, current));

    public static IRenderable Build(string title, CounterSnapshot? previous, CounterSnapshot current)
    {
        var grid = new Grid();
        grid.AddColumn(new GridColumn().NoWrap().PadRight(2));
        grid.AddColumn(new GridColumn());
        void Row(string name, string value) => grid.AddRow(new Text(name, new Style(decoration: Decoration.Bold)), new Text(value));

        double seconds = previous is null ? 0 : (current.VirtualNs - previous.VirtualNs) / 1e9;
        string Rate(string group, string name, Func<double, string> format)
            => seconds > 0 && previous is not null ? format((current.Get(group, name) - previous.Get(group, name)) / seconds) : "-";

        Row("link", LinkText(current));
        Row("frames/s", $"in {Rate(CounterSnapshot.Device, "rx_delivered", Count)}   out {Rate(CounterSnapshot.Device, "tx_sent", Count)}");
        Row("bytes/s", $"in {Rate(CounterSnapshot.Device, "rx_bytes", Bytes)}   out {Rate(CounterSnapshot.Device, "tx_bytes", Bytes)}");
        Row("interrupts/s", Rate(CounterSnapshot.Device, "interrupts", Count));
        Row("drops", DropsText(current));
        Row("rx ring", string.Create(C, $"{current.Get(CounterSnapshot.Rings, "rx_descriptors")} descriptors, {current.Get(CounterSnapshot.Rings, "rx_free_for_device")} free for the device (RDH {current.Get(CounterSnapshot.Rings, "RDH")}, RDT {current.Get(CounterSnapshot.Rings, "RDT")})"));
        Row("tx ring", string.Create(C, $"{current.Get(CounterSnapshot.Rings, "tx_descriptors")} descriptors, {current.Get(CounterSnapshot.Rings, "tx_queued")} queued (TDH {current.Get(CounterSnapshot.Rings, "TDH")}, TDT {current.Get(CounterSnapshot.Rings, "TDT")})"));
        Row("tcp", TcpText(current));
        Row("faults", FaultsText(current));
        return new Panel(grid)
        {
            Header = new PanelHeader(string.Create(C, $" {Markup.Escape(title)} · virtual {current.VirtualNs / 1e9:F1} s "), Justify.Left),
            Border = BoxBorder.Rounded,
        };
    }

    private static string LinkText(CounterSnapshot s)
    {
        if (s.Get(CounterSnapshot.Link, "up") == 0)
        {
            return s.Get(CounterSnapshot.Link, "carrier") == 0 ? "down (no carrier)" : "down";
        }

        return string.Create(C, $"up, {s.Get(CounterSnapshot.Link, "speed_mbps")} Mb/s {(s.Get(CounterSnapshot.Link, "full_duplex") != 0 ? "full" : "half")} duplex");
    }

    private static string DropsText(CounterSnapshot s)
    {
        var parts = new List<string>();
        void Add(string group, string? prefix = null)
        {
            if (s[group] is not { } g)
            {
                return;
            }

            foreach (KeyValuePair<string, long> counter in g.Counters)
            {
                if (counter.Value != 0 && (group != CounterSnapshot.Netdev || counter.Key.StartsWith("dropped", StringComparison.Ordinal)))
                {
                    parts.Add(string.Create(C, $"{prefix}{counter.Key} {counter.Value}"));
                }
            }
        }

        Add(CounterSnapshot.Drops);
        Add(CounterSnapshot.Netdev, "netdev ");
        if (s[CounterSnapshot.NetDevice] is { } dev)
        {
            foreach (string name in (string[])["rx_dropped", "tx_dropped"])
            {
                if (dev[name] != 0)
                {
                    parts.Add(string.Create(C, $"{name} {dev[name]}"));
                }
            }
        }

        return parts.Count == 0 ? "none" : string.Join(", ", parts);
    }

    private static string TcpText(CounterSnapshot s)
    {
        if (s[CounterSnapshot.Tcp] is not { } tcp)
        {
            return "(no stack)";
        }

        var parts = tcp.Counters.Where(c => c.Key != "sockets" && c.Value != 0).Select(c => string.Create(C, $"{c.Value} {c.Key}")).ToList();
        return parts.Count == 0 ? "no connections" : string.Join(", ", parts);
    }

    private static string FaultsText(CounterSnapshot s)
    {
        CounterGroup? faults = s[CounterSnapshot.Faults];
        long armed = faults?["armed"] ?? 0;
        long fired = faults?["fired"] ?? 0;
        string detail = faults is null ? string.Empty : string.Join(", ", faults.Counters.Skip(2).Where(c => c.Value != 0).Select(c => string.Create(C, $"{c.Key} {c.Value}")));
        string head = string.Create(C, $"{fired} fired ({(armed == 0 ? "none armed" : armed.ToString(C) + " armed")})");
        return detail.Length == 0 ? head : head + ": " + detail;
    }

    private static string Count(double perSecond) => perSecond.ToString("N0", C);

    private static string Bytes(double perSecond) => perSecond switch
    {
        >= 1e9 => (perSecond / 1e9).ToString("F2", C) + " GB/s",
        >= 1e6 => (perSecond / 1e6).ToString("F2", C) + " MB/s",
        >= 1e3 => (perSecond / 1e3).ToString("F1", C) + " kB/s",
        _ => perSecond.ToString("F0", C) + " B/s",
    };
}
