using System.Buffers.Binary;
using Emu.Stack.Ipv6;
using Emu.Stack.Wire;

namespace Emu.Tests.Stack;

/// <summary>
/// What a Linux-to-Linux capture holds, as a set of facts independent of timings, ports, ISNs and the order of
/// concurrent frames: the ICMPv6 messages each host sent and, for each TCP connection, who opened it to which port,
/// which sides sent data and whether both closed. A re-recording by Tests/scripts/record-linux-capture.sh has the
/// same facts as the committed capture.
/// </summary>
public static class CaptureSession
{
    /// <summary>The session Tests/captures/README.md describes (host B pings host A first).</summary>
    public static readonly string[] Expected =
    [
        "A MLDv2 report", "A DAD NS", "A RS",
        "B MLDv2 report", "B DAD NS", "B RS",
        "B NS", "A NA",
        "B echo request", "A echo reply", "B fragmented echo request", "A fragmented echo reply",
        "A echo request", "B echo reply",
        "TCP B->A:7 client-data server-data closed",
        "TCP B->A:80 client-data server-data closed",
        "TCP B->A:9 client-data closed",
        "TCP A->B:7 client-data server-data closed",
        "TCP A->B:9 client-data closed",
    ];

    public static SortedSet<string> Facts(List<(long TimeNs, byte[] Frame)> capture)
    {
        (byte[] macA, _) = CaptureReplayTests.Hosts(capture);
        string Name(byte[] frame) => CaptureReplayTests.From(frame, macA) ? "A" : "B";
        var facts = new SortedSet<string>(StringComparer.Ordinal);
        var connections = new Dictionary<string, Connection>();
        var firstFragments = new Dictionary<string, byte>();
        foreach ((_, byte[] f) in capture)
        {
            if (f.Length < 54 || BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(12)) != 0x86DD)
            {
                continue;
            }

            string host = Name(f);
            int icmp = f[20] == IpProto.Icmpv6 ? 54 : -1;
            if (f[20] == IpProto.HopByHop && f[54] == IpProto.Icmpv6)
            {
                icmp = 54 + ((f[55] + 1) * 8);   // MLD's Router Alert option comes first
            }

            if (icmp > 0 && icmp < f.Length)
            {
                bool unspecified = f.AsSpan(22, 16).IndexOfAnyExcept((byte)0) < 0;
                string? fact = f[icmp] switch
                {
                    143 => "MLDv2 report",
                    133 => "RS",
                    Ipv6Stack.IcmpNeighborSolicit => unspecified ? "DAD NS" : "NS",
                    Ipv6Stack.IcmpNeighborAdvert => "NA",
                    Ipv6Stack.IcmpEchoRequest => "echo request",
                    Ipv6Stack.IcmpEchoReply => "echo reply",
                    _ => null,
                };
                if (fact is not null)
                {
                    facts.Add($"{host} {fact}");
                }
            }
            else if (f[20] == IpProto.Fragment && f.Length > 62 && (BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(56)) & 0xFFF8) == 0 && f[54] == IpProto.Icmpv6)
            {
                string? fact = f[62] switch
                {
                    Ipv6Stack.IcmpEchoRequest => "fragmented echo request",
                    Ipv6Stack.IcmpEchoReply => "fragmented echo reply",
                    _ => null,
                };
                if (fact is not null)
                {
                    facts.Add($"{host} {fact}");
                }
            }
            else if (f[20] == IpProto.Tcp && f.Length >= 74)
            {
                ushort source = BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(54));
                ushort destination = BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(56));
                byte flags = f[54 + 13];
                int data = f.Length - 54 - ((f[54 + 12] >> 4) * 4);
                if (flags == 0x02)
                {
                    connections[$"{host}:{source}"] = new Connection(host, destination);
                    continue;
                }

                // A segment of a connection opened in the capture, from its client or its server.
                bool fromClient = connections.TryGetValue($"{host}:{source}", out Connection? c) && c.Server == destination;
                if (!fromClient && !(connections.TryGetValue($"{(host == "A" ? "B" : "A")}:{destination}", out c) && c.Server == source))
                {
                    continue;
                }

                c!.ClientData |= fromClient && data > 0;
                c.ServerData |= !fromClient && data > 0;
                c.ClientFin |= fromClient && (flags & 0x01) != 0;
                c.ServerFin |= !fromClient && (flags & 0x01) != 0;
            }
        }

        foreach (Connection c in connections.Values)
        {
            string peer = c.Client == "A" ? "B" : "A";
            facts.Add($"TCP {c.Client}->{peer}:{c.Server}{(c.ClientData ? " client-data" : string.Empty)}{(c.ServerData ? " server-data" : string.Empty)}{(c.ClientFin && c.ServerFin ? " closed" : string.Empty)}");
        }

        return facts;
    }

    private sealed class Connection(string client, ushort server)
    {
        public string Client { get; } = client;

        public ushort Server { get; } = server;

        public bool ClientData { get; set; }

        public bool ServerData { get; set; }

        public bool ClientFin { get; set; }

        public bool ServerFin { get; set; }
    }
}

public sealed class CaptureSessionTests
{
    [Fact]
    public void CommittedCaptureHoldsTheSessionTheRecordingScriptMakes()
    {
        SortedSet<string> facts = CaptureSession.Facts(CaptureReplayTests.ReadPcap(CaptureReplayTests.CapturePath()));
        Assert.Equal(string.Join('\n', CaptureSession.Expected.Order(StringComparer.Ordinal)), string.Join('\n', facts));
    }
}
