using System.Buffers.Binary;
using Emu.Emulator.Machine;
using Emu.Stack.Ipv6;
using Emu.Stack.Wire;

namespace Emu.Tests.Stack;

/// <summary>
/// ../shared/captures/linux-to-linux.pcap holds two Linux hosts on one wire. The frames host B sent are replayed, at
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
        return Path.Combine(dir, "..", "shared", "captures", "linux-to-linux.pcap");
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
