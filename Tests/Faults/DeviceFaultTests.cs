using System.Buffers.Binary;
using Emu.Emulator.E1000;
using Emu.Emulator.Faults;
using Emu.Emulator.Pci;
using Emu.Tests.Emulator;
using Microsoft.Extensions.Logging;
using static Emu.Emulator.E1000.E1000Bits;
using static Emu.Emulator.E1000.E1000Reg;

namespace Emu.Tests.Faults;

/// <summary>The device kinds of issue 21 on the 82540EM model: each shows the registers, counters and descriptor bits the 8254x manual gives it.</summary>
public sealed class DeviceFaultTests
{
    private const long Ms = 1_000_000;

    private static NicFaults Arm(DataPlaneHarness h, params string[] specs)
    {
        Assert.True(FaultPlan.TryCreate(1, specs, null, out FaultPlan? plan, out string? error), error);
        return NicFaults.Attach(h.Device, plan);
    }

    private static byte[] Frame(int payload = 100) => Frames.Ethernet(Frames.NicMac, 0x88B5, payload);

    private static uint Causes(DataPlaneHarness h) => h.Nic.Read(Ics);   // ICS reads the causes without clearing them

    [Fact]
    public void RxCrcErrorCountsCrcerrsAndDropsWithoutSbp()
    {
        var logs = new ListLoggerFactory();
        var h = new DataPlaneHarness(nic: new NicHarness(loggerFactory: logs));
        Arm(h, "rx-crc-error,times=2");
        for (int i = 0; i < 3; i++)
        {
            h.Receive(Frame());
        }

        Assert.Equal(2u, h.Nic.Read(Crcerrs));
        Assert.Equal(1u, h.Nic.Read(Gprc));
        Assert.Equal(3u, h.Nic.Read(Tpr));
        Assert.Equal(2, h.Stats[E1000DropReason.RxCrcError]);
        Assert.Equal(1, h.Stats.RxDelivered);
        Assert.Equal(1u, h.Nic.Read(Rdh));
        Assert.Equal(2, logs.Entries.Count(e => e.Level == LogLevel.Information && e.Message == "e1000: fault 1 rx-crc-error fired"));
    }

    [Fact]
    public void RxCrcErrorWithSbpIsStoredWithCeAndAWrongFcs()
    {
        var h = new DataPlaneHarness(rctl: RctlEn | RctlBam | RctlSbp);
        Arm(h, "rx-crc-error,times=1");
        byte[] frame = Frame();
        h.Receive(frame);
        (ushort length, _, byte status, byte errors, _) = h.RxDescriptor(0);
        Assert.Equal(frame.Length + 4, length);
        Assert.Equal(RxStatusDd | RxStatusEop, status & (RxStatusDd | RxStatusEop));
        Assert.Equal(RxErrorCe, errors);
        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(h.RxBuffer(0, length).AsSpan(frame.Length));
        Assert.NotEqual(EthernetCrc.Compute(frame), stored);
        Assert.Equal(1u, h.Nic.Read(Crcerrs));
        Assert.Equal(0u, h.Nic.Read(Gprc));   // not a good packet
    }

    [Fact]
    public void RxErrorCountsRxerrcAndSetsRxeWithSbp()
    {
        var h = new DataPlaneHarness();
        Arm(h, "rx-error,times=1");
        h.Receive(Frame());
        Assert.Equal(1u, h.Nic.Read(Rxerrc));
        Assert.Equal(1, h.Stats[E1000DropReason.RxPhyError]);
        Assert.Equal(0u, h.Nic.Read(Rdh));

        var sbp = new DataPlaneHarness(rctl: RctlEn | RctlBam | RctlSbp);
        Arm(sbp, "rx-error,times=1");
        sbp.Receive(Frame());
        Assert.Equal(RxErrorRxe, sbp.RxDescriptor(0).Errors);
        Assert.Equal(1u, sbp.Nic.Read(Rxerrc));
    }

    [Fact]
    public void RxOverrunOfNFramesCountsMpcAndRaisesRxoOnce()
    {
        var h = new DataPlaneHarness(rxCount: 16);
        Arm(h, "rx-overrun,frames=3");
        for (int i = 0; i < 8; i++)
        {
            h.Receive(Frame());
        }

        Assert.Equal(3u, h.Nic.Read(Mpc));
        Assert.NotEqual(0u, Causes(h) & IcrRxo);
        Assert.Equal(5, h.Stats.RxDelivered);
        Assert.Equal(3, h.Stats[E1000DropReason.RxFifoOverrun]);
    }

    [Fact]
    public void RxNoBufferCountsRnbcRaisesRxdmt0AndTheFramesWaitInTheFifo()
    {
        var h = new DataPlaneHarness();
        Arm(h, "rx-no-buffer,frames=2");
        h.Receive(Frame());
        h.Receive(Frame(101));
        Assert.Equal(2u, h.Nic.Read(Rnbc));
        Assert.NotEqual(0u, Causes(h) & IcrRxdmt0);
        Assert.Equal(0u, h.Nic.Read(Rdh));
        Assert.Equal(2, h.Device.RxFifoFrames);

        h.Receive(Frame(102));   // the burst is over: the FIFO drains in order
        Assert.Equal(3u, h.Nic.Read(Rdh));
        Assert.Equal(0, h.Device.RxFifoFrames);
        Assert.Equal(114 + 4, h.RxDescriptor(0).Length);
        Assert.Equal(116 + 4, h.RxDescriptor(2).Length);
        Assert.Equal(0u, h.Nic.Read(Rnbc));
    }

    [Fact]
    public void TxHangStopsTdhWithoutWriteBackUntilCtrlRstThroughBar0()
    {
        var h = new DataPlaneHarness();
        NicFaults faults = Arm(h, "tx-hang");
        h.PutTx(DataPlaneHarness.Legacy(h.TxBuffer(0, new byte[60]), 60, TxdCmdEop | TxdCmdRs));
        h.Kick();
        h.Nic.Read(Icr);
        h.PutTx(DataPlaneHarness.Legacy(h.TxBuffer(1, new byte[60]), 60, TxdCmdEop | TxdCmdRs));
        h.Kick();
        Assert.True(faults.TransmitUnitHung);
        Assert.Equal(0u, h.Nic.Read(Tdh));
        Assert.Equal(0, h.TxStatus(0));
        Assert.Empty(h.Probe.Frames);
        Assert.Equal(0u, h.Nic.Read(Icr) & IcrTxdw);

        h.Nic.Write(Ctrl, h.Nic.Read(Ctrl) | CtrlRst);
        Assert.False(faults.TransmitUnitHung);
        var after = RestartTx(h);
        Assert.Single(after.Probe.Frames);
    }

    [Fact]
    public void TxHangEndsWithCtrlRstThroughIoaddrIodataAsLinuxResetsThe82540()
    {
        var h = new DataPlaneHarness();
        NicFaults faults = Arm(h, "tx-hang");
        h.PutTx(DataPlaneHarness.Legacy(h.TxBuffer(0, new byte[60]), 60, TxdCmdEop | TxdCmdRs));
        h.Kick();
        Assert.True(faults.TransmitUnitHung);
        h.Nic.Machine.WriteIo(NicHarness.Bar1, 4, Ctrl);
        h.Nic.Machine.WriteIo((ushort)(NicHarness.Bar1 + 4), 4, h.Nic.Read(Ctrl) | CtrlRst);
        Assert.False(faults.TransmitUnitHung);
        Assert.Single(RestartTx(h).Probe.Frames);   // one-shot: the next kick transmits
    }

    /// <summary>After CTRL.RST the rings are unprogrammed: set the transmit ring again and send one frame.</summary>
    private static DataPlaneHarness RestartTx(DataPlaneHarness h)
    {
        h.Nic.Write(Tdbal, (uint)DataPlaneHarness.TxRing);
        h.Nic.Write(Tdlen, (uint)(h.TxCount * 16));
        h.Nic.Write(Tctl, TctlEn | TctlPsp);
        h.Nic.Machine.Memory.TryWrite(DataPlaneHarness.TxRing, DataPlaneHarness.Legacy(h.TxBuffer(0, new byte[60]), 60, TxdCmdEop | TxdCmdRs));
        h.Nic.Write(Tdt, 1);
        return h;
    }

    [Fact]
    public void TxHangForADurationResumesByItself()
    {
        var h = new DataPlaneHarness();
        Arm(h, "tx-hang,for=1ms");
        h.PutTx(DataPlaneHarness.Legacy(h.TxBuffer(0, new byte[60]), 60, TxdCmdEop | TxdCmdRs));
        h.Kick();
        Assert.Empty(h.Probe.Frames);
        h.Nic.Machine.Scheduler.RunFor(2 * Ms);
        Assert.Single(h.Probe.Frames);
        Assert.Equal(1u, h.Nic.Read(Tdh));
        Assert.Equal(TxStatusDd, h.TxStatus(0));
        Assert.NotEqual(0u, h.Nic.Read(Icr) & IcrTxdw);
    }

    [Fact]
    public void DdWithheldOnTransmitLeavesTheStatusUnwritten()
    {
        var h = new DataPlaneHarness();
        Arm(h, "dd-withheld,descriptors=2,dir=tx");
        for (int i = 0; i < 3; i++)
        {
            h.PutTx(DataPlaneHarness.Legacy(h.TxBuffer(i, new byte[60]), 60, TxdCmdEop | TxdCmdRs));
        }

        h.Kick();
        Assert.Equal(3, h.Probe.Frames.Count);
        Assert.Equal(3u, h.Nic.Read(Tdh));
        Assert.Equal(0, h.TxStatus(0));
        Assert.Equal(0, h.TxStatus(1));
        Assert.Equal(TxStatusDd, h.TxStatus(2));
    }

    [Fact]
    public void DdWithheldOnReceiveWritesTheDescriptorWithoutDd()
    {
        var h = new DataPlaneHarness();
        Arm(h, "dd-withheld,dir=rx,times=1");
        h.Receive(Frame());
        h.Receive(Frame());
        Assert.Equal(2u, h.Nic.Read(Rdh));
        Assert.Equal(118, h.RxDescriptor(0).Length);
        Assert.Equal(0, h.RxDescriptor(0).Status & RxStatusDd);
        Assert.Equal(RxStatusDd, h.RxDescriptor(1).Status & RxStatusDd);
    }

    [Fact]
    public void RxBadWritebackGivesTheLengthOrStatusAsked()
    {
        var h = new DataPlaneHarness();
        Arm(h, "rx-bad-writeback,length=7,only=1", "rx-bad-writeback,status=0x03,only=1");
        h.Receive(Frame());
        h.Receive(Frame());
        Assert.Equal(7, h.RxDescriptor(0).Length);
        Assert.Equal(0x03, h.RxDescriptor(1).Status);
        Assert.Equal(118, h.RxDescriptor(1).Length);
    }

    [Fact]
    public void DmaErrorOnAReceiveDescriptorIsAMasterAbortAndTheFrameIsDropped()
    {
        var h = new DataPlaneHarness();
        Arm(h, "dma-error,target=rx-desc,times=1");
        h.Receive(Frame());
        Assert.Equal(1, h.Stats[E1000DropReason.RxDmaError]);
        Assert.Equal(0u, h.Nic.Read(Rdh));
        Assert.NotEqual(0u, h.Nic.ConfigRead(PciConfigSpace.Status, 2) & 0x2000);   // Received Master Abort
        h.Receive(Frame());
        Assert.Equal(1, h.Stats.RxDelivered);
    }

    [Fact]
    public void DmaErrorOnATransmitBufferDropsThePacketAndTheRingMovesOn()
    {
        var h = new DataPlaneHarness();
        Arm(h, "dma-error,target=tx-buffer,times=1");
        h.PutTx(DataPlaneHarness.Legacy(h.TxBuffer(0, new byte[60]), 60, TxdCmdEop | TxdCmdRs));
        h.PutTx(DataPlaneHarness.Legacy(h.TxBuffer(1, new byte[60]), 60, TxdCmdEop | TxdCmdRs));
        h.Kick();
        Assert.Equal(1, h.Stats[E1000DropReason.TxDmaError]);
        Assert.Single(h.Probe.Frames);
        Assert.Equal(2u, h.Nic.Read(Tdh));
        Assert.Equal(TxStatusDd, h.TxStatus(0));
    }

    [Fact]
    public void DmaErrorsOnTheOtherTargetsFollowTheFailedAccessPathsAndLogNoOutsideMemoryWarning()
    {
        var logs = new ListLoggerFactory();
        var h = new DataPlaneHarness(nic: new NicHarness(loggerFactory: logs));
        Arm(h, "dma-error,target=rx-buffer,only=1", "dma-error,target=tx-desc,only=1");
        h.Receive(Frame());
        Assert.Equal(1, h.Stats[E1000DropReason.RxDmaError]);
        Assert.Equal(1u, h.Nic.Read(Rdh));   // the descriptor is closed, its data never landed

        h.PutTx(DataPlaneHarness.Legacy(h.TxBuffer(0, new byte[60]), 60, TxdCmdEop | TxdCmdRs));
        h.Kick();
        Assert.Equal(1, h.Stats[E1000DropReason.TxDmaError]);
        Assert.Equal(0u, h.Nic.Read(Tdh));   // the fetch failed: the engine stops at that descriptor
        h.Kick();
        Assert.Single(h.Probe.Frames);       // the next kick fetches it
        Assert.DoesNotContain(logs.Entries, e => e.Level == LogLevel.Warning);
        Assert.Equal(2, logs.Entries.Count(e => e.Message.EndsWith("dma-error fired", StringComparison.Ordinal)));
    }

    [Fact]
    public void IrqLostLeavesTheCauseInIcrWithTheLineLowUntilAnotherCause()
    {
        var h = new DataPlaneHarness();
        Arm(h, "irq-lost");
        h.Receive(Frame());
        Assert.NotEqual(0u, Causes(h) & IcrRxt0);
        Assert.False(h.Nic.IrqLevel);
        Assert.False(h.Device.IntxLevel);

        // Linux's watchdog writes ICS.RXDMT0 every 2 s: a new cause, and the line rises (the fault was one-shot).
        h.Nic.Write(Ics, IcrRxdmt0);
        h.Nic.Machine.SyncInterrupts();
        Assert.True(h.Nic.IrqLevel);
        Assert.Equal(IcrRxt0 | IcrRxdmt0, h.Nic.Read(Icr) & (IcrRxt0 | IcrRxdmt0));
        h.Nic.Machine.SyncInterrupts();
        Assert.False(h.Nic.IrqLevel);
    }

    [Fact]
    public void IrqSpuriousRaisesIntxWithNothingInIcr()
    {
        var h = new DataPlaneHarness();
        Arm(h, "irq-spurious,every=1ms,times=1");
        h.Nic.Machine.Scheduler.RunFor(Ms + (Ms / 2));
        Assert.True(h.Nic.IrqLevel);
        Assert.Equal(0u, h.Nic.Read(Icr));
        h.Nic.Machine.SyncInterrupts();
        Assert.False(h.Nic.IrqLevel);
        h.Nic.Machine.Scheduler.RunFor(5 * Ms);
        Assert.False(h.Nic.IrqLevel);
    }

    [Fact]
    public void EepromCorruptWordShowsInEerdAndInTheAddressLoadedAtReset()
    {
        var h = new DataPlaneHarness();
        Arm(h, "eeprom-corrupt,word=1,value=0x1234");
        Assert.Equal(0x1234, EerdRead(h, 1));
        Assert.Equal(EepromImage.Default82540Em()[2], EerdRead(h, 2));
        h.Nic.Write(CtrlExt, CtrlExtEeRst);
        Assert.Equal(0x1234u, h.Nic.Read(Ral0) >> 16);
    }

    [Fact]
    public void EepromCorruptChecksumBreaksTheSum()
    {
        var h = new DataPlaneHarness();
        Arm(h, "eeprom-corrupt,checksum");
        ushort sum = 0;
        for (int i = 0; i < EepromImage.WordCount; i++)
        {
            sum += EerdRead(h, i);
        }

        Assert.NotEqual(EepromImage.ChecksumTarget, sum);
    }

    private static ushort EerdRead(DataPlaneHarness h, int word)
    {
        h.Nic.Write(Eerd, ((uint)word << EerdAddrShift) | EerdStart);
        uint eerd = h.Nic.Read(Eerd);
        Assert.NotEqual(0u, eerd & EerdDone);
        return (ushort)(eerd >> EerdDataShift);
    }

    [Fact]
    public void EepromTimeoutNeverSetsEerdDoneNorGrantsEecd()
    {
        var h = new DataPlaneHarness();
        Arm(h, "eeprom-timeout");
        h.Nic.Write(Eerd, (1u << EerdAddrShift) | EerdStart);
        Assert.Equal(0u, h.Nic.Read(Eerd) & EerdDone);
        Assert.Equal(0u, h.Nic.Read(Eerd) & EerdDone);
        h.Nic.Write(Eecd, EecdReq);
        Assert.Equal(0u, h.Nic.Read(Eecd) & EecdGnt);
        h.Nic.Write(Eecd, 0);
        Assert.NotEqual(0u, h.Nic.Read(Eecd) & EecdGnt);   // no request pending: nothing withheld
        h.Nic.Write(Eecd, EecdReq);
        Assert.Equal(0u, h.Nic.Read(Eecd) & EecdGnt);
    }

    [Fact]
    public void MdicErrorAnswersEAndMdicTimeoutNeverSetsReady()
    {
        var h = new DataPlaneHarness();
        Arm(h, "mdic-error,only=1", "mdic-timeout,only=1");
        uint read = MdicOpRead | (1u << MdicPhyShift) | (2u << MdicRegShift);
        h.Nic.Write(Mdic, read);
        Assert.Equal(MdicReady | MdicError, h.Nic.Read(Mdic) & (MdicReady | MdicError));
        h.Nic.Write(Mdic, read);
        Assert.Equal(0u, h.Nic.Read(Mdic) & (MdicReady | MdicError));
        Assert.Equal(0x0141, h.Nic.PhyRead(2));   // the M88's OUI: the PHY itself is fine
    }

    [Fact]
    public void AutonegFailKeepsTheLinkDownUntilTheFaultEnds()
    {
        var h = new DataPlaneHarness();
        Arm(h, "autoneg-fail,until=2s");
        h.Nic.PhyWrite(0, (ushort)(h.Nic.PhyRead(0) | 0x1200));   // restart autonegotiation
        h.Nic.Machine.Scheduler.RunFor(1900 * Ms);
        Assert.Equal(0u, h.Nic.Read(Status) & StatusLu);
        h.Nic.Machine.Scheduler.RunFor(600 * Ms);
        Assert.NotEqual(0u, h.Nic.Read(Status) & StatusLu);
    }

    [Fact]
    public void AnArmedPlanWhoseFiltersMatchNothingAllocatesNothingPerFrame()
    {
        const int Ring = 64;
        var h = new DataPlaneHarness(rxCount: Ring, txCount: Ring);
        h.Device.Wire = new NullSink();
        Arm(h, "rx-crc-error,port=9", "rx-overrun,frames=3,ethertype=0x0806", "rx-bad-writeback,length=1,len=2000-3000", "dma-error,target=tx-desc,prob=0", "irq-lost,prob=0", "dd-withheld,prob=0", "tx-hang,after=1000s");
        byte[] frame = Frame();
        byte[][] descriptors = new byte[Ring][];
        for (int i = 0; i < Ring; i++)
        {
            descriptors[i] = DataPlaneHarness.Legacy(h.TxBuffer(i, frame), frame.Length, TxdCmdEop | TxdCmdRs);
        }

        E1000Device device = h.Device;
        uint tail = 0;
        void Round(int frames)
        {
            for (int i = 0; i < frames; i++)
            {
                device.ReceiveFrame(frame);
                device.WriteRegister(Rdt, (device.ReadRegister(Rdh) + Ring - 1) % Ring);
                h.Nic.Machine.Memory.TryWrite(DataPlaneHarness.TxRing + (tail * 16), descriptors[tail]);
                tail = (tail + 1) % Ring;
                device.WriteRegister(Tdt, tail);
                device.ReadRegister(Icr);
            }
        }

        Round(2_000);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Round(20_000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(22_000, h.Stats.RxDelivered);
        Assert.Equal(22_000, h.Stats.TxSent);
        Assert.Equal(0, allocated);
    }

    private sealed class NullSink : Emu.Emulator.Wire.IFrameSink
    {
        public void ReceiveFrame(ReadOnlySpan<byte> frame)
        {
        }
    }

    [Theory]
    [InlineData("rx-bad-writeback", "length=N or status")]
    [InlineData("rx-bad-writeback,status=0x100", "status byte")]
    [InlineData("eeprom-corrupt", "word=N,value")]
    [InlineData("eeprom-corrupt,word=64,value=1", "below 64")]
    [InlineData("eeprom-corrupt,word=3", "go together")]
    [InlineData("eeprom-corrupt,checksum,word=1,value=2", "one of them")]
    [InlineData("rx-overrun,frames=0", "at least 1")]
    [InlineData("tx-hang,for=0", "above 0")]
    public void DeviceKindsRefuseKeysThatDoNotGoTogether(string text, string expected)
    {
        Assert.False(FaultSpec.TryParse(text, out _, out string? error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.StartsWith(text.Split(',')[0] + ":", error, StringComparison.Ordinal);
    }

    [Fact]
    public void TheWireHooksGoToTheInnerLayer()
    {
        var h = new DataPlaneHarness();
        var inner = new CountingWire();
        h.Device.Faults = inner;
        Arm(h, "rx-crc-error,times=1");
        h.Receive(Frame());
        Assert.Equal(1, inner.Received);
        Assert.IsType<NicFaults>(h.Device.Faults);
    }

    private sealed class CountingWire : DeviceFaults
    {
        public int Received { get; private set; }

        public override bool WireReceive(ReadOnlySpan<byte> frame)
        {
            Received++;
            return false;
        }
    }
}
