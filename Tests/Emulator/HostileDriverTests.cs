using Emu.Emulator.E1000;

namespace Emu.Tests.Emulator;

/// <summary>
/// Issue 19's sequences, each once a way for a guest driver to end the process or make the device hold memory without
/// bound: now regression tests with exact counters, and the device still answers and transmits afterwards.
/// </summary>
public sealed class HostileDriverTests
{
    private const uint Tse = E1000Bits.TxdCmdTse;
    private const uint Eop = E1000Bits.TxdCmdEop;
    private const uint Rs = E1000Bits.TxdCmdRs;
    private const uint TsoTcp4 = E1000Bits.TxdCmdTse | E1000Bits.TxdTucmdTcp | E1000Bits.TxdTucmdIp;

    private static readonly byte[] s_header = new byte[255];

    [Theory]
    [InlineData(54, 255)]    // the header still being gathered when the new context arrives
    [InlineData(240, 241)]   // the header complete, the new context one byte longer than the header buffer
    public void ContextReplacedMidTsoPacketKeepsTheContextThePacketStartedWith(byte hdrlen, byte secondHdrlen)
    {
        // §3.3.5: context descriptors should not occur mid-packet. The packet in progress keeps its own context.
        var h = new DataPlaneHarness(txCount: 16);
        h.PutTx(DataPlaneHarness.Context(14, 24, 33, 34, 50, 0, 250, TsoTcp4, hdrlen, 100));
        h.PutTx(DataPlaneHarness.Data(h.TxBuffer(1, s_header.AsSpan(0, hdrlen)), hdrlen, Tse, 0));
        h.PutTx(DataPlaneHarness.Context(14, 24, 33, 34, 50, 0, 250, TsoTcp4, secondHdrlen, 100));
        h.PutTx(DataPlaneHarness.Data(h.TxBuffer(3, new byte[250]), 250, Tse | Eop | Rs, 0));
        h.Kick();

        Assert.Equal(3, h.Probe.Frames.Count);
        Assert.Equal([hdrlen + 100, hdrlen + 100, hdrlen + 50], h.Probe.Frames.Select(f => f.Length));
        Assert.Equal(1u, h.Nic.Read(E1000Reg.Tsctc));
        Assert.Equal(0u, h.Nic.Read(E1000Reg.Tsctfc));

        // The second context (header past 240 bytes) is what the next TSO packet gets: it fails, counted.
        h.PutTx(DataPlaneHarness.Data(h.TxBuffer(4, new byte[secondHdrlen + 250]), secondHdrlen + 250, Tse | Eop | Rs, 0));
        h.Kick();
        Assert.Equal(3, h.Probe.Frames.Count);
        Assert.Equal(1u, h.Nic.Read(E1000Reg.Tsctfc));
        Assert.Equal(1, h.Stats[E1000DropReason.TxTsoContextFailed]);
        AssertStillTransmits(h);
    }

    [Fact]
    public void ContextReplacedMidChecksumPacketLeavesThatPacketsOffsets()
    {
        // A non-TSO packet with TXSM: the context that arrives between its descriptors must not move its checksum.
        var h = new DataPlaneHarness(txCount: 16);
        byte[] frame = Frames.Udp4(Frames.PeerMac, 100);
        Span<byte> ip = frame.AsSpan(14);
        uint pseudo = InternetChecksum.Add(0, ip.Slice(12, 8)) + 17 + 108;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(ip[26..], (ushort)InternetChecksum.Fold(pseudo));   // the TXSM seed
        h.PutTx(DataPlaneHarness.Context(14, 24, 33, 34, 40, 0, 0, E1000Bits.TxdTucmdIp, 0, 0));
        h.PutTx(DataPlaneHarness.Data(h.TxBuffer(1, frame.AsSpan(0, 42)), 42, 0, E1000Bits.TxPoptsTxsm));
        h.PutTx(DataPlaneHarness.Context(14, 24, 33, 250, 255, 0, 0, E1000Bits.TxdTucmdIp, 0, 0));
        h.PutTx(DataPlaneHarness.Data(h.TxBuffer(3, frame.AsSpan(42)), frame.Length - 42, Eop | Rs, 0));
        h.Kick();
        Assert.Single(h.Probe.Frames);
        Assert.True(Frames.Ipv4TransportValid(h.Probe.Frames[0].AsSpan(14)));
    }

    [Theory]
    [InlineData((ushort)65535, (byte)54)]   // MSS alone leaves no room in the 16 KiB transmit FIFO
    [InlineData((ushort)16251, (byte)54)]   // MSS + HDRLEN one byte past FIFO − 80 (16,304)
    [InlineData((ushort)100, (byte)241)]    // header past the 240-byte limit of §3.5.5
    public void TsoContextsOutsideTheManualsLimitsFailTheirPacket(ushort mss, byte hdrlen)
    {
        var h = new DataPlaneHarness(txCount: 16);
        h.PutTx(DataPlaneHarness.Context(14, 24, 33, 34, 50, 0, 1000, TsoTcp4, hdrlen, mss));
        h.PutTx(DataPlaneHarness.Data(h.TxBuffer(1, new byte[hdrlen + 1000]), hdrlen + 1000, Tse | Eop | Rs, 0));
        h.Kick();
        Assert.Empty(h.Probe.Frames);
        Assert.Equal(1u, h.Nic.Read(E1000Reg.Tsctfc));
        Assert.Equal(E1000Bits.TxStatusDd, h.TxStatus(1));
        AssertStillTransmits(h);
    }

    [Fact]
    public void LargestUsableTsoContextSegments()
    {
        // MSS + HDRLEN = FIFO − 80 exactly is still a usable context.
        var h = new DataPlaneHarness(txCount: 16);
        h.PutTx(DataPlaneHarness.Context(14, 24, 33, 34, 50, 0, 20000, TsoTcp4, 54, 16250));
        h.PutTx(DataPlaneHarness.Data(h.TxBuffer(1, new byte[54]), 54, Tse, 0));
        h.PutTx(DataPlaneHarness.Data(0x0100_0000, 20000, Tse | Eop | Rs, 0));
        h.Kick();
        Assert.Equal([54 + 16250, 54 + 3750], h.Probe.Frames.Select(f => f.Length));
        Assert.Equal(1u, h.Nic.Read(E1000Reg.Tsctc));
    }

    [Fact]
    public void LoopedBackTsoWithReceiveDisabledHoldsNothing()
    {
        // Issue 19 case 3: MAC loopback, receive off, a ring of 1 MiB TSO packets. Every segment is dropped where
        // receive refuses it; nothing accumulates until the ring ends.
        var h = new DataPlaneHarness(txCount: 64, rctl: E1000Bits.RctlLbmMac);
        const int Payload = (1 << 20) - 1 - 54;
        const int Mss = 16000;
        int segments = (Payload + Mss - 1) / Mss;
        for (int i = 0; i < 16; i++)
        {
            h.PutTx(DataPlaneHarness.Context(14, 24, 33, 34, 50, 0, Payload, TsoTcp4, 54, Mss));
            h.PutTx(DataPlaneHarness.Data(0x0100_0000, 54 + Payload, Tse | Eop | Rs, 0));
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        h.Kick();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(16u, h.Nic.Read(E1000Reg.Tsctc));
        Assert.Equal(16 * segments, h.Stats[E1000DropReason.RxDisabled]);
        Assert.Equal(0, h.Device.RxFifoFrames);
        Assert.True(allocated < 64 * 1024, $"{allocated} bytes allocated while looping back {16 * segments} segments");
    }

    [Fact]
    public void LoopedBackTsoWithNoReceiveDescriptorsFillsTheFifoThenCountsMpc()
    {
        // Receive on but no descriptors given: the receive FIFO (PBA.RXA, 48 KiB) is all a looped-back frame can use.
        var h = new DataPlaneHarness(txCount: 16, rctl: E1000Bits.RctlEn | E1000Bits.RctlUpe | E1000Bits.RctlLbmMac, fillRx: false);
        const int Payload = 1000 * 100;
        h.PutTx(DataPlaneHarness.Context(14, 24, 33, 34, 50, 0, Payload, TsoTcp4, 54, 1000));
        h.PutTx(DataPlaneHarness.Data(0x0100_0000, 54 + Payload, Tse | Eop | Rs, 0));
        h.Kick();

        int fifo = 48 * 1024 / (54 + 1000 + 4);   // whole segments that fit, each stored with its FCS
        Assert.Equal(fifo, h.Device.RxFifoFrames);
        Assert.Equal((uint)(100 - fifo), h.Nic.Read(E1000Reg.Mpc));
        Assert.Equal(100 - fifo, h.Stats[E1000DropReason.RxFifoOverrun]);
        Assert.NotEqual(0u, h.Nic.Read(E1000Reg.Icr) & E1000Bits.IcrRxo);

        // Descriptors given now drain the FIFO into memory.
        h.Nic.Write(E1000Reg.Rdt, 7);
        Assert.Equal(7, h.Stats.RxDelivered);
    }

    private static void AssertStillTransmits(DataPlaneHarness h)
    {
        Assert.False(h.Device.Halted, h.Device.InternalError);
        int before = h.Probe.Frames.Count;
        byte[] frame = Frames.Ethernet(Frames.PeerMac, 0x88B5, 100);
        h.PutTx(DataPlaneHarness.Legacy(h.TxBuffer(7, frame), frame.Length, Eop | Rs));
        h.Kick();
        Assert.Equal(before + 1, h.Probe.Frames.Count);
        Assert.Equal(frame, h.Probe.Frames[^1]);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public void ARuntShorterThanItsAddressIsSentAndCountedWithoutPadding(int length)
    {
        // PSP off: a packet of fewer than 6 bytes has no destination address to classify (found by the instruments'
        // robustness test, which stopped the device here before).
        var h = new DataPlaneHarness();
        h.Nic.Write(E1000Reg.Tctl, E1000Bits.TctlEn);
        h.PutTx(DataPlaneHarness.Legacy(h.TxBuffer(0, new byte[length]), length, E1000Bits.TxdCmdEop | E1000Bits.TxdCmdIfcs | E1000Bits.TxdCmdRs));
        h.Kick();
        Assert.False(h.Device.Halted, h.Device.InternalError);
        Assert.Equal(1u, h.Nic.Read(E1000Reg.Tpt));
        Assert.Equal(0u, h.Nic.Read(E1000Reg.Bptc) + h.Nic.Read(E1000Reg.Mptc));
    }
}
