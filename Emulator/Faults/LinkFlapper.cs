using Emu.Emulator.E1000;
using Emu.Emulator.Machine;
using Microsoft.Extensions.Logging;

namespace Emu.Emulator.Faults;

/// <summary>
/// <c>link-flap</c>: the carrier goes off for <c>down=</c> and comes back, as a pulled and replugged cable
/// (<see cref="E1000Device.SetCarrier"/>: STATUS.LU falls and LSC is raised, §13.4.2, §13.4.17; on return the link
/// comes up after autonegotiation). First at <c>after=</c> (default: when armed), then every <c>every=</c> if given,
/// within <c>until=</c>; prob, nth, only and times apply to each flap. A carrier already off (a netdev with no peer)
/// is left alone; the carrier is the device's one cable, so a netdev peer that connects or leaves during a flap sets it
/// too, and the flap's end turns it on whatever the peer did meanwhile.
/// </summary>
public sealed partial class LinkFlapper
{
    private readonly E1000Device _device;
    private readonly ILogger _logger;
    private readonly VirtualTimer _downTimer;
    private readonly VirtualTimer _upTimer;
    private readonly long _down;
    private readonly long _every;
    private bool _tookDown;

    public LinkFlapper(E1000Device device, Fault fault, ILogger logger)
    {
        _device = device;
        _logger = logger;
        Fault = fault;
        _down = fault.Spec.Nanoseconds("down", 1_000_000_000);
        _every = fault.Spec.Nanoseconds("every", 0);
        _downTimer = device.Scheduler.CreateTimer($"{fault.Label} down", OnDown);
        _upTimer = device.Scheduler.CreateTimer($"{fault.Label} up", OnUp);
        _downTimer.Arm(Math.Max(device.Scheduler.Now, fault.Spec.Trigger.AfterNs));
    }

    public Fault Fault { get; }

    /// <summary>Disarmed: no further flap; a carrier this fault took down comes back now.</summary>
    public void Stop()
    {
        _downTimer.Cancel();
        if (_upTimer.IsPending)
        {
            _upTimer.Cancel();
            OnUp();
        }
    }

    private void OnDown()
    {
        long now = _device.Scheduler.Now;
        if (_every > 0)
        {
            long until = Fault.Spec.Trigger.UntilNs;
            if (until == 0 || now + _every < until)
            {
                _downTimer.Arm(now + _every);
            }
        }

        if (!_device.Carrier || !Fault.TryFire(now))
        {
            return;
        }

        _tookDown = true;
        Log.Down(_logger, Fault.Id, _down / 1e6);
        _device.SetCarrier(false);
        _upTimer.Arm(now + _down);
    }

    private void OnUp()
    {
        if (!_tookDown)
        {
            return;
        }

        _tookDown = false;
        Log.Up(_logger, Fault.Id);
        _device.SetCarrier(true);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2152, Level = LogLevel.Information, Message = "fault {Id} link-flap: carrier off for {Milliseconds} ms")]
        public static partial void Down(ILogger logger, int id, double milliseconds);

        [LoggerMessage(EventId = 2153, Level = LogLevel.Information, Message = "fault {Id} link-flap: carrier back on")]
        public static partial void Up(ILogger logger, int id);
    }
}
