using System.Buffers.Binary;
using Emu.Emulator.Machine;
using Emu.Stack.Ipv6;
using Emu.Stack.Wire;

namespace Emu.Tests.Stack;

/// <summary>
/// Tests/captures/linux-to-linux.pcap holds two Linux hosts on one wire (recorded by Tests/scripts/record-linux-capture.sh).
/// Host B is the one that sends the first echo request, host A the one it pings. The frames B sent are replayed, at
/// their captured times, into our stack standing in for A (same MAC, so the same addresses); for each one that A
/// answered, our answer must be A's: the Neighbor Advertisement for B's solicitation, the echo replies, and the
/// fragmented echo reply for a fragmented ping. Every answer A gave in the capture must have been compared.
/// </summary>
public sealed class CaptureReplayTests
{
    public static string CapturePath()
    {
        return Path.Combine(Tools.RepoFiles.Root(), "Tests", "captures", "linux-to-linux.pcap");
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

    /// <summary>(A, B): B sent the capture's first echo request (unfragmented), to A.</summary>
    public static (byte[] MacA, byte[] MacB) Hosts(List<(long TimeNs, byte[] Frame)> capture)
    {
        byte[] ping = capture.Select(c => c.Frame).First(f => IsIpv6(f) && f[20] == IpProto.Icmpv6 && f[54] == Ipv6Stack.IcmpEchoRequest);
        return (ping[0..6], ping[6..12]);
    }

    public static bool From(byte[] frame, byte[] mac) => frame.AsSpan(6, 6).SequenceEqual(mac);

    private static bool IsIpv6(byte[] frame) => frame.Length >= 54 && BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(12)) == 0x86DD;

    /// <summary>A fragment's (source address, identification).</summary>
    private static string FragmentKey(byte[] frame) => Convert.ToHexString(frame.AsSpan(22, 16)) + Convert.ToHexString(frame.AsSpan(58, 4));

    /// <summary>
    /// Which frames are answers we compare: Neighbor Advertisements, echo replies, and the fragments of echo replies
    /// (a fragment is one when the first fragment of its datagram carries an echo reply).
    /// </summary>
    private static bool[] Answers(IReadOnlyList<byte[]> frames)
    {
        var replyFragments = new HashSet<string>();
        foreach (byte[] f in frames)
        {
            if (IsIpv6(f) && f[20] == IpProto.Fragment && f.Length > 62 && (BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(56)) & 0xFFF8) == 0
                && f[54] == IpProto.Icmpv6 && f[62] == Ipv6Stack.IcmpEchoReply)
            {
                replyFragments.Add(FragmentKey(f));
            }
        }

        return frames.Select(f => IsIpv6(f) && f[20] switch
        {
            IpProto.Fragment => replyFragments.Contains(FragmentKey(f)),
            IpProto.Icmpv6 => f[54] is Ipv6Stack.IcmpNeighborAdvert or Ipv6Stack.IcmpEchoReply,
            _ => false,
        }).ToArray();
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
        (byte[] macA, byte[] macB) = Hosts(capture);
        bool[] answers = Answers(capture.Select(c => c.Frame).ToList());
        var scheduler = new EventScheduler();
        var node = new StackNode(scheduler, macA);
        node.Up();
        scheduler.RunFor(3_000_000_000);
        Assert.True(node.Idev.LinkLocal!.Usable);

        long origin = scheduler.Now;
        var compared = new List<byte[]>();
        for (int i = 0; i < capture.Count; i++)
        {
            (long time, byte[] frame) = capture[i];
            if (!From(frame, macB) || !IsIpv6(frame) || frame[20] == IpProto.Tcp)
            {
                continue;   // TCP is CaptureTcpReplayTests'; everything else B sent is replayed
            }

            scheduler.RunUntil(Math.Max(scheduler.Now, origin + time));
            node.Sent.Clear();
            node.Inject(frame);

            // Linux A's answers: its frames up to B's next one.
            var expected = new List<byte[]>();
            for (int j = i + 1; j < capture.Count && !From(capture[j].Frame, macB); j++)
            {
                if (answers[j])
                {
                    expected.Add(capture[j].Frame);
                }
            }

            long next = i + 1 < capture.Count ? origin + capture[i + 1].TimeNs : scheduler.Now + 1_000_000;
            scheduler.RunUntil(Math.Max(scheduler.Now + 1_000, next));
            bool[] ours = Answers(node.Sent);
            List<byte[]> actual = node.Sent.Where((_, k) => ours[k]).ToList();
            Assert.True(expected.Count == actual.Count, $"frame {i + 1}: Linux answered with {expected.Count} frames, we with {actual.Count}");
            for (int k = 0; k < expected.Count; k++)
            {
                Assert.Equal(Convert.ToHexString(Comparable(expected[k])), Convert.ToHexString(Comparable(actual[k])));
                compared.Add(expected[k]);
            }
        }

        // Every answer A gave (NA, echo replies, reply fragments) was compared, and each kind occurred.
        Assert.Equal(capture.Where((c, k) => answers[k] && From(c.Frame, macA)).Count(), compared.Count);
        Assert.Contains(compared, f => f[20] == IpProto.Icmpv6 && f[54] == Ipv6Stack.IcmpNeighborAdvert);
        Assert.Contains(compared, f => f[20] == IpProto.Icmpv6 && f[54] == Ipv6Stack.IcmpEchoReply);
        Assert.Contains(compared, f => f[20] == IpProto.Fragment);
        int fragmentedPings = capture.Where(c => From(c.Frame, macB) && IsIpv6(c.Frame) && c.Frame[20] == IpProto.Fragment).Select(c => FragmentKey(c.Frame)).Distinct().Count();
        Assert.Equal((long)fragmentedPings, node.Counter(Snmp6Counter.Ip6ReasmOKs));
    }
}

/// <summary>
/// The first TCP connection of linux-to-linux.pcap (host B to host A's echo service on port 7, B closing first), B's
/// side replayed into our stack standing in for A: our SYN-ACK answers Linux's SYN with the options Linux's did, in
/// Linux's layout; B's data comes back; B's FIN is answered; B's ACK of our FIN closes the connection. B's ACK numbers
/// and timestamp echoes are rewritten from A's sequence space and clock to ours. The frames are found in the capture.
/// </summary>
public sealed class CaptureTcpReplayTests
{
    private const byte Syn = 0x02;
    private const byte Fin = 0x01;
    private const byte Ack = 0x10;

    [Fact]
    public void LinuxEchoSessionIsAnsweredAsLinuxDid()
    {
        List<(long TimeNs, byte[] Frame)> capture = CaptureReplayTests.ReadPcap(CaptureReplayTests.CapturePath());
        (byte[] macA, byte[] macB) = CaptureReplayTests.Hosts(capture);
        List<byte[]> tcp = capture.Select(c => c.Frame).Where(f => f.Length >= 74 && f[12] == 0x86 && f[13] == 0xDD && f[20] == IpProto.Tcp).ToList();
        byte[] linuxSyn = tcp.First(f => CaptureReplayTests.From(f, macB) && f[54 + 13] == Syn);
        ushort clientPort = BinaryPrimitives.ReadUInt16BigEndian(linuxSyn.AsSpan(54));
        Assert.Equal(7, BinaryPrimitives.ReadUInt16BigEndian(linuxSyn.AsSpan(56)));   // the session the recording script made first
        bool InSession(byte[] f) => BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(CaptureReplayTests.From(f, macB) ? 54 : 56)) == clientPort;
        List<byte[]> session = tcp.SkipWhile(f => f != linuxSyn).Where(InSession).ToList();
        byte[] linuxSynAck = session.First(f => CaptureReplayTests.From(f, macA) && f[54 + 13] == (Syn | Ack));
        byte[] linuxFinA = session.First(f => CaptureReplayTests.From(f, macA) && (f[54 + 13] & Fin) != 0);
        uint linuxFinSeqA = BinaryPrimitives.ReadUInt32BigEndian(linuxFinA.AsSpan(58));

        // B's frames after its SYN: up to its FIN, then up to its ACK of A's FIN.
        List<byte[]> fromB = session.Skip(1).Where(f => CaptureReplayTests.From(f, macB)).ToList();
        int finB = fromB.FindIndex(f => (f[54 + 13] & Fin) != 0);
        int lastAck = fromB.FindIndex(f => (f[54 + 13] & Ack) != 0 && BinaryPrimitives.ReadUInt32BigEndian(f.AsSpan(62)) == linuxFinSeqA + 1);
        Assert.True(finB >= 0 && lastAck > finB, "B closes first and then acknowledges A's FIN");
        byte[] payload = fromB.Take(finB + 1).SelectMany(f => f[(54 + DataOffset(f))..]).ToArray();
        Assert.NotEmpty(payload);

        var scheduler = new EventScheduler();
        var node = new StackNode(scheduler, macA);
        node.Up();
        scheduler.RunFor(3_000_000_000);
        Assert.True(new Emu.Host.Services.EchoService().Start(node.Ip, 7));
        node.Ip.NeighAddPermanent(node.Idev, Ipv6Address.Read(linuxSyn.AsSpan(22)), macB);   // B solicited A earlier in the capture
        node.Sent.Clear();

        uint linuxIsnA = BinaryPrimitives.ReadUInt32BigEndian(linuxSynAck.AsSpan(54 + 4));
        node.Inject(linuxSyn);
        scheduler.RunFor(1_000_000);
        byte[] ourSynAck = Assert.Single(TcpFrames(node));
        Assert.Equal(Syn | Ack, ourSynAck[54 + 13]);
        Assert.Equal(BinaryPrimitives.ReadUInt32BigEndian(linuxSyn.AsSpan(54 + 4)) + 1, BinaryPrimitives.ReadUInt32BigEndian(ourSynAck.AsSpan(54 + 8)));

        // Options: Linux's layout, byte for byte, but for our timestamp value and window scale.
        byte[] theirs = linuxSynAck[(54 + 20)..(54 + DataOffset(linuxSynAck))];
        byte[] ours = ourSynAck[(54 + 20)..(54 + DataOffset(ourSynAck))];
        Assert.Equal(theirs.Length, ours.Length);
        Assert.Equal(Convert.ToHexString(Masked(theirs)), Convert.ToHexString(Masked(ours)));
        Assert.Equal(theirs.AsSpan(12, 4).ToArray(), ours.AsSpan(12, 4).ToArray());   // TS ecr = Linux's TSval
        uint ourIsn = BinaryPrimitives.ReadUInt32BigEndian(ourSynAck.AsSpan(54 + 4));
        uint ourTsVal = BinaryPrimitives.ReadUInt32BigEndian(ours.AsSpan(8));

        // B's ACK, its data and its FIN, rewritten into our sequence space.
        node.Sent.Clear();
        foreach (byte[] frame in fromB.Take(finB + 1))
        {
            node.Inject(Rewrite(frame, linuxIsnA, ourIsn, ourTsVal));
            scheduler.RunFor(2_000_000);
        }

        scheduler.RunFor(100_000_000);
        List<byte[]> sent = TcpFrames(node);
        Assert.Contains(sent, f => f[(54 + DataOffset(f))..].AsSpan().SequenceEqual(payload) && BinaryPrimitives.ReadUInt32BigEndian(f.AsSpan(58)) == ourIsn + 1);
        byte[] fin = Assert.Single(sent, f => (f[54 + 13] & Fin) != 0);
        Assert.Equal(ourIsn + 1 + (uint)payload.Length, BinaryPrimitives.ReadUInt32BigEndian(fin.AsSpan(58)));
        Assert.Equal(BinaryPrimitives.ReadUInt32BigEndian(fromB[finB].AsSpan(58)) + 1, BinaryPrimitives.ReadUInt32BigEndian(fin.AsSpan(62)));

        // B's ACKs of our data and FIN end it: nothing left, no reset.
        foreach (byte[] frame in fromB.Skip(finB + 1).Take(lastAck - finB))
        {
            node.Inject(Rewrite(frame, linuxIsnA, ourIsn, ourTsVal));
            scheduler.RunFor(1_000_000);
        }

        Assert.Equal(0, node.Ip.Tcp.ConnectionCount);
        Assert.Equal(0, node.Counter(Snmp6Counter.TcpOutRsts));
        Assert.Equal(1, node.Counter(Snmp6Counter.TcpPassiveOpens));
    }

    private static int DataOffset(byte[] frame) => (frame[54 + 12] >> 4) * 4;

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
        if (tcp.Length >= 32 && tcp[20] == 1 && tcp[21] == 1 && tcp[22] == 8 && tcp[23] == 10)
        {
            BinaryPrimitives.WriteUInt32BigEndian(tcp[28..], ourTsVal);   // NOP NOP TS: its ecr echoes our clock, not A's
        }

        tcp[16] = 0;
        tcp[17] = 0;
        var source = Ipv6Address.Read(f.AsSpan(22));
        var destination = Ipv6Address.Read(f.AsSpan(38));
        BinaryPrimitives.WriteUInt16BigEndian(tcp[16..], Checksum.Compute(source, destination, IpProto.Tcp, tcp));
        return f;
    }
}
