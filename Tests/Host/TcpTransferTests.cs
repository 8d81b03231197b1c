using System.Security.Cryptography;
using Emu.Emulator.Wire;
using Emu.Host;
using Emu.Host.Bench;
using Emu.Stack.Ipv6;
using Emu.Stack.Sockets;
using Emu.Stack.Tcp;
using Emu.Stack.Wire;

namespace Emu.Tests.Host;

/// <summary>TCP between two whole nodes (machine, e1000, driver, IPv6) on an in-process wire with seeded loss.</summary>
public sealed class TcpTransferTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void FiftyMegabytesArriveIntactThroughLoss(bool tso)
    {
        var pair = new NodePair(node => node.Netdev!.Carrier && node.Ipv6.Inet6(node.Netdev) is { LinkLocal.Usable: true });
        pair.Link.A.SetLoss(0.005, 11);
        pair.Link.B.SetLoss(0.005, 12);
        Node sender = pair.Sender;
        Node receiver = pair.Receiver;
        if (!tso)
        {
            sender.Netdev!.Features &= ~(Emu.Stack.Core.NetDeviceFeatures.Tso | Emu.Stack.Core.NetDeviceFeatures.Tso6);
        }

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

        const int total = 50 << 20;
        byte[] chunk = new byte[64 * 1024];
        var data = new Random(5);
        using var sent = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var got = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        int written = 0;
        int read = 0;
        int pendingOffset = chunk.Length;
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
        Assert.True(pair.Link.A.Lost + pair.Link.B.Lost > 0);
        Assert.True(sender.Ipv6.Snmp[Snmp6Counter.TcpRetransSegs] > 0);

        // With TSO the sender's e1000 segmented whole windows (TSCTC counts TSO contexts); without, none.
        ulong bar0 = sender.Adapter!.Pdev.Resource(0)!.Start;
        uint tsctc = (uint)sender.Machine.ReadMemory(bar0 + Emu.Emulator.E1000.E1000Reg.Tsctc, 4);
        Assert.Equal(tso, tsctc > 0);
    }
}
