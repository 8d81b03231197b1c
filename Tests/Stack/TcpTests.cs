using Emu.Emulator.Machine;
using Emu.Stack.Ipv6;
using Emu.Stack.Sockets;
using Emu.Stack.Tcp;
using Emu.Stack.Wire;

namespace Emu.Tests.Stack;

/// <summary>TCP between two stacks on a fake wire, in virtual time: the API, transfers, closes, resets, loss.</summary>
public sealed class TcpTests
{
    internal static TcpSocket Tcp(StackNode node)
    {
        Assert.Equal(0, node.Ip.Sockets.Create(SockType.Stream, IpProto.Tcp, out Socket? s));
        return Assert.IsType<TcpSocket>(s);
    }

    internal static (StackNode A, StackNode B, TcpSocket Client, TcpSocket Server, EventScheduler Scheduler) Connected(int port = 5000)
    {
        var scheduler = new EventScheduler();
        (StackNode a, StackNode b) = StackNode.Pair(scheduler);
        TcpSocket listener = Tcp(b);
        Assert.Equal(0, listener.Bind(new Ipv6EndPoint(Ipv6Address.Unspecified, (ushort)port)));
        Assert.Equal(0, listener.Listen(16));
        TcpSocket client = Tcp(a);
        ValueTask<int> connect = client.ConnectAsync(new Ipv6EndPoint(b.LinkLocal, (ushort)port, a.Dev.IfIndex));
        scheduler.RunFor(10_000_000);
        Assert.True(connect.IsCompleted);
        Assert.Equal(0, connect.Result);
        Assert.True(listener.TryAccept(out TcpSocket? server));
        return (a, b, client, server!, scheduler);
    }

    [Fact]
    public void HandshakeNegotiatesLinuxOptions()
    {
        (StackNode a, StackNode b, TcpSocket client, TcpSocket server, _) = Connected();
        Assert.Equal(TcpState.Established, client.State);
        Assert.Equal(TcpState.Established, server.State);
        Assert.True(client.TimestampsEnabled && client.SackEnabled);
        Assert.Equal(7, client.ReceiveWindowScale);
        Assert.Equal(7, client.SendWindowScale);
        Assert.Equal(1440 - 12, client.SendMss);   // 1500 − 40 − 20, less the timestamp option
        Assert.Equal(1, a.Counter(Snmp6Counter.TcpActiveOpens));
        Assert.Equal(1, b.Counter(Snmp6Counter.TcpPassiveOpens));

        var syn = new StackNode.Packet(a.SentIpv6(p => p.UpperProtocol == IpProto.Tcp)[0]);
        Assert.Equal((byte)TcpFlags.Syn, syn.Upper[13]);
        Assert.True(TcpHeader.TryParse(syn.Upper, out TcpHeader h, out _));
        Assert.Equal(1440, h.Options.Mss);
        Assert.True(h.Options.SackPermitted && h.Options.HasTimestamp);
        Assert.Equal(7, h.Options.WindowScale);
        Assert.Equal(40, h.DataOffset);   // Linux's SYN: mss, sackOK, TS, nop, wscale
    }

    [Fact]
    public async Task DataBothWaysAndAnOrderlyClose()
    {
        (StackNode a, StackNode b, TcpSocket client, TcpSocket server, EventScheduler scheduler) = Connected();
        byte[] data = new byte[200_000];
        new Random(1).NextBytes(data);
        ValueTask<int> sent = client.SendAsync(data);
        var received = new List<byte>();
        byte[] buffer = new byte[65536];
        for (int i = 0; i < 1000 && received.Count < data.Length; i++)
        {
            scheduler.RunFor(1_000_000);
            int n;
            while ((n = server.Receive(buffer)) > 0)
            {
                received.AddRange(buffer.AsSpan(0, n).ToArray());
            }
        }

        Assert.True(sent.IsCompleted);
        Assert.Equal(data.Length, await sent);
        Assert.Equal(data, received.ToArray());

        Assert.Equal(5, server.Send("hello"u8));
        scheduler.RunFor(100_000_000);
        Assert.Equal(5, client.Receive(buffer));

        client.Dispose();
        scheduler.RunFor(100_000_000);
        Assert.Equal(0, server.Receive(buffer));   // EOF
        Assert.Equal(TcpState.CloseWait, server.State);
        server.Dispose();
        scheduler.RunFor(100_000_000);
        Assert.Equal(TcpState.Closed, server.State);
        Assert.Equal(TcpState.TimeWait, client.State);
        scheduler.RunFor(TcpSocket.TimeWaitNs);
        Assert.Equal(TcpState.Closed, client.State);
        Assert.Equal(0, a.Ip.Tcp.ConnectionCount);
        Assert.Equal(0, b.Ip.Tcp.ConnectionCount);
    }

    [Fact]
    public async Task ConnectToAClosedPortIsRefused()
    {
        var scheduler = new EventScheduler();
        (StackNode a, StackNode b) = StackNode.Pair(scheduler);
        TcpSocket client = Tcp(a);
        ValueTask<int> connect = client.ConnectAsync(new Ipv6EndPoint(b.LinkLocal, 9, a.Dev.IfIndex));
        scheduler.RunFor(10_000_000);
        Assert.True(connect.IsCompleted);
        Assert.Equal(-Errno.EConnRefused, await connect);
        Assert.Equal(1, b.Counter(Snmp6Counter.TcpOutRsts));
        Assert.Equal(1, a.Counter(Snmp6Counter.TcpAttemptFails));
    }

    [Fact]
    public void TransferSurvivesSeededLoss()
    {
        (StackNode a, StackNode b, TcpSocket client, TcpSocket server, EventScheduler scheduler) = Connected();
        var random = new Random(7);
        a.WireFilter = _ => random.NextDouble() >= 0.02;
        b.WireFilter = _ => random.NextDouble() >= 0.02;
        byte[] data = new byte[2_000_000];
        new Random(2).NextBytes(data);
        ValueTask<int> sent = client.SendAsync(data);
        byte[] received = new byte[data.Length];
        int have = 0;
        byte[] buffer = new byte[65536];
        for (int i = 0; i < 600_000 && have < data.Length; i++)
        {
            scheduler.RunFor(1_000_000);
            int n;
            while ((n = server.Receive(buffer)) > 0)
            {
                buffer.AsSpan(0, n).CopyTo(received.AsSpan(have));
                have += n;
            }
        }

        Assert.Equal(data.Length, have);
        Assert.Equal(data, received);
        Assert.True(a.Counter(Snmp6Counter.TcpRetransSegs) > 0);
        Assert.True(sent.IsCompleted);
    }
}

/// <summary>Listen queues, congestion control choice and socket errors.</summary>
public sealed class TcpQueueAndCongestionTests
{
    [Fact]
    public void FullAcceptQueueDropsTheSynUntilTheApplicationAccepts()
    {
        var scheduler = new EventScheduler();
        (StackNode a, StackNode b) = StackNode.Pair(scheduler);
        TcpSocket listener = TcpTests.Tcp(b);
        listener.Bind(new Ipv6EndPoint(Ipv6Address.Unspecified, 6000));
        listener.Listen(1);
        TcpSocket first = TcpTests.Tcp(a);
        TcpSocket second = TcpTests.Tcp(a);
        first.Connect(new Ipv6EndPoint(b.LinkLocal, 6000, a.Dev.IfIndex));
        scheduler.RunFor(10_000_000);
        second.Connect(new Ipv6EndPoint(b.LinkLocal, 6000, a.Dev.IfIndex));
        scheduler.RunFor(10_000_000);
        Assert.Equal(TcpState.Established, first.State);
        Assert.Equal(TcpState.SynSent, second.State);   // its SYN was dropped: the accept queue (backlog 1) is full
        Assert.Equal(1, b.Counter(Snmp6Counter.TcpExtListenOverflows));

        Assert.True(listener.TryAccept(out _));
        scheduler.RunFor(1_500_000_000);                 // the SYN's retransmission (RTO 1 s) finds room
        Assert.Equal(TcpState.Established, second.State);
        Assert.True(listener.TryAccept(out _));
    }

    [Fact]
    public void CubicAndRenoLeaveDifferentThresholdsAfterALoss()
    {
        (_, _, TcpSocket client, _, _) = TcpTests.Connected();
        client.Cwnd = (uint)(100 * client.SendMss);
        uint cubic = new Cubic().SsThresh(client, 0);
        Assert.Equal((uint)(70 * client.SendMss), cubic, (uint)client.SendMss);   // RFC 9438 β = 0.7
        client.CongestionControlName = "reno";
        Assert.Equal("reno", client.CongestionControlName);
        Assert.Throws<ArgumentException>(() => client.CongestionControlName = "bbr");
    }

    [Fact]
    public async Task SendAfterShutdownIsAnErrorAndReadAfterResetReportsIt()
    {
        (_, _, TcpSocket client, TcpSocket server, EventScheduler scheduler) = TcpTests.Connected();
        Assert.Equal(0, client.Shutdown(read: false, write: true));
        Assert.Equal(-Errno.EPipe, client.Send(new byte[10]));
        server.LingerZero = true;
        ValueTask<int> read = client.ReceiveAsync(new byte[100]);
        scheduler.RunFor(10_000_000);
        server.Dispose();
        scheduler.RunFor(10_000_000);
        Assert.True(read.IsCompleted);
        Assert.Equal(-Errno.EConnReset, await read);
    }
}
