using System.Net;
using System.Net.Sockets;

namespace Emu.Emulator.Wire;

/// <summary>An inet (host, port) or unix (path) socket address from a netdev spec.</summary>
public sealed record NetdevEndpoint(string? Host, int Port, string? UnixPath)
{
    public bool IsUnix => UnixPath is not null;

    public EndPoint ToEndPoint()
    {
        if (UnixPath is not null)
        {
            return new UnixDomainSocketEndPoint(UnixPath);
        }

        // Unlike QEMU (INADDR_ANY for an empty host), an empty host means loopback: Emu never listens beyond this machine unasked.
        string host = string.IsNullOrEmpty(Host) ? "127.0.0.1" : Host;
        if (IPAddress.TryParse(host, out IPAddress? address))
        {
            return new IPEndPoint(address, Port);
        }

        return host == "localhost" ? new IPEndPoint(IPAddress.Loopback, Port) : new DnsEndPoint(host, Port);
    }

    public override string ToString() => UnixPath is not null ? $"unix:{UnixPath}" : $"{(string.IsNullOrEmpty(Host) ? "127.0.0.1" : Host)}:{Port}";
}
