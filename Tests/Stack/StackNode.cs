using System.Buffers.Binary;
using Emu.Driver.Kernel;
using Emu.Emulator.Machine;
using Emu.Stack.Core;
using Emu.Stack.Ipv6;
using Emu.Stack.Wire;

namespace Emu.Tests.Stack;

/// <summary>
/// One IPv6 node for stack tests: a net core, an Ethernet device whose driver hands every frame to the test (and,
/// when joined, to a peer node one microsecond later), and the stack. Frames can be injected as if received.
/// All nodes of a test share one virtual clock.
/// </summary>
public sealed class StackNode
{
    private readonly WireOps _ops;

    public StackNode(EventScheduler scheduler, byte lastMacByte, int seed = 1)
        : this(scheduler, [0x52, 0x54, 0x00, 0x12, 0x34, lastMacByte], seed)
    {
    }

    public StackNode(EventScheduler scheduler, byte[] mac, int seed = 1)
    {
        Scheduler = scheduler;
        Core = new NetCore(new SchedulerClock(scheduler));
        Core.KernelMessage = Log.Add;
        _ops = new WireOps(this);
        Dev = NetDevice.AllocEtherdev(null);
        Dev.Ops = _ops;
        Mac = mac;
        Mac.CopyTo(Dev.DevAddr, 0);
        Ip = new Ipv6Stack(Core, seed: seed) { KernelMessage = Log.Add };
        Assert.Equal(0, Core.RegisterNetdev(Dev));
    }

    public EventScheduler Scheduler { get; }

    public NetCore Core { get; }

    public NetDevice Dev { get; }

    public Ipv6Stack Ip { get; }

    public byte[] Mac { get; }

    public List<string> Log { get; } = [];

    /// <summary>Every frame this node transmitted, in order.</summary>
    public List<byte[]> Sent { get; } = [];

    public StackNode? Peer { get; set; }

    /// <summary>Frames for which this returns false are lost on the way to the peer (still recorded in Sent).</summary>
    public Func<byte[], bool> WireFilter { get; set; } = _ => true;

    public Inet6Dev Idev => Ip.Inet6(Dev) ?? throw new InvalidOperationException("no inet6_dev: the device is not up");

    public Ipv6Address LinkLocal => Ipv6Address.LinkLocalFromMac(Mac);

    /// <summary>Brings the device up with carrier, as the driver's watchdog would.</summary>
    public void Up()
    {
        Assert.Equal(0, Core.DevOpen(Dev));
        Core.NetifCarrierOn(Dev);
    }

    /// <summary>Two nodes on one wire, both up; runs until DAD has finished on both.</summary>
    public static (StackNode A, StackNode B) Pair(EventScheduler scheduler)
    {
        var a = new StackNode(scheduler, 0x01, seed: 1);
        var b = new StackNode(scheduler, 0x02, seed: 2);
        a.Peer = b;
        b.Peer = a;
        a.Up();
        b.Up();
        scheduler.RunFor(3_000_000_000);
        Assert.True(a.Idev.LinkLocal!.Usable);
        Assert.True(b.Idev.LinkLocal!.Usable);
        return (a, b);
    }

    /// <summary>Delivers a frame (without FCS) as if the wire brought it.</summary>
    public void Inject(ReadOnlySpan<byte> frame)
    {
        SkBuff skb = SkBuff.NetdevAlloc(Dev, frame.Length);
        frame.CopyTo(skb.Put(frame.Length));
        skb.Protocol = NetCore.EthTypeTrans(skb, Dev);
        Core.NetifRx(skb);
    }

    /// <summary>An Ethernet frame carrying <paramref name="packet"/> to this node (or to its group's MAC) from a peer.</summary>
    public byte[] FrameFromPeer(ReadOnlySpan<byte> packet, byte[]? sourceMac = null)
    {
        byte[] frame = new byte[14 + packet.Length];
        Ipv6Address destination = packet.Length >= 40 ? Ipv6Address.Read(packet[24..]) : default;
        if (destination.IsMulticast)
        {
            destination.MulticastMac(frame);
        }
        else
        {
            Mac.CopyTo(frame, 0);
        }

        (sourceMac ?? [0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc]).CopyTo(frame, 6);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), Ipv6Stack.EthPIpv6);
        packet.CopyTo(frame.AsSpan(14));
        return frame;
    }

    /// <summary>Injects an IPv6 packet as the peer sent it and lets the node process it.</summary>
    public void InjectIpv6(ReadOnlySpan<byte> packet, byte[]? sourceMac = null)
    {
        Inject(FrameFromPeer(packet, sourceMac));
        Scheduler.RunFor(1_000);
    }

    /// <summary>The IPv6 packets this node sent (Ethernet header removed) that match <paramref name="filter"/>.</summary>
    public List<byte[]> SentIpv6(Func<Packet, bool>? filter = null)
    {
        var list = new List<byte[]>();
        foreach (byte[] frame in Sent)
        {
            if (frame.Length >= 54 && BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(12)) == Ipv6Stack.EthPIpv6)
            {
                byte[] packet = frame[14..];
                if (filter is null || filter(new Packet(packet)))
                {
                    list.Add(packet);
                }
            }
        }

        return list;
    }

    /// <summary>ICMPv6 messages this node sent, of one type.</summary>
    public List<byte[]> SentIcmp(byte type) => SentIpv6(p => p.UpperProtocol == IpProto.Icmpv6 && p.Upper.Length > 0 && p.Upper[0] == type);

    public long Counter(Snmp6Counter counter) => Ip.Snmp[counter];

    /// <summary>A view of a sent IPv6 packet: the header fields and the upper-layer message after any extension headers.</summary>
    public readonly struct Packet(byte[] bytes)
    {
        public byte[] Bytes { get; } = bytes;

        public Ipv6Address Source => Ipv6Address.Read(Bytes.AsSpan(8));

        public Ipv6Address Destination => Ipv6Address.Read(Bytes.AsSpan(24));

        public byte HopLimit => Bytes[7];

        public byte NextHeader => Bytes[6];

        public byte UpperProtocol => Walk().Protocol;

        public ReadOnlySpan<byte> Upper => Bytes.AsSpan(Walk().Offset);

        private (byte Protocol, int Offset) Walk()
        {
            byte next = Bytes[6];
            int offset = 40;
            while ((next is IpProto.HopByHop or IpProto.DestOptions or IpProto.Routing) && offset + 8 <= Bytes.Length)
            {
                byte following = Bytes[offset];
                offset += (Bytes[offset + 1] + 1) * 8;
                next = following;
            }

            return (next, Math.Min(offset, Bytes.Length));
        }
    }

    private sealed class WireOps(StackNode node) : INetDeviceOps
    {
        public int Open(NetDevice dev) => 0;

        public int Stop(NetDevice dev) => 0;

        public NetdevTx StartXmit(SkBuff skb, NetDevice dev)
        {
            byte[] frame = skb.DataSpan.ToArray();
            skb.Free();
            node.Sent.Add(frame);
            dev.Stats.TxPackets++;
            StackNode? peer = node.Peer;
            if (peer is not null && node.WireFilter(frame))
            {
                VirtualTimer? timer = null;
                timer = node.Scheduler.CreateTimer("wire", () => peer.Inject(frame));
                timer.ArmIn(1_000);
            }

            return NetdevTx.Ok;
        }

        public void SetRxMode(NetDevice dev)
        {
        }

        public int ChangeMtu(NetDevice dev, int mtu) => 0;

        public void TxTimeout(NetDevice dev, int queue)
        {
        }

        public int SetMacAddress(NetDevice dev, ReadOnlySpan<byte> address) => 0;

        public void GetStats64(NetDevice dev, NetDeviceStats stats)
        {
        }
    }
}
