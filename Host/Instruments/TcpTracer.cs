using System.Globalization;
using Emu.Emulator.Instruments;
using Emu.Stack.Tcp;

namespace Emu.Host.Instruments;

/// <summary>
/// <c>--trace tcp</c>: the connection's life and its congestion events as trace lines (state changes, retransmissions,
/// RTOs, loss recovery), with the variables <c>ss -i</c> shows; every segment is in <c>--tcp-trace</c>'s CSV instead.
/// </summary>
public sealed class TcpTracer(TraceWriter trace, string? node = null) : TcpProbe
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;
    private readonly string _prefix = node is null ? "TCP " : $"TCP [{node}] ";

    public override void OnEvent(TcpSocket socket, in TcpProbeEvent e)
    {
        string? what = e.Kind switch
        {
            TcpProbeKind.StateChange => $"{TcpTraceCsv.StateName(e.PreviousState)} -> {TcpTraceCsv.StateName(socket.State)}",
            TcpProbeKind.Retransmit => string.Create(C, $"retransmit seq={e.Seq} len={e.Length}{Reason(e.Reason)}"),
            TcpProbeKind.RetransmitTimeout => string.Create(C, $"RTO expired (backoff {socket.Backoff}, next RTO {socket.BackedOffRtoNs / 1e6:F0} ms)"),
            TcpProbeKind.RecoveryEnter => $"loss recovery begins{Reason(e.Reason)}",
            TcpProbeKind.RecoveryExit => $"loss recovery ends{Reason(e.Reason)}",
            _ => null,
        };
        if (what is null)
        {
            return;
        }

        string ssthresh = socket.SsThreshold == uint.MaxValue ? "inf" : socket.SsThreshold.ToString(C);
        trace.Write(string.Create(C, $"{_prefix}[{socket.Local.Address}]:{socket.Local.Port}-[{socket.Remote.Address}]:{socket.Remote.Port} {what}  (snd_una {socket.SendUnacknowledged} snd_nxt {socket.SendNext} cwnd {socket.Cwnd} ssthresh {ssthresh} srtt {socket.SmoothedRttNs / 1e6:F1} ms in_flight {socket.InFlight})"));
    }

    private static string Reason(string reason) => reason.Length == 0 ? string.Empty : $" ({reason})";
}
