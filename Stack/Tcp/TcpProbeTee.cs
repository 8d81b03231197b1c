namespace Emu.Stack.Tcp;

/// <summary>Two probes on one TCP layer (<see cref="TcpProbe.Combine"/>).</summary>
internal sealed class TcpProbeTee(TcpProbe first, TcpProbe second) : TcpProbe
{
    public override void OnEvent(TcpSocket socket, in TcpProbeEvent e)
    {
        first.OnEvent(socket, e);
        second.OnEvent(socket, e);
    }
}
