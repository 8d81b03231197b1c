using System.Buffers.Binary;
using Emu.Emulator.E1000;
using Emu.Emulator.Faults;
using Emu.Emulator.Machine;
using Emu.Emulator.Wire;

namespace Emu.Tests.Faults;

/// <summary>
/// One e1000 whose transmitted frames a recording sink takes, with a plan attached: <see cref="Send"/> hands a frame
/// to the fault layer as the device's transmit path does (and on to the wire when no fault takes it).
/// </summary>
internal sealed class WireFaultHarness : IFrameSink
{
    public WireFaultHarness(int seed, params string[] specs)
    {
        Assert.True(FaultPlan.TryCreate(seed, specs, null, out FaultPlan? plan, out string? error), error);
        Plan = plan;
        Device = new E1000Device(Scheduler, EepromImage.Default82540Em());
        Device.Wire = this;
        Injector = FaultInjector.Attach(Device, plan);
    }

    public EventScheduler Scheduler { get; } = new();

    public E1000Device Device { get; }

    public FaultPlan Plan { get; }

    public FaultInjector Injector { get; }

    /// <summary>What reached the wire: the virtual time and the frame's bytes.</summary>
    public List<(long Time, byte[] Frame)> Received { get; } = [];

    public void ReceiveFrame(ReadOnlySpan<byte> frame) => Received.Add((Scheduler.Now, frame.ToArray()));

    public void Send(ReadOnlySpan<byte> frame)
    {
        if (!Device.Faults!.WireTransmit(frame))
        {
            Device.SendToWire(frame);
        }
    }

    /// <summary>A frame of <paramref name="length"/> bytes carrying <paramref name="sequence"/> at byte 14.</summary>
    public static byte[] Frame(int sequence, int length = 100)
    {
        byte[] frame = new byte[length];
        new byte[] { 0x52, 0x54, 0x00, 0x12, 0x34, 0x57, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x88, 0xB5 }.CopyTo(frame, 0);
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(14), sequence);
        return frame;
    }

    public static int Sequence(byte[] frame) => BinaryPrimitives.ReadInt32BigEndian(frame.AsSpan(14));
}
