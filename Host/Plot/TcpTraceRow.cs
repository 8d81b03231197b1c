namespace Emu.Host.Plot;

/// <summary>One row of a <c>--tcp-trace</c> CSV as <c>emu plot tcp</c> uses it; NaN where a column is empty or absent.</summary>
public sealed record TcpTraceRow
{
    public double Time { get; init; }

    public required string Connection { get; init; }

    public required string Event { get; init; }

    public string Reason { get; init; } = string.Empty;

    public string State { get; init; } = string.Empty;

    /// <summary>The segment's sequence number and length (send, retransmit, receive rows); NaN otherwise.</summary>
    public double Seq { get; init; } = double.NaN;

    public double Length { get; init; } = double.NaN;

    public uint SndUna { get; init; }

    public uint SndNxt { get; init; }

    public double Cwnd { get; init; }

    public double SsThresh { get; init; } = double.NaN;

    public double SrttMs { get; init; } = double.NaN;

    public double RttVarMs { get; init; } = double.NaN;

    public double RtoMs { get; init; } = double.NaN;

    public double InFlight { get; init; } = double.NaN;

    public double Retransmits { get; init; } = double.NaN;

    public double Rwnd { get; init; } = double.NaN;
}
