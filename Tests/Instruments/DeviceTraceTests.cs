using Emu.Emulator.E1000;
using Emu.Emulator.Instruments;
using Emu.Tests.Emulator;

namespace Emu.Tests.Instruments;

/// <summary>
/// <c>--trace</c> on the device: a scripted driver sequence (EEPROM, PHY, rings, one frame each way, ICR) traced in
/// every device category and compared line by line with Tests/golden/device-trace.txt. EMU_UPDATE_GOLDEN=1 rewrites it.
/// </summary>
public sealed class DeviceTraceTests
{
    private const ulong RxRing = 0x10_0000;
    private const ulong TxRing = 0x11_0000;
    private const ulong RxBuffer = 0x20_0000;
    private const ulong TxBuffer = 0x40_0000;

    [Fact]
    public void ScriptedDriverSequenceMatchesTheGoldenTrace()
    {
        string trace = TraceOf(TraceCategory.All);
        string golden = Path.Combine(AppContext.BaseDirectory, "golden", "device-trace.txt");
        if (Environment.GetEnvironmentVariable("EMU_UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(Path.Combine(SourceRoot(), "Tests", "golden", "device-trace.txt"), trace);
            return;
        }

        Assert.True(File.Exists(golden), $"{golden} is missing; run once with EMU_UPDATE_GOLDEN=1 to write it");
        string[] expected = File.ReadAllText(golden).ReplaceLineEndings("\n").TrimEnd('\n').Split('\n');
        string[] actual = trace.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n');
        for (int i = 0; i < Math.Min(expected.Length, actual.Length); i++)
        {
            Assert.True(expected[i] == actual[i], $"line {i + 1} differs:\n  golden: {expected[i]}\n  actual: {actual[i]}");
        }

        Assert.Equal(expected.Length, actual.Length);
    }

    [Fact]
    public void TheIssuesExampleLinesAppear()
    {
        string trace = TraceOf(TraceCategory.All);
        Assert.Matches(@"W TDT    <- 0x0001            \(TDH 0, 1 descriptor queued\)", trace);
        Assert.Matches(@"R ICR    -> 0x[0-9a-f]{8}  TXDW\|TXQE.*\(cleared; INTx low\)", trace);
        Assert.Matches(@"TXD\[0\] legacy addr=0x400000 len=60 CMD=EOP\|IFCS\|RS -> DD written", trace);
        Assert.Contains("MDIC read  PHY 1 reg 2 (PHY ID1) -> 0x0141", trace);
        Assert.Contains("EERD read word 0 -> 0x5452", trace);
    }

    [Theory]
    [InlineData("regs", "W TDT", "DMA ")]
    [InlineData("desc", "TXD[0]", "W TDT")]
    [InlineData("dma", "DMA read ", "TXD[")]
    [InlineData("irq", "IRQ INTx high", "W ")]
    [InlineData("wire", "WIRE out 60 bytes", "RXD[")]
    [InlineData("phy", "MDIC read ", "EERD")]
    [InlineData("eeprom", "EERD read word 0", "MDIC")]
    public void EachCategoryShowsItsOwnEventsOnly(string name, string present, string absent)
    {
        Assert.True(TraceCategories.TryParse(name, out TraceCategory category, out _));
        string trace = TraceOf(category);
        Assert.Contains(present, trace);
        Assert.DoesNotContain(absent, trace);
    }

    [Theory]
    [InlineData("regs,bogus", "'bogus' is not a trace category")]
    [InlineData("regs,,phy", "an empty name")]
    public void ABadListIsRefusedWithTheNames(string list, string message)
    {
        Assert.False(TraceCategories.TryParse(list, out _, out string? error));
        Assert.Contains(message, error);
        Assert.Contains("regs, eeprom, phy", error);
    }

    [Fact]
    public void WithNoProbeTheDeviceBehavesTheSame()
    {
        // The trace observes: a traced run leaves the device exactly as an untraced one.
        (NicHarness traced, _) = Run(TraceCategory.All);
        (NicHarness plain, _) = Run(TraceCategory.None);
        Assert.Equal(plain.Nic.Registers.ToArray(), traced.Nic.Registers.ToArray());
    }

    internal static string TraceOf(TraceCategory categories) => Run(categories).Trace;

    private static (NicHarness Nic, string Trace) Run(TraceCategory categories)
    {
        var h = new NicHarness();
        var output = new StringWriter { NewLine = "\n" };
        var writer = new TraceWriter(output, h.Machine.Scheduler, categories);
        if (categories != TraceCategory.None)
        {
            h.Nic.Probe = new DeviceTracer(h.Nic, writer);
        }

        var wire = new WireProbe();
        h.Nic.Wire = wire;

        // Probe-time habits: an EEPROM word through EERD, the PHY's identifier through MDIC.
        h.Write(E1000Reg.Eerd, E1000Bits.EerdStart);
        h.Read(E1000Reg.Eerd);
        h.Write(E1000Reg.Mdic, E1000Bits.MdicOpRead | (1u << E1000Bits.MdicPhyShift) | (2u << E1000Bits.MdicRegShift));
        h.Read(E1000Reg.Mdic);

        // Rings of eight, receive buffers of 2048 bytes, the causes Linux enables.
        h.Write(E1000Reg.Ims, E1000Bits.IcrTxdw | E1000Bits.IcrTxqe | E1000Bits.IcrLsc | E1000Bits.IcrRxt0 | E1000Bits.IcrRxdmt0);
        h.Write(E1000Reg.Rdbal, (uint)RxRing);
        h.Write(E1000Reg.Rdlen, 8 * 16);
        h.Write(E1000Reg.Rdh, 0);
        h.Write(E1000Reg.Rdt, 0);
        Span<byte> d = stackalloc byte[16];
        for (int i = 0; i < 8; i++)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(d, RxBuffer + (ulong)(i * 0x1000));
            h.Machine.Memory.TryWrite(RxRing + (ulong)(i * 16), d);
        }

        h.Write(E1000Reg.Rctl, E1000Bits.RctlEn | E1000Bits.RctlBam | E1000Bits.RctlSecrc);
        h.Write(E1000Reg.Rdt, 7);
        h.Write(E1000Reg.Tdbal, (uint)TxRing);
        h.Write(E1000Reg.Tdlen, 8 * 16);
        h.Write(E1000Reg.Tdh, 0);
        h.Write(E1000Reg.Tdt, 0);
        h.Write(E1000Reg.Tctl, E1000Bits.TctlEn | E1000Bits.TctlPsp | (0x0F << 4) | (0x40 << 12));

        // One 60-byte broadcast out.
        byte[] frame = new byte[60];
        frame.AsSpan(0, 6).Fill(0xFF);
        byte[] mac = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
        mac.CopyTo(frame, 6);
        frame[12] = 0x88;
        frame[13] = 0xB5;
        h.Machine.Memory.TryWrite(TxBuffer, frame);
        h.Machine.Memory.TryWrite(TxRing, DataPlaneHarness.Legacy(TxBuffer, 60, E1000Bits.TxdCmdEop | E1000Bits.TxdCmdIfcs | E1000Bits.TxdCmdRs));
        h.Write(E1000Reg.Tdt, 1);
        h.Machine.SyncInterrupts();
        h.Read(E1000Reg.Icr);
        h.Machine.SyncInterrupts();

        // One frame in, its interrupt after RDTR (0: at once), the ICR read that clears it.
        byte[] incoming = (byte[])frame.Clone();
        mac.CopyTo(incoming, 0);
        incoming[11] = 0x99;
        h.Nic.ReceiveFrame(incoming);
        h.Machine.SyncInterrupts();
        h.Machine.Scheduler.RunFor(1_000_000);
        h.Read(E1000Reg.Icr);
        h.Machine.SyncInterrupts();
        h.Read(E1000Reg.Status);
        writer.Flush();
        return (h, output.ToString());
    }

    private static string SourceRoot()
    {
        return Tools.RepoFiles.Root();
    }
}
