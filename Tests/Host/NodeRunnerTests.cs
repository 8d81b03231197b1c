using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Emu.Emulator.Wire;
using Emu.Host;
using Emu.Stack.Wire;
using Emu.Tests.Stack;
using Microsoft.Extensions.Logging.Abstractions;

namespace Emu.Tests.Host;

/// <summary>
/// <c>emu run</c>'s node on a real socket netdev, with this test as the QEMU on the other end (the same framing): it
/// answers ping6 and UDP echo, and a peer that disconnects and reconnects finds it still running.
/// </summary>
public sealed class NodeRunnerTests
{
    private static readonly byte[] PeerMac = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
    private static readonly Ipv6Address PeerAddress = Ipv6Address.LinkLocalFromMac(PeerMac);
    private static readonly byte[] NodeMac = [0x52, 0x54, 0x00, 0x12, 0x34, 0x57];
    private static readonly Ipv6Address NodeAddress = Ipv6Address.LinkLocalFromMac(NodeMac);

    [Fact]
    public void AnswersPingAndUdpEchoAndSurvivesAReconnect()
    {
        int port = FreePort();
        var output = new StringWriter();
        var runner = new NodeRunner(TextWriter.Synchronized(output));
        Assert.True(NetdevSpec.TryParse($"socket,listen=127.0.0.1:{port}", out NetdevSpec? spec, out _));
        int exit = -1;
        var thread = new Thread(() => exit = runner.Run(Node.WithMac("52:54:00:12:34:57"), spec!, null, CaptureFormat.PcapNg, TimeSpan.FromMinutes(2), NullLoggerFactory.Instance, CancellationToken.None))
        {
            IsBackground = true,
        };
        thread.Start();
        Assert.True(runner.Started.Wait(TimeSpan.FromSeconds(30)));

        for (int round = 0; round < 2; round++)
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            NetworkStream stream = client.GetStream();
            using var frames = new System.Collections.Concurrent.BlockingCollection<byte[]>();
            var reader = new Thread(() =>
            {
                byte[] header = new byte[4];
                try
                {
                    while (true)
                    {
                        stream.ReadExactly(header);
                        byte[] frame = new byte[BinaryPrimitives.ReadUInt32BigEndian(header)];
                        stream.ReadExactly(frame);
                        frames.Add(frame);
                    }
                }
                catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
                {
                    // the connection closed
                }
            })
            {
                IsBackground = true,
            };
            reader.Start();

            // Until the node's link is up and its address ready: introduce ourselves (NS with our MAC), then ping.
            byte[]? reply = null;
            for (int attempt = 0; attempt < 40 && reply is null; attempt++)
            {
                Send(stream, Packets.NeighborSolicit(PeerAddress, NodeAddress.SolicitedNode, NodeAddress, PeerMac));
                Send(stream, Packets.EchoRequest(PeerAddress, NodeAddress, 0x99, (ushort)attempt, 1000));
                reply = ReceiveUntil(frames, p => p[6] == IpProto.Icmpv6 && p[40] == 129, TimeSpan.FromMilliseconds(500));
            }

            Assert.True(reply is not null, $"round {round}: no echo reply\n{output}");
            Assert.Equal(NodeAddress, Ipv6Address.Read(reply.AsSpan(8)));
            Assert.Equal(8 + 1000, reply.Length - 40);

            Send(stream, Packets.Udp(PeerAddress, NodeAddress, 4000, NodeRunner.EchoPort, Encoding.ASCII.GetBytes("echo me")));
            byte[]? echoed = ReceiveUntil(frames, p => p[6] == IpProto.Udp, TimeSpan.FromSeconds(5));
            Assert.NotNull(echoed);
            Assert.Equal("echo me", Encoding.ASCII.GetString(echoed.AsSpan(48)));
            Assert.Equal(4000, BinaryPrimitives.ReadUInt16BigEndian(echoed.AsSpan(42)));
        }

        runner.Stop();
        Assert.True(thread.Join(TimeSpan.FromSeconds(30)));
        Assert.Equal(0, exit);
        string text = output.ToString();
        Assert.Contains("NIC Link is Down", text);
        Assert.Contains("connections 2", text);
        Assert.Contains("Udp6InDatagrams 2", text);
    }

    private static void Send(NetworkStream stream, byte[] packet)
    {
        byte[] frame = new byte[4 + 14 + packet.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)(14 + packet.Length));
        Ipv6Address destination = Ipv6Address.Read(packet.AsSpan(24));
        if (destination.IsMulticast)
        {
            destination.MulticastMac(frame.AsSpan(4));
        }
        else
        {
            NodeMac.CopyTo(frame, 4);
        }

        PeerMac.CopyTo(frame, 10);
        frame[16] = 0x86;
        frame[17] = 0xDD;
        packet.CopyTo(frame, 18);
        stream.Write(frame);
    }

    /// <summary>Takes frames until an IPv6 packet matching <paramref name="match"/> arrives; null on timeout.</summary>
    private static byte[]? ReceiveUntil(System.Collections.Concurrent.BlockingCollection<byte[]> frames, Func<byte[], bool> match, TimeSpan timeout)
    {
        DateTime end = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < end)
        {
            TimeSpan left = end - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || !frames.TryTake(out byte[]? frame, left))
            {
                return null;
            }

            if (frame.Length > 54 && frame[12] == 0x86 && frame[13] == 0xDD && match(frame[14..]))
            {
                return frame[14..];
            }
        }

        return null;
    }

    private static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}
