using System.Buffers.Binary;
using CsCheck;
using Emu.Emulator.E1000;

namespace Emu.Tests.Emulator;

/// <summary>
/// Property test (issue 19): rings of legacy, context and data descriptors built from the boundary values a hostile
/// driver tries — lengths and offsets at 0, 1, MSS±1, 240/241, 255/256, 65535, 2^20−1, every command and option bit —
/// with or without MAC loopback. No ring makes the device throw, stall or hold more than its FIFOs, and afterwards
/// it still transmits a plain frame. The suite runs a fixed number of cases; for a long run:
/// <c>EMU_PROPERTY_ITER=200000 dotnet test --filter DescriptorRingPropertyTests</c>.
/// </summary>
public sealed class DescriptorRingPropertyTests
{
    private const int RingSize = 64;

    private static readonly int[] s_lengths = [0, 1, 13, 14, 53, 54, 99, 100, 101, 239, 240, 241, 255, 256, 1499, 1500, 1514, 16250, 16251, 65535, 65536, (1 << 20) - 1];
    private static readonly byte[] s_offsets = [0, 1, 13, 14, 20, 23, 24, 33, 34, 40, 50, 53, 54, 239, 240, 254, 255];
    private static readonly ushort[] s_mss = [0, 1, 99, 100, 101, 536, 1440, 16250, 16251, 65534, 65535];

    private static readonly uint[] s_cmdBits =
    [
        E1000Bits.TxdCmdEop, E1000Bits.TxdCmdIfcs, E1000Bits.TxdCmdIc, E1000Bits.TxdCmdRs, E1000Bits.TxdCmdRps,
        E1000Bits.TxdCmdTse, E1000Bits.TxdCmdVle, E1000Bits.TxdCmdIde, E1000Bits.TxdTucmdIp, E1000Bits.TxdTucmdTcp,
    ];

    private static readonly ulong[] s_addresses = [0, 0x0100_0000, 0x0100_0001, 0x0FFF_FFF0, 0xFFFF_FFFF_0000, 0x0040_0000];

    private static readonly Gen<byte[]> s_descriptor =
        Gen.Select(Gen.Int[0, 2], Gen.Int[0, s_lengths.Length - 1], Gen.Int[0, s_offsets.Length - 1], Gen.Int[0, s_offsets.Length - 1],
                   Gen.Int[0, s_mss.Length - 1], Gen.UInt[0, (1u << s_cmdBits.Length) - 1], Gen.Int[0, s_addresses.Length - 1], Gen.Byte)
            .Select(Build);

    private static readonly Gen<(byte[][] Ring, bool Loopback, bool ReceiveDescriptors)> s_case =
        Gen.Select(s_descriptor.Array[1, RingSize - 1], Gen.Bool, Gen.Bool);

    [Fact]
    public void NoDescriptorRingCrashesStallsOrGrowsTheDevice()
    {
        long iter = long.TryParse(Environment.GetEnvironmentVariable("EMU_PROPERTY_ITER"), out long n) ? n : 300;
        s_case.Sample(c => RunRing(c.Ring, c.Loopback, c.ReceiveDescriptors), iter: iter, threads: 1, seed: Environment.GetEnvironmentVariable("EMU_PROPERTY_SEED"));
    }

    private static void RunRing(byte[][] ring, bool loopback, bool receiveDescriptors)
    {
        uint rctl = E1000Bits.RctlEn | E1000Bits.RctlUpe | E1000Bits.RctlSbp | (loopback ? E1000Bits.RctlLbmMac : 0);
        var h = new DataPlaneHarness(rxCount: 8, txCount: RingSize, rctl: rctl, fillRx: receiveDescriptors);
        h.Nic.Machine.Memory.TryWrite(0x0100_0000, s_pattern);
        foreach (byte[] descriptor in ring)
        {
            h.PutTx(descriptor);
        }

        h.Kick();
        h.Nic.Machine.Scheduler.RunFor(1_000_000);
        Assert.False(h.Device.Halted, h.Device.InternalError);   // no exception reached the device's guard

        // The whole ring was consumed in one kick (the ring lies in RAM; buffers that do not are counted DMA errors).
        Assert.Equal(h.Nic.Read(E1000Reg.Tdt), h.Nic.Read(E1000Reg.Tdh));

        // The receive FIFO holds at most PBA.RXA (48 KiB) of minimum-size frames with FCS.
        Assert.True(h.Device.RxFifoFrames <= 48 * 1024 / 64, $"{h.Device.RxFifoFrames} frames in the receive FIFO");

        // End any packet in progress, leave loopback, and a plain frame still goes out as itself.
        h.Nic.Write(E1000Reg.Rctl, E1000Bits.RctlEn | E1000Bits.RctlUpe);
        h.PutTx(DataPlaneHarness.Legacy(h.TxBuffer(0, new byte[64]), 64, E1000Bits.TxdCmdEop));
        h.Kick();
        byte[] frame = Frames.Ethernet(Frames.PeerMac, 0x88B5, 100);
        h.PutTx(DataPlaneHarness.Legacy(h.TxBuffer(1, frame), frame.Length, E1000Bits.TxdCmdEop | E1000Bits.TxdCmdRs));
        h.Kick();
        Assert.Equal(frame, h.Probe.Frames[^1]);
    }

    private static readonly byte[] s_pattern = MakePattern();

    private static byte[] MakePattern()
    {
        // 1 MiB of plausible header bytes (an IPv4/TCP-looking start) and then a counting pattern.
        byte[] p = new byte[1 << 20];
        for (int i = 0; i < p.Length; i++)
        {
            p[i] = (byte)(i * 7);
        }

        p[12] = 0x08;
        p[13] = 0x00;
        p[14] = 0x45;
        return p;
    }

    private static byte[] Build(int kind, int length, int offsetA, int offsetB, int mss, uint cmdMask, int address, byte extra)
    {
        uint cmd = 0;
        for (int i = 0; i < s_cmdBits.Length; i++)
        {
            if ((cmdMask & (1u << i)) != 0)
            {
                cmd |= s_cmdBits[i];
            }
        }

        byte a = s_offsets[offsetA];
        byte b = s_offsets[offsetB];
        int len = s_lengths[length];
        byte[] d = kind switch
        {
            0 => DataPlaneHarness.Legacy(s_addresses[address], len & 0xFFFF, cmd & ~(E1000Bits.TxdCmdDext | E1000Bits.TxdTucmdIp | E1000Bits.TxdTucmdTcp), cso: a, css: b, special: extra),
            1 => DataPlaneHarness.Context(a, b, (ushort)(a + b), b, a, (ushort)len, len & 0xF_FFFF, cmd & (E1000Bits.TxdCmdTse | E1000Bits.TxdTucmdIp | E1000Bits.TxdTucmdTcp | E1000Bits.TxdCmdRs | E1000Bits.TxdCmdIde), extra, s_mss[mss]),
            _ => DataPlaneHarness.Data(s_addresses[address], len & 0xF_FFFF, cmd & ~(E1000Bits.TxdTucmdIp | E1000Bits.TxdTucmdTcp), (byte)(extra & 3), special: extra),
        };

        if (kind == 1 && (extra & 0x80) != 0)
        {
            d[13] = (byte)s_lengths[length];   // header lengths at the boundary values too
        }

        return d;
    }
}
