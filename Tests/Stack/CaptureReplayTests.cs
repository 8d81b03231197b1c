using System.Buffers.Binary;
using Emu.Emulator.Machine;
using Emu.Stack.Ipv6;
using Emu.Stack.Wire;

namespace Emu.Tests.Stack;

/// <summary>
/// Tests/captures/linux-to-linux.pcap holds two Linux hosts on one wire. The frames host B sent are replayed, at
/// their captured times, into our stack standing in for host A (same MAC, so the same addresses); for each one that A
/// answered, our answer must be A's: the Neighbor Advertisement for B's solicitation, the echo reply for a 1452-byte
/// ping, and the fragmented echo reply for a fragmented 4000-byte ping.
/// </summary>
public sealed class CaptureReplayTests
{
    private static readonly byte[] MacA = [0x52, 0x54, 0x00, 0x00, 0x00, 0x0a];
    private static readonly byte[] MacB = [0x52, 0x54, 0x00, 0x00, 0x00, 0x0b];

    public static string CapturePath()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "Emu.sln")))
        {
            dir = Path.GetDirectoryName(dir);
        }

        Assert.NotNull(dir);
        return Path.Combine(dir, "Tests", "captures", "linux-to-linux.pcap");
    }

    /// <summary>Classic pcap (microsecond, little-endian, LINKTYPE_ETHERNET): (time in ns from the first frame, frame).</summary>
    public static List<(long TimeNs, byte[] Frame)> ReadPcap(string path)
    {
        byte[] file = File.ReadAllBytes(path);
        Assert.Equal(0xa1b2c3d4u, BinaryPrimitives.ReadUInt32LittleEndian(file));
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(20)));
        var frames = new List<(long, byte[])>();
        long first = -1;
        for (int at = 24; at + 16 <= file.Length;)
        {
            long t = (BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at)) * 1_000_000_000L) + (BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at + 4)) * 1000L);
            int captured = (int)BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at + 8));
            first = first < 0 ? t : first;
            frames.Add((t - first, file.AsSpan(at + 16, captured).ToArray()));
            at += 16 + captured;
        }

        return frames;
    }

    private static bool From(byte[] frame, byte[] mac) => frame.AsSpan(6, 6).SequenceEqual(mac);

    /// <summary>The answers we compare: Neighbor Advertisements, echo replies and fragments (of echo replies).</summary>
    private static bool IsAnswer(byte[] frame)
    {
        if (frame.Length < 54 || BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(12)) != 0x86DD)
        {
            return false;
        }

        byte next = frame[20];
        return next == IpProto.Fragment || (next == IpProto.Icmpv6 && frame[54] is Ipv6Stack.IcmpNeighborAdvert or Ipv6Stack.IcmpEchoReply);
    }

    /// <summary>
    /// A frame with the fields each host picks for itself blanked: a non-zero flow label (RFC 6437: pseudo-random per
    /// flow, keyed per boot) and the fragment identification (RFC 7739).
    /// </summary>
    private static byte[] Comparable(byte[] frame)
    {
        byte[] copy = (byte[])frame.Clone();
        if ((BinaryPrimitives.ReadUInt32BigEndian(copy.AsSpan(14)) & 0xF_FFFF) != 0)
        {
            BinaryPrimitives.WriteUInt32BigEndian(copy.AsSpan(14), 0x6000_0001);
        }

        if (copy[20] == IpProto.Fragment)
        {
            copy.AsSpan(58, 4).Clear();
        }

        return copy;
    }

    [Fact]
    public void OurStackAnswersLinuxAsTheOtherLinuxHostDid()
    {
        List<(long TimeNs, byte[] Frame)> capture = ReadPcap(CapturePath());
        var scheduler = new EventScheduler();
        var node = new StackNode(scheduler, MacA);
        node.Up();
        scheduler.RunFor(3_000_000_000);
        Assert.True(node.Idev.LinkLocal!.Usable);
        Assert.Equal(Ipv6Address.Parse("fe80::5054:ff:fe00:a"), node.LinkLocal);

        long origin = scheduler.Now;
        int compared = 0;
        for (int i = 0; i < capture.Count; i++)
        {
            (long time, byte[] frame) = capture[i];
            if (!From(frame, MacB) || BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(12)) != 0x86DD || frame[20] == IpProto.Tcp)
            {
                continue;   // TCP waits for the TCP issue; everything else B sent is replayed
            }

            scheduler.RunUntil(Math.Max(scheduler.Now, origin + time));
            node.Sent.Clear();
            node.Inject(frame);

            // Linux A's answers: its frames up to B's next one.
            var expected = new List<byte[]>();
            for (int j = i + 1; j < capture.Count && !From(capture[j].Frame, MacB); j++)
            {
                if (IsAnswer(capture[j].Frame))
                {
                    expected.Add(capture[j].Frame);
                }
            }

            long next = i + 1 < capture.Count ? origin + capture[i + 1].TimeNs : scheduler.Now + 1_000_000;
            scheduler.RunUntil(Math.Max(scheduler.Now + 1_000, next));
            List<byte[]> actual = node.Sent.Where(IsAnswer).ToList();
            Assert.True(expected.Count == actual.Count, $"frame {i + 1}: Linux answered with {expected.Count} frames, we with {actual.Count}");
            for (int k = 0; k < expected.Count; k++)
            {
                Assert.Equal(Convert.ToHexString(Comparable(expected[k])), Convert.ToHexString(Comparable(actual[k])));
                compared++;
            }
        }

        // NA, the 1452-byte echo reply, and the three fragments of the 4000-byte one.
        Assert.Equal(5, compared);
        Assert.Equal(1, node.Counter(Snmp6Counter.Ip6ReasmOKs));
    }
}

/// <summary>
/// The first TCP connection of linux-to-linux.pcap (host B to host A's echo service on port 7), B's side replayed into our
/// stack standing in for A: our SYN-ACK answers Linux's SYN with the options Linux's did, in Linux's layout; B's data
/// comes back; B's FIN is answered; B's final ACK closes the connection. B's ACK numbers and timestamp echoes are
/// rewritten from A's sequence space and clock to ours.
/// </summary>
public sealed class CaptureTcpReplayTests
{
    private static readonly byte[] MacA = [0x52, 0x54, 0x00, 0x00, 0x00, 0x0a];

    [Fact]
    public void LinuxEchoSessionIsAnsweredAsLinuxDid()
    {
        List<(long TimeNs, byte[] Frame)> capture = CaptureReplayTests.ReadPcap(CaptureReplayTests.CapturePath());
        byte[] Frame(int number) => capture[number - 1].Frame;
        var scheduler = new EventScheduler();
        var node = new StackNode(scheduler, MacA);
        node.Up();
        scheduler.RunFor(3_000_000_000);
        Assert.True(new Emu.Host.Services.EchoService().Start(node.Ip, 7));
        node.Ip.NeighAddPermanent(node.Idev, Ipv6Address.Parse("fe80::5054:ff:fe00:b"), [0x52, 0x54, 0x00, 0x00, 0x00, 0x0b]);   // B solicited A earlier in the capture
        node.Sent.Clear();

        byte[] linuxSyn = Frame(22);
        byte[] linuxSynAck = Frame(23);
        uint linuxIsnA = BinaryPrimitives.ReadUInt32BigEndian(linuxSynAck.AsSpan(54 + 4));
        node.Inject(linuxSyn);
        scheduler.RunFor(1_000_000);
        byte[] ourSynAck = Assert.Single(TcpFrames(node));
        Assert.Equal(0x12, ourSynAck[54 + 13]);
        Assert.Equal(BinaryPrimitives.ReadUInt32BigEndian(linuxSyn.AsSpan(54 + 4)) + 1, BinaryPrimitives.ReadUInt32BigEndian(ourSynAck.AsSpan(54 + 8)));

        // Options: Linux's layout, byte for byte, but for our timestamp value and window scale.
        byte[] theirs = linuxSynAck[(54 + 20)..(54 + ((linuxSynAck[54 + 12] >> 4) * 4))];
        byte[] ours = ourSynAck[(54 + 20)..(54 + ((ourSynAck[54 + 12] >> 4) * 4))];
        Assert.Equal(theirs.Length, ours.Length);
        Assert.Equal(Convert.ToHexString(Masked(theirs)), Convert.ToHexString(Masked(ours)));
        Assert.Equal(theirs.AsSpan(12, 4).ToArray(), ours.AsSpan(12, 4).ToArray());   // TS ecr = Linux's TSval
        uint ourIsn = BinaryPrimitives.ReadUInt32BigEndian(ourSynAck.AsSpan(54 + 4));
        uint ourTsVal = BinaryPrimitives.ReadUInt32BigEndian(ours.AsSpan(8));

        // B's ACK, its 10 bytes of data and its FIN, rewritten into our sequence space.
        node.Sent.Clear();
        foreach (int number in new[] { 24, 25, 26 })
        {
            node.Inject(Rewrite(Frame(number), linuxIsnA, ourIsn, ourTsVal));
            scheduler.RunFor(2_000_000);
        }

        scheduler.RunFor(100_000_000);
        List<byte[]> sent = TcpFrames(node);
        byte[] payload = Frame(25)[(54 + 32)..];
        Assert.Equal("hello-tcp\n", System.Text.Encoding.ASCII.GetString(payload));
        Assert.Contains(sent, f => f.Length == 54 + 32 + 10 && f.AsSpan(54 + 32).SequenceEqual(payload) && BinaryPrimitives.ReadUInt32BigEndian(f.AsSpan(58)) == ourIsn + 1);
        byte[] fin = Assert.Single(sent, f => (f[54 + 13] & 0x01) != 0);
        Assert.Equal(ourIsn + 11, BinaryPrimitives.ReadUInt32BigEndian(fin.AsSpan(58)));
        Assert.Equal(BinaryPrimitives.ReadUInt32BigEndian(Frame(26).AsSpan(58)) + 1, BinaryPrimitives.ReadUInt32BigEndian(fin.AsSpan(62)));

        // B's ACK of our FIN ends it: nothing left, no reset.
        node.Inject(Rewrite(Frame(32), linuxIsnA, ourIsn, ourTsVal));
        scheduler.RunFor(1_000_000);
        Assert.Equal(0, node.Ip.Tcp.ConnectionCount);
        Assert.Equal(0, node.Counter(Snmp6Counter.TcpOutRsts));
        Assert.Equal(1, node.Counter(Snmp6Counter.TcpPassiveOpens));
    }

    private static List<byte[]> TcpFrames(StackNode node) => node.Sent.Where(f => f.Length >= 74 && f[12] == 0x86 && f[13] == 0xDD && f[20] == IpProto.Tcp).ToList();

    /// <summary>SYN-ACK options with the TS value and the window-scale shift blanked (each host picks its own).</summary>
    private static byte[] Masked(byte[] options)
    {
        byte[] copy = (byte[])options.Clone();
        copy.AsSpan(8, 8).Clear();   // TS val and ecr (ecr compared separately)
        copy[^1] = 0;                // wscale shift
        return copy;
    }

    private static byte[] Rewrite(byte[] frame, uint linuxIsnA, uint ourIsn, uint ourTsVal)
    {
        byte[] f = (byte[])frame.Clone();
        Span<byte> tcp = f.AsSpan(54);
        uint ack = BinaryPrimitives.ReadUInt32BigEndian(tcp[8..]);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[8..], ack - linuxIsnA + ourIsn);
        if (tcp.Length >= 32 && tcp[24] == 8 && tcp[25] == 10)
        {
            BinaryPrimitives.WriteUInt32BigEndian(tcp[30..], ourTsVal);   // TS ecr: echo our clock, not A's
        }

        tcp[16] = 0;
        tcp[17] = 0;
        var source = Ipv6Address.Read(f.AsSpan(22));
        var destination = Ipv6Address.Read(f.AsSpan(38));
        BinaryPrimitives.WriteUInt16BigEndian(tcp[16..], Checksum.Compute(source, destination, IpProto.Tcp, tcp));
        return f;
    }
}
