using System.Globalization;
using Emu.Stack.Ipv6;
using Emu.Stack.Sockets;
using Emu.Stack.Wire;

namespace Emu.Host.Services;

/// <summary>What a node serves in `emu run` and `emu device`: UDP echo on 7, TCP echo 7, discard 9, chargen 19, HTTP 80.</summary>
public sealed class NodeServices : IDisposable
{
    public const ushort EchoPort = 7;

    private readonly DatagramSocket _udpEcho;

    private NodeServices(DatagramSocket udpEcho, IReadOnlyList<TcpService> tcp)
    {
        _udpEcho = udpEcho;
        Tcp = tcp;
    }

    public IReadOnlyList<TcpService> Tcp { get; }

    /// <summary>Starts them all on <paramref name="stack"/>; a port already taken is reported through <paramref name="say"/>.</summary>
    public static NodeServices Start(Ipv6Stack stack, DirectoryInfo? www, Action<string> say)
    {
        stack.Sockets.Create(SockType.Dgram, IpProto.Udp, out Socket? created);
        var udp = (DatagramSocket)created!;
        udp.Bind(new Ipv6EndPoint(Ipv6Address.Unspecified, EchoPort));
        byte[] buffer = new byte[65536];
        udp.DataReady = s =>
        {
            while (s.TryReceiveFrom(buffer, out ReceiveResult r))
            {
                s.SendTo(buffer.AsSpan(0, r.Length), r.From);
            }
        };
        TcpService[] tcp = [new EchoService(), new DiscardService(), new ChargenService(), new HttpService(www)];
        ushort[] ports = [7, 9, 19, 80];
        for (int i = 0; i < tcp.Length; i++)
        {
            if (!tcp[i].Start(stack, ports[i]))
            {
                say($"TCP port {ports[i]} ({tcp[i].Name}) is taken; not served");
            }
        }

        return new NodeServices(udp, tcp);
    }

    public string Summary => string.Join(", ", Tcp.Select(x => string.Create(CultureInfo.InvariantCulture, $"{x.Name} {x.ConnectionsServed} connections")));

    public void Dispose()
    {
        _udpEcho.Dispose();
        foreach (TcpService s in Tcp)
        {
            s.Dispose();
        }
    }
}
