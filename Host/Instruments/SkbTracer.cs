using System.Globalization;
using Emu.Emulator.Instruments;
using Emu.Stack.Core;

namespace Emu.Host.Instruments;

/// <summary><c>--trace skb</c>: the net core's tracepoints as trace lines, e.g. <c>SKB net_dev_queue eth0 len=86 proto=0x86dd</c>.</summary>
public sealed class SkbTracer(TraceWriter trace, string? node = null) : SkbProbe
{
    private readonly string _prefix = node is null ? "SKB " : $"SKB [{node}] ";

    public override void Event(string tracepoint, NetDevice? dev, int length, ushort protocol, string? detail)
        => trace.Write(string.Create(CultureInfo.InvariantCulture, $"{_prefix}{tracepoint} {dev?.Name ?? "-"} len={length} proto=0x{protocol:x4}{(detail is null ? string.Empty : " " + detail)}"));
}
