using Emu.Emulator.E1000;
using Emu.Emulator.Machine;

namespace Emu.Tests.Emulator;

/// <summary>
/// The device's defence in depth (issue 19): no guest input reaches this path (the property and regression tests
/// prove the fixes); here a bus that itself fails makes an exception escape, and the device stops as a chip with an
/// internal error instead of taking the process with it.
/// </summary>
public sealed class DeviceGuardTests
{
    private sealed class FailingBus(IDmaMemory inner) : IDmaMemory
    {
        public bool Fail { get; set; }

        public bool TryRead(ulong address, Span<byte> destination) =>
            Fail ? throw new InvalidOperationException("bus failure") : inner.TryRead(address, destination);

        public bool TryWrite(ulong address, ReadOnlySpan<byte> source) => inner.TryWrite(address, source);
    }

    [Fact]
    public void ExceptionEscapingATdtWriteStopsTheDeviceAndNamesTheAccess()
    {
        var h = new DataPlaneHarness();
        var bus = new FailingBus(h.Device.Dma!);
        h.Device.Dma = bus;
        byte[] frame = Frames.Ethernet(Frames.PeerMac, 0x88B5, 100);
        h.PutTx(DataPlaneHarness.Legacy(h.TxBuffer(0, frame), frame.Length, E1000Bits.TxdCmdEop | E1000Bits.TxdCmdRs));
        bus.Fail = true;
        h.Kick();

        Assert.True(h.Device.Halted);
        Assert.Contains("write of TDT", h.Device.InternalError);
        Assert.Contains("bus failure", h.Device.InternalError);
        Assert.Equal(1, EmuHostExit(h.Device));

        // Stopped: no DMA, writes ignored, frames from the wire dropped and counted; reads still answer.
        bus.Fail = false;
        h.Nic.Write(E1000Reg.Tdt, 1);
        Assert.Empty(h.Probe.Frames);
        h.Receive(Frames.Ethernet(Frames.NicMac, 0x88B5, 100));
        Assert.Equal(1, h.Stats[E1000DropReason.RxDeviceHalted]);
        Assert.Equal(0, h.Stats.RxDelivered);
        Assert.NotEqual(0u, h.Nic.Read(E1000Reg.Status));
    }

    private static int EmuHostExit(E1000Device device)
    {
        var stderr = new StringWriter();
        int code = Emu.Host.EmuCommandLine.HaltedExit(device, stderr);
        Assert.Contains("internal error", stderr.ToString());
        return code == 3 ? 1 : 0;
    }
}
