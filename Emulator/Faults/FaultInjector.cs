using Emu.Emulator.E1000;
using Microsoft.Extensions.Logging;

namespace Emu.Emulator.Faults;

/// <summary>
/// Where a plan meets one device (issue 21): <see cref="Attach"/> makes the device's <see cref="DeviceFaults"/>, one
/// object whose wire hooks go to <see cref="Wire"/> (netem's kinds and link-flap) and whose device hooks go to the
/// NIC's own failures. Each part reads the plan and rebuilds itself when the plan changes, so one attach serves the
/// command line, the control socket and tests. A new part (the device kinds) is built in <see cref="Attach"/> beside
/// <see cref="Wire"/>, and each hook it adds to <see cref="DeviceFaults"/> is overridden here to call it; the wire part
/// ignores every kind whose <see cref="FaultKind.Site"/> is not <see cref="FaultSite.Wire"/>.
/// </summary>
public sealed class FaultInjector : DeviceFaults
{
    private FaultInjector(FaultPlan plan, WireFaults wire)
    {
        Plan = plan;
        Wire = wire;
    }

    public FaultPlan Plan { get; }

    /// <summary>The wire kinds on this device's port.</summary>
    public WireFaults Wire { get; }

    /// <summary>The device kinds (the device's <see cref="E1000Device.Faults"/>, with this object as its wire layer).</summary>
    public NicFaults? Nic { get; private set; }

    /// <summary>Arms <paramref name="plan"/> on <paramref name="device"/> (its <see cref="E1000Device.Faults"/>).</summary>
    public static FaultInjector Attach(E1000Device device, FaultPlan plan, ILogger? logger = null)
    {
        var injector = new FaultInjector(plan, new WireFaults(device, plan, logger));
        device.Faults = injector;

        // The NIC's own failures (NicFaults) wrap the wire part: device hooks there, wire hooks passed through to it.
        injector.Nic = NicFaults.Attach(device, plan);
        return injector;
    }

    public override bool WireTransmit(ReadOnlySpan<byte> frame) => Wire.WireTransmit(frame);

    public override bool WireReceive(ReadOnlySpan<byte> frame) => Wire.WireReceive(frame);
}
