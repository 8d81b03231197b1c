using System.Security.Cryptography;
using Emu.Emulator.Faults;
using Emu.Host;
using Emu.Host.Bench;
using Emu.Stack.Ipv6;
using Emu.Stack.Sockets;
using Emu.Stack.Tcp;
using Emu.Stack.Wire;

namespace Emu.Tests.Faults;

/// <summary>20 MB of TCP between two whole in-process nodes arrives intact through the wire kinds the issue names.</summary>
public sealed class WireFaultTcpTests
{
    [Theory]
    [InlineData("loss-ge,p=0.002,r=0.5")]
    [InlineData("reorder,gap=5,time=2ms")]
    [InlineData("duplicate,prob=0.05")]
    public void TwentyMegabytesArriveIntact(string spec)
    {
        var pair = new NodePair(node => node.Netdev!.Carrier && node.Ipv6.Inet6(node.Netdev) is { LinkLocal.Usable: true });
        Assert.True(FaultPlan.TryCreate(21, [spec], null, out FaultPlan? plan, out string? error), error);
        FaultInjector.Attach(pair.Sender.Machine.Nic, plan);   // dir=both: the data on tx, the ACKs on rx
        Node sender = pair.Sender;
        Node receiver = pair.Receiver;

        receiver.Ipv6.Sockets.Create(SockType.Stream, IpProto.Tcp, out Socket? l);
        var listener = (TcpSocket)l!;
        Assert.Equal(0, listener.Bind(new Ipv6EndPoint(Ipv6Address.Unspecified, 5001)));
        Assert.Equal(0, listener.Listen(4));
        sender.Ipv6.Sockets.Create(SockType.Stream, IpProto.Tcp, out Socket? c);
        var client = (TcpSocket)c!;
        Ipv6Address destination = Ipv6Address.LinkLocalFromMac(receiver.Netdev!.DevAddr);
        Assert.Equal(-Errno.EInProgress, client.Connect(new Ipv6EndPoint(destination, 5001, sender.Netdev!.IfIndex)));
        TcpSocket? server = null;
        Assert.True(pair.Scheduler.RunUntil(() => listener.TryAccept(out server), 10_000_000_000));

        const int total = 20 << 20;
        byte[] chunk = new byte[64 * 1024];
        var data = new Random(5);
        using var sent = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var got = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        int written = 0, read = 0, pendingOffset = chunk.Length;
        byte[] buffer = new byte[256 * 1024];
        long deadline = pair.Scheduler.Now + 600_000_000_000;
        while (read < total && pair.Scheduler.Now < deadline)
        {
            while (written < total)
            {
                if (pendingOffset == chunk.Length)
                {
                    data.NextBytes(chunk);
                    sent.AppendData(chunk);
                    pendingOffset = 0;
                }

                int n = client.Send(chunk.AsSpan(pendingOffset, Math.Min(chunk.Length - pendingOffset, total - written)));
                if (n <= 0)
                {
                    break;
                }

                pendingOffset += n;
                written += n;
            }

            pair.Scheduler.RunFor(200_000);
            int r;
            while ((r = server!.Receive(buffer)) > 0)
            {
                got.AppendData(buffer.AsSpan(0, r));
                read += r;
            }
        }

        Assert.Equal(total, read);
        Assert.Equal(sent.GetHashAndReset(), got.GetHashAndReset());
        Assert.True(plan.Faults[0].Fired > 0);
    }
}
