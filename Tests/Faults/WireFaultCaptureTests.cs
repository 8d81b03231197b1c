using System.Text;
using Emu.Emulator.E1000;
using Emu.Emulator.Faults;
using Emu.Emulator.Wire;
using Emu.Tests.Emulator;

namespace Emu.Tests.Faults;

/// <summary>Accounting (capture comments naming the fault), determinism (same seed and plan, same capture) and link-flap.</summary>
public sealed class WireFaultCaptureTests
{
    private static readonly string[] Plan =
    [
        "loss-ge,p=0.05,r=0.3",
        "delay,time=1ms,jitter=500us,dist=normal",
        "corrupt,prob=0.1",
        "duplicate,prob=0.05",
    ];

    [Fact]
    public void SameSeedAndPlanGiveByteIdenticalCaptures()
    {
        byte[] first = Capture(42);
        byte[] second = Capture(42);
        byte[] other = Capture(43);
        Assert.Equal(first, second);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public void FaultedFramesAreInTheCaptureWithACommentNamingTheFault()
    {
        string text = Encoding.UTF8.GetString(Capture(42));
        Assert.Contains("dropped: fault 1 loss-ge", text);
        Assert.Contains("fault 2 delay", text);
        Assert.Contains("fault 2 delay, fault 3 corrupt", text);
        Assert.Contains("fault 4 duplicate", text);
    }

    [Fact]
    public void LinkFlapTakesTheCarrierDownThenUpWithLsc()
    {
        var nic = new NicHarness();
        nic.Write(E1000Reg.Ctrl, E1000Bits.CtrlSlu);
        nic.Machine.Scheduler.RunFor(1_000_000_000);
        Assert.NotEqual(0u, nic.Read(E1000Reg.Status) & E1000Bits.StatusLu);
        nic.Read(E1000Reg.Icr);

        Assert.True(FaultPlan.TryCreate(1, ["link-flap,down=1s,after=2s,every=5s,times=2"], null, out FaultPlan? plan, out string? error), error);
        FaultInjector.Attach(nic.Nic, plan);
        nic.Machine.Scheduler.RunFor(1_500_000_000);   // t = 2.5 s: down
        Assert.Equal(0u, nic.Read(E1000Reg.Status) & E1000Bits.StatusLu);
        Assert.NotEqual(0u, nic.Read(E1000Reg.Icr) & E1000Bits.IcrLsc);
        nic.Machine.Scheduler.RunFor(1_500_000_000);   // t = 4 s: up again (after autonegotiation)
        Assert.NotEqual(0u, nic.Read(E1000Reg.Status) & E1000Bits.StatusLu);
        Assert.NotEqual(0u, nic.Read(E1000Reg.Icr) & E1000Bits.IcrLsc);
        nic.Machine.Scheduler.RunFor(4_000_000_000);   // t = 8 s: the second flap (at 7 s)
        Assert.Equal(0u, nic.Read(E1000Reg.Status) & E1000Bits.StatusLu);
        nic.Machine.Scheduler.RunFor(10_000_000_000);  // times=2: no third
        Assert.NotEqual(0u, nic.Read(E1000Reg.Status) & E1000Bits.StatusLu);
        Assert.Equal(2, plan.Faults[0].Fired);
    }

    [Fact]
    public void ReceiveSideFaultsActBeforeTheDeviceAndReachTheCapture()
    {
        var h = new DataPlaneHarness();
        Assert.True(FaultPlan.TryCreate(3, ["delay,time=2ms,dir=rx", "loss,dir=rx,only=2"], null, out FaultPlan? plan, out string? error), error);
        FaultInjector.Attach(h.Device, plan);
        using var stream = new MemoryStream();
        using var capture = new PacketCapture(stream, h.Nic.Machine.Scheduler, ownsStream: false);
        h.Device.Tap = capture;
        byte[] frame = Frames.Ethernet(Frames.NicMac, 0x88B5, 100);
        h.Device.ReceiveFrame(frame);
        h.Device.ReceiveFrame(frame);
        h.Device.ReceiveFrame(frame);
        h.Nic.Machine.Scheduler.RunFor(1_000_000);
        Assert.Equal(0, h.Stats.RxDelivered);
        h.Nic.Machine.Scheduler.RunFor(2_000_000);
        Assert.Equal(2, h.Stats.RxDelivered);
        string text = Encoding.UTF8.GetString(stream.ToArray());
        Assert.Contains("dropped: fault 2 loss", text);
        Assert.Contains("fault 1 delay", text);
    }

    private static byte[] Capture(int seed)
    {
        var h = new WireFaultHarness(seed, Plan);
        using var stream = new MemoryStream();
        using (var capture = new PacketCapture(stream, h.Scheduler, ownsStream: false))
        {
            h.Device.Tap = capture;
            for (int i = 0; i < 2000; i++)
            {
                h.Send(WireFaultHarness.Frame(i));
                h.Scheduler.RunFor(200_000);
            }

            h.Scheduler.RunFor(10_000_000);
        }

        return stream.ToArray();
    }
}
