namespace Emu.Stack.Tcp;

/// <summary>
/// The one place TCP reports what it does (issue 20), as Linux's tcp_probe and tcp_* tracepoints do: set on
/// <see cref="Tcp6.Probe"/>, null when nothing listens, so that the packet path pays a null check and nothing else.
/// An implementation reads the connection's variables from the socket it is given (they are current: each event is
/// reported after the socket's variables have taken it in) and must not call back into the socket's API.
/// </summary>
public abstract class TcpProbe
{
    /// <summary>One event on <paramref name="socket"/>; runs on the node's event loop.</summary>
    public abstract void OnEvent(TcpSocket socket, in TcpProbeEvent e);

    /// <summary>A probe that tells both (either may be null); for a CSV file and a text trace at once.</summary>
    public static TcpProbe? Combine(TcpProbe? first, TcpProbe? second)
        => first is null ? second : second is null ? first : new TcpProbeTee(first, second);
}
