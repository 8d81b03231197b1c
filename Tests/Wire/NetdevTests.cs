using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Emu.Emulator.Wire;

namespace Emu.Tests.Wire;

/// <summary>The socket backends, against a peer written here, on loopback.</summary>
public sealed class NetdevTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);

    private sealed class Recorder : IFrameSink
    {
        public List<byte[]> Frames { get; } = [];

        public void ReceiveFrame(ReadOnlySpan<byte> frame) => Frames.Add(frame.ToArray());
    }

    /// <summary>Runs loop items until the condition holds (on this thread, as the node would).</summary>
    private static void Pump(NodeLoop loop, Netdev netdev, Func<bool> condition, List<bool>? carrier = null)
    {
        DateTime deadline = DateTime.UtcNow + s_timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for the netdev");
            if (loop.TryTake(TimeSpan.FromMilliseconds(50), out LoopItem item))
            {
                netdev.Deliver(item);
            }
        }
    }

    private static byte[] Frame(int length, byte fill)
    {
        byte[] f = new byte[length];
        f.AsSpan().Fill(fill);
        return f;
    }

    [Fact]
    public void StreamServerCarriesFramesBothWaysAndAcceptsTheNextPeer()
    {
        using var loop = new NodeLoop();
        Assert.True(NetdevSpec.TryParse("socket,listen=127.0.0.1:0", out NetdevSpec? spec, out _));
        using var netdev = (StreamNetdev)Netdev.Start(spec, loop);
        var recorder = new Recorder();
        var carrier = new List<bool>();
        netdev.Port = recorder;
        netdev.CarrierChanged = carrier.Add;
        var endpoint = (IPEndPoint)netdev.ListeningOn!;

        for (int round = 0; round < 2; round++)
        {
            using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            client.Connect(endpoint);
            // Two frames in one write, the second split across writes: framing must not care.
            byte[] a = Frame(60, 0xAA);
            byte[] b = Frame(1514, 0xBB);
            byte[] wire = new byte[4 + a.Length + 4 + b.Length];
            BinaryPrimitives.WriteUInt32BigEndian(wire, (uint)a.Length);
            a.CopyTo(wire, 4);
            BinaryPrimitives.WriteUInt32BigEndian(wire.AsSpan(4 + a.Length), (uint)b.Length);
            b.CopyTo(wire, 8 + a.Length);
            client.Send(wire.AsSpan(0, 100));
            client.Send(wire.AsSpan(100));
            Pump(loop, netdev, () => recorder.Frames.Count == 2 * (round + 1));
            Assert.Equal(a, recorder.Frames[^2]);
            Assert.Equal(b, recorder.Frames[^1]);

            netdev.ReceiveFrame(Frame(70, 0xCC));
            byte[] header = new byte[4];
            client.ReceiveTimeout = 10_000;
            Assert.Equal(4, client.Receive(header));
            Assert.Equal(70u, BinaryPrimitives.ReadUInt32BigEndian(header));
            client.Shutdown(SocketShutdown.Both);
        }

        Pump(loop, netdev, () => carrier.Count >= 4);
        Assert.Equal([true, false, true, false], carrier);
        Assert.Equal(2, netdev.Counters.Connections);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(69_633u)]
    public void BadLengthClosesTheConnectionAndTheNodeCarriesOn(uint length)
    {
        using var loop = new NodeLoop();
        Assert.True(NetdevSpec.TryParse("socket,listen=127.0.0.1:0", out NetdevSpec? spec, out _));
        using var netdev = (StreamNetdev)Netdev.Start(spec, loop);
        var carrier = new List<bool>();
        netdev.CarrierChanged = carrier.Add;
        using (var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            client.Connect(netdev.ListeningOn!);
            byte[] header = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(header, length);
            client.Send(header);
            Pump(loop, netdev, () => carrier.Count == 2);
        }

        Assert.Equal(1, netdev.Counters.BadLengthClosures);

        // The listener takes the next peer.
        var recorder = new Recorder();
        netdev.Port = recorder;
        using var next = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        next.Connect(netdev.ListeningOn!);
        byte[] frame = new byte[4 + 64];
        BinaryPrimitives.WriteUInt32BigEndian(frame, 64);
        next.Send(frame);
        Pump(loop, netdev, () => recorder.Frames.Count == 1);
    }

    [Fact]
    public void StreamClientOverUnixSocketReconnects()
    {
        string dir = Directory.CreateTempSubdirectory("emu-netdev-").FullName;
        string path = Path.Combine(dir, "s");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        using var loop = new NodeLoop();
        Assert.True(NetdevSpec.TryParse($"stream,server=off,addr.type=unix,addr.path={path},reconnect-ms=50", out NetdevSpec? spec, out _));
        using var netdev = (StreamNetdev)Netdev.Start(spec, loop);
        var carrier = new List<bool>();
        netdev.CarrierChanged = carrier.Add;
        using (Socket first = listener.Accept())
        {
            Pump(loop, netdev, () => carrier.Count == 1);
        }

        using Socket second = listener.Accept();
        Pump(loop, netdev, () => carrier.Count == 3);
        Assert.Equal([true, false, true], carrier);
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public void DatagramsCarryOneFrameEach()
    {
        using var peer = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        peer.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        int peerPort = ((IPEndPoint)peer.LocalEndPoint!).Port;
        using var loop = new NodeLoop();
        Assert.True(NetdevSpec.TryParse($"dgram,local.type=inet,local.host=127.0.0.1,local.port=0,remote.type=inet,remote.host=127.0.0.1,remote.port={peerPort}", out NetdevSpec? spec, out _));
        using var netdev = (DatagramNetdev)Netdev.Start(spec, loop);
        var recorder = new Recorder();
        netdev.Port = recorder;

        peer.SendTo(Frame(60, 1), netdev.LocalEndPoint!);
        peer.SendTo([], netdev.LocalEndPoint!);
        peer.SendTo(Frame(1514, 2), netdev.LocalEndPoint!);
        Pump(loop, netdev, () => recorder.Frames.Count == 2);
        Assert.Equal(1514, recorder.Frames[1].Length);

        netdev.ReceiveFrame(Frame(42, 3));
        byte[] buffer = new byte[2000];
        peer.ReceiveTimeout = 10_000;
        Assert.Equal(42, peer.Receive(buffer));
        Assert.Equal(1, netdev.Counters.EmptyDatagrams);
    }

    [Fact]
    public void SendingWithoutAPeerIsCounted()
    {
        using var loop = new NodeLoop();
        Assert.True(NetdevSpec.TryParse("socket,listen=127.0.0.1:0", out NetdevSpec? spec, out _));
        using Netdev netdev = Netdev.Start(spec, loop);
        netdev.ReceiveFrame(Frame(60, 0));
        Assert.Equal(1, netdev.Counters.DroppedNotConnected);
    }

    [Fact]
    public void PeerThatNeverReadsDoesNotBlockTheLoopAndWhatTheQueueDropsIsCounted()
    {
        // Issue 19 case 4: a peer (a paused QEMU) that stops reading. The loop thread (this one) must never wait in a
        // send: frames queue up to the bound, the rest are counted, and every frame is accounted for.
        using var loop = new NodeLoop();
        Assert.True(NetdevSpec.TryParse("socket,listen=127.0.0.1:0", out NetdevSpec? spec, out _));
        using var netdev = (StreamNetdev)Netdev.Start(spec, loop);
        var carrier = new List<bool>();
        netdev.CarrierChanged = carrier.Add;
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.ReceiveBufferSize = 4096;
        client.Connect((IPEndPoint)netdev.ListeningOn!);
        Pump(loop, netdev, () => carrier.Count == 1);

        const int Frames = 30_000;
        byte[] frame = Frame(1500, 0x5A);
        var sending = new Thread(() =>
        {
            for (int i = 0; i < Frames; i++)
            {
                netdev.ReceiveFrame(frame);
            }
        });
        sending.Start();
        Assert.True(sending.Join(s_timeout), "the loop blocked in a send to a peer that does not read");
        Assert.True(netdev.Counters.DroppedSendQueueFull > 0);
        Assert.True(netdev.SendQueued <= StreamNetdev.SendQueueLimit);

        // The peer goes away: what was queued fails and is counted; nothing is lost uncounted.
        client.Close();
        Pump(loop, netdev, () => netdev.SendQueued == 0 && netdev.Counters.FramesOut + netdev.Counters.DroppedSendQueueFull
            + netdev.Counters.DroppedSendError + netdev.Counters.DroppedNotConnected == Frames);
    }

    [Fact]
    public void PeerThatSendsFasterThanTheNodeTakesIsBackPressured()
    {
        // While the loop takes nothing, the reader stops after InboundLimit frames and the peer's socket fills:
        // the inbox stays bounded, and once the loop runs again every frame arrives, in order.
        using var loop = new NodeLoop();
        Assert.True(NetdevSpec.TryParse("socket,listen=127.0.0.1:0", out NetdevSpec? spec, out _));
        using var netdev = (StreamNetdev)Netdev.Start(spec, loop);
        var recorder = new Recorder();
        var carrier = new List<bool>();
        netdev.Port = recorder;
        netdev.CarrierChanged = carrier.Add;
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect((IPEndPoint)netdev.ListeningOn!);
        Pump(loop, netdev, () => carrier.Count == 1);

        const int Limit = 30_000;
        client.Blocking = false;
        int started = 0;
        byte[] wire = new byte[4 + 1500];
        int pendingOffset = 0;
        for (; started < Limit; started++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(wire, 1500);
            BinaryPrimitives.WriteInt32BigEndian(wire.AsSpan(4), started);
            int sent = client.Send(wire, 0, wire.Length, SocketFlags.None, out SocketError error);
            if (error == SocketError.WouldBlock || sent < wire.Length)
            {
                pendingOffset = Math.Max(sent, 0);
                break;
            }
        }

        Assert.True(started < Limit, "the peer was never back-pressured");
        Assert.True(netdev.InboundPending <= Netdev.InboundLimit);
        Assert.True(netdev.Counters.FramesIn <= started);

        // Finish the frame that was cut, then let the node run: every frame the peer started arrives, in order.
        client.Blocking = true;
        var rest = new Thread(() => client.Send(wire, pendingOffset, wire.Length - pendingOffset, SocketFlags.None));
        rest.Start();
        Pump(loop, netdev, () => recorder.Frames.Count == started + 1);
        Assert.True(rest.Join(s_timeout));
        for (int i = 0; i <= started; i++)
        {
            Assert.Equal(i, BinaryPrimitives.ReadInt32BigEndian(recorder.Frames[i]));
        }
    }
}
