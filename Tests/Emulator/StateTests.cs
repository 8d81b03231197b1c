using Emu.Emulator.E1000;

namespace Emu.Tests.Emulator;

/// <summary>The device's state is plain data: saved mid-autonegotiation and restored elsewhere, it carries on alike.</summary>
public sealed class StateTests
{
    [Fact]
    public void SavedStateRestoredOnAnotherMachineBehavesTheSame()
    {
        var original = new NicHarness();
        original.Write(E1000Reg.Ims, E1000Bits.IcrLsc);
        original.Write(E1000Reg.Fcal, 0x00C2_8001);
        original.Write(E1000Reg.Itr, 0x1000);
        original.Machine.Scheduler.RunFor(1_250_000);
        original.PhyWrite(M88Phy.Control, 0x1340);
        original.Machine.WriteIo(NicHarness.Bar1, 4, E1000Reg.Status);
        EepromTests.MicrowireRead(original, 5);
        E1000State saved = original.Nic.SaveState();
        long savedAt = original.Machine.Scheduler.Now;

        var copy = new NicHarness();
        copy.Machine.Scheduler.RunUntil(savedAt);
        copy.Nic.LoadState(saved);
        copy.Machine.SyncInterrupts();

        foreach (NicHarness nic in new[] { original, copy })
        {
            nic.Machine.Scheduler.RunUntil(savedAt + E1000Device.AutonegDurationNs);
        }

        Assert.Equal(original.IrqLevel, copy.IrqLevel);
        Assert.Equal(original.Machine.ReadIo(NicHarness.Bar1 + 4, 4), copy.Machine.ReadIo(NicHarness.Bar1 + 4, 4));
        for (uint offset = 0; offset < 0x6000; offset += 4)
        {
            Assert.Equal(original.Read(offset), copy.Read(offset));
        }

        Assert.Equal(original.PhyRead(M88Phy.StatusReg), copy.PhyRead(M88Phy.StatusReg));
        Assert.Equal(EepromTests.MicrowireRead(original, 9), EepromTests.MicrowireRead(copy, 9));
    }
}

/// <summary>Data-plane state survives a save and restore: frames waiting in the FIFO, a half-gathered packet.</summary>
public sealed class DataPlaneStateTests
{
    [Fact]
    public void FifoFramesAndAHalfGatheredPacketAreCarried()
    {
        var original = new DataPlaneHarness(fillRx: false);
        byte[] waiting = Frames.Ethernet(Frames.NicMac, 0x88B5, 300);
        original.Receive(waiting);
        byte[] frame = Frames.Ethernet(Frames.PeerMac, 0x88B5, 400);
        original.PutTx(DataPlaneHarness.Legacy(original.TxBuffer(0, frame.AsSpan(0, 100)), 100, 0));
        original.Kick();
        E1000State saved = original.Device.SaveState();
        Assert.Single(saved.RxFifo);

        var copy = new DataPlaneHarness(fillRx: false);
        copy.Device.LoadState(saved);
        copy.Nic.Machine.Memory.TryWrite(DataPlaneHarness.TxBuffers + DataPlaneHarness.BufferSpacing, frame.AsSpan(100));
        copy.Nic.Machine.Memory.TryWrite(DataPlaneHarness.TxRing + 16, DataPlaneHarness.Legacy(DataPlaneHarness.TxBuffers + DataPlaneHarness.BufferSpacing, frame.Length - 100, E1000Bits.TxdCmdEop | E1000Bits.TxdCmdRs));
        copy.Nic.Write(E1000Reg.Tdt, 2);
        Assert.Equal(frame, Assert.Single(copy.Probe.Frames));

        copy.Nic.Write(E1000Reg.Rdt, 4);
        Assert.Equal(1, copy.Stats.RxDelivered);
        Assert.Equal(waiting, copy.RxBuffer(0, waiting.Length));
    }
}
