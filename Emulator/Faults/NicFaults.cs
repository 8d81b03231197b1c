using Emu.Emulator.E1000;
using Emu.Emulator.Machine;
using Microsoft.Extensions.Logging;

namespace Emu.Emulator.Faults;

/// <summary>
/// The device kinds of issue 21 on one 82540EM, driven by a <see cref="FaultPlan"/>'s armed faults. Each hook asks the
/// faults of its kind in arming order (<see cref="Fault.TryFire(long, FaultDirection, ReadOnlySpan{byte})"/> for the
/// common triggers); the first that fires decides. <c>frames=N</c> and <c>descriptors=N</c> make one firing affect
/// that many events in a row (the first included, whatever the filters say of the rest). A kind given a count, and
/// <c>tx-hang</c> and <c>irq-lost</c>, fire once unless <c>times=</c>, <c>nth=</c> or <c>prob=</c> say otherwise. The
/// wire hooks go to the inner layer given (the wire part of the plan), so the two parts compose in either order.
/// Every firing is logged at Information. Hooks allocate nothing; the fault lists are rebuilt when the plan changes.
/// Use on the device's loop only.
/// </summary>
public sealed partial class NicFaults : DeviceFaults
{
    /// <summary>The level a spurious interrupt drives INTx with: ICR bit 31, reserved on the 82540EM (§13.4.17).</summary>
    private const uint SpuriousLevel = 0x8000_0000;

    private readonly E1000Device _device;
    private readonly FaultPlan _plan;
    private readonly DeviceFaults? _inner;
    private readonly ILogger _logger;
    private readonly VirtualTimer _hangTimer;
    private readonly Dictionary<Fault, ArmedFault> _states = [];

    private ArmedFault[] _crc = [];
    private ArmedFault[] _rxError = [];
    private ArmedFault[] _overrun = [];
    private ArmedFault[] _noBuffer = [];
    private ArmedFault[] _txHang = [];
    private ArmedFault[] _ddWithheld = [];
    private ArmedFault[] _badWriteback = [];
    private ArmedFault[] _dma = [];
    private ArmedFault[] _irqLost = [];
    private ArmedFault[] _eepromCorrupt = [];
    private ArmedFault[] _eepromTimeout = [];
    private ArmedFault[] _mdicError = [];
    private ArmedFault[] _mdicTimeout = [];
    private ArmedFault[] _autoneg = [];

    private bool _hung;
    private Fault? _hangFault;
    private bool _spurious;

    public NicFaults(E1000Device device, FaultPlan plan, DeviceFaults? inner = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(plan);
        _device = device;
        _plan = plan;
        _inner = inner;
        _logger = device.Logger;
        _hangTimer = device.CreateFaultTimer("fault tx-hang", EndHang);
        plan.Changed += Rebuild;
        Rebuild();
    }

    /// <summary>Whether the transmit unit is hung now (tx-hang).</summary>
    public bool TransmitUnitHung => _hung;

    /// <summary>Puts the plan's device faults on <paramref name="device"/>, in front of whatever fault layer it has.</summary>
    public static NicFaults Attach(E1000Device device, FaultPlan plan)
    {
        ArgumentNullException.ThrowIfNull(device);
        var faults = new NicFaults(device, plan, device.Faults);
        device.Faults = faults;
        return faults;
    }

    /// <summary>Stops following the plan (its timers stop; the device keeps the inner layer).</summary>
    public void Detach()
    {
        _plan.Changed -= Rebuild;
        foreach (ArmedFault state in _states.Values)
        {
            state.Timer?.Cancel();
        }

        _hangTimer.Cancel();
        _hung = false;
        if (_device.Faults == this)
        {
            _device.Faults = _inner;
        }
    }

    private long Now => _device.Scheduler.Now;

    // ---- The wire hooks belong to the wire part ----

    public override bool WireTransmit(ReadOnlySpan<byte> frame) => _inner is { } inner && inner.WireTransmit(frame);

    public override bool WireReceive(ReadOnlySpan<byte> frame) => _inner is { } inner && inner.WireReceive(frame);

    // ---- Receive ----

    public override ReceiveFault Receive(ReadOnlySpan<byte> frame)
    {
        if (Affects(_overrun, FaultDirection.Rx, frame))
        {
            return ReceiveFault.Overrun;
        }

        if (Affects(_crc, FaultDirection.Rx, frame))
        {
            return ReceiveFault.CrcError;
        }

        if (Affects(_rxError, FaultDirection.Rx, frame))
        {
            return ReceiveFault.RxError;
        }

        return Affects(_noBuffer, FaultDirection.Rx, frame) ? ReceiveFault.NoBuffer : ReceiveFault.None;
    }

    public override bool ReceiveWriteback(ReadOnlySpan<byte> frame, ref ushort length, ref byte status)
    {
        foreach (ArmedFault state in _badWriteback)
        {
            if (Fire(state, FaultDirection.Rx, frame))
            {
                FaultSpec spec = state.Fault.Spec;
                length = spec.Has("length") ? (ushort)spec.Number("length", length) : length;
                status = spec.Has("status") ? (byte)spec.Number("status", status) : status;
                return true;
            }
        }

        return false;
    }

    public override bool WithholdDescriptorDone(FaultDirection direction) => Affects(_ddWithheld, direction, default);

    public override bool DmaFails(DmaTarget target, ulong address)
    {
        FaultDirection direction = (target & (DmaTarget.RxDescriptor | DmaTarget.RxBuffer)) != 0 ? FaultDirection.Rx : FaultDirection.Tx;
        foreach (ArmedFault state in _dma)
        {
            if ((state.Target & target) != 0 && Fire(state, direction, default))
            {
                return true;
            }
        }

        return false;
    }

    // ---- Transmit ----

    public override bool TransmitHung()
    {
        if (_hung)
        {
            return true;
        }

        foreach (ArmedFault state in _txHang)
        {
            if (Fire(state, FaultDirection.Tx, default))
            {
                _hung = true;
                _hangFault = state.Fault;
                long duration = state.Fault.Spec.Nanoseconds("for", 0);
                if (duration > 0)
                {
                    _hangTimer.ArmIn(duration);
                }

                return true;
            }
        }

        return false;
    }

    private void EndHang()
    {
        _hung = false;
        Log.TransmitResumed(_logger);
        _device.ResumeTransmit();
    }

    public override void DeviceReset()
    {
        if (_hung)
        {
            // §13.4.1 CTRL.RST: the transmit unit starts afresh.
            _hung = false;
            _hangTimer.Cancel();
            Log.TransmitResumed(_logger);
        }

        _spurious = false;
    }

    // ---- Interrupts ----

    public override uint InterruptPending(uint pending, bool asserted)
    {
        if (_irqLost.Length == 0 && !_spurious)
        {
            return pending;
        }

        // One firing loses one assertion: the causes stay in ICR and the line stays low for this evaluation only.
        // The next time the device evaluates its line (a new cause, an ICS or IMS write, an ICR clear), INTx rises
        // as the level ICR & IMS says, unless the fault fires again. INTx is level-triggered (§13.4.17), so a cause
        // kept hidden until ICR is read would hide the very ICS.RXDMT0 that Linux's watchdog uses to recover.
        if (pending != 0 && !asserted)
        {
            foreach (ArmedFault state in _irqLost)
            {
                if (Fire(state, FaultDirection.Both, default))
                {
                    pending = 0;
                    break;
                }
            }
        }

        return _spurious ? pending | SpuriousLevel : pending;
    }

    public override void InterruptCausesRead() => _spurious = false;

    private void SpuriousTick(ArmedFault state)
    {
        Fault fault = state.Fault;
        if (!fault.Armed)
        {
            return;
        }

        if (fault.TryFire(Now))
        {
            Log.Fired(_logger, fault.Id, fault.Spec.Kind.Name);
            _spurious = true;
            _device.RefreshInterrupt();
        }

        // Tick on while the fault can still fire: inside its window, short of times= and only=.
        FaultTrigger t = fault.Spec.Trigger;
        bool spent = (t.UntilNs != 0 && Now >= t.UntilNs) || (t.Times != 0 && fault.Fired >= t.Times) || (t.Only != 0 && fault.Eligible >= t.Only);
        if (!spent)
        {
            state.Timer!.ArmIn(state.Every);
        }
    }

    // ---- EEPROM, PHY, link ----

    public override ushort EepromWord(int address, ushort value)
    {
        foreach (ArmedFault state in _eepromCorrupt)
        {
            FaultSpec spec = state.Fault.Spec;
            bool checksum = spec.Has("checksum");
            int target = checksum ? EepromImage.WordCount - 1 : (int)spec.Number("word", 0);
            if (address == target && Fire(state, FaultDirection.Both, default))
            {
                // A changed checksum word (3Fh) makes words 00h–3Fh no longer sum to BABAh (the manual's EEPROM map).
                return checksum ? (ushort)~value : (ushort)spec.Number("value", value);
            }
        }

        return value;
    }

    public override bool EepromRequestHangs(bool eerd) => FireAny(_eepromTimeout);

    public override MdicFault PhyAccess(uint command)
        => FireAny(_mdicError) ? MdicFault.Error : FireAny(_mdicTimeout) ? MdicFault.Timeout : MdicFault.None;

    public override bool AutonegFails() => FireAny(_autoneg);

    // ---- Triggers ----

    private bool FireAny(ArmedFault[] states)
    {
        foreach (ArmedFault state in states)
        {
            if (Fire(state, FaultDirection.Both, default))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>An event of a kind with a count: a burst in progress takes it, else the first fault that fires.</summary>
    private bool Affects(ArmedFault[] states, FaultDirection direction, ReadOnlySpan<byte> frame)
    {
        foreach (ArmedFault state in states)
        {
            if (state.Left > 0 && state.Fault.Armed && (state.Fault.Spec.Trigger.Direction & direction) != 0)
            {
                state.Left--;
                return true;
            }
        }

        foreach (ArmedFault state in states)
        {
            if (Fire(state, direction, frame))
            {
                state.Left = state.Count - 1;
                return true;
            }
        }

        return false;
    }

    private bool Fire(ArmedFault state, FaultDirection direction, ReadOnlySpan<byte> frame)
    {
        Fault fault = state.Fault;
        if (state.OneShot && fault.Fired > 0)
        {
            return false;
        }

        if (!fault.TryFire(Now, direction, frame))
        {
            return false;
        }

        Log.Fired(_logger, fault.Id, fault.Spec.Kind.Name);
        return true;
    }

    private void Rebuild()
    {
        foreach ((Fault fault, ArmedFault state) in _states)
        {
            if (!fault.Armed)
            {
                state.Timer?.Cancel();
            }
        }

        _crc = Of(FaultKind.RxCrcError);
        _rxError = Of(FaultKind.RxError);
        _overrun = Of(FaultKind.RxOverrun);
        _noBuffer = Of(FaultKind.RxNoBuffer);
        _txHang = Of(FaultKind.TxHang);
        _ddWithheld = Of(FaultKind.DdWithheld);
        _badWriteback = Of(FaultKind.RxBadWriteback);
        _dma = Of(FaultKind.DmaError);
        _irqLost = Of(FaultKind.IrqLost);
        _eepromCorrupt = Of(FaultKind.EepromCorrupt);
        _eepromTimeout = Of(FaultKind.EepromTimeout);
        _mdicError = Of(FaultKind.MdicError);
        _mdicTimeout = Of(FaultKind.MdicTimeout);
        _autoneg = Of(FaultKind.AutonegFail);
        foreach (ArmedFault state in Of(FaultKind.IrqSpurious))
        {
            if (state.Timer is null)
            {
                state.Timer = _device.CreateFaultTimer($"fault {state.Fault.Id} irq-spurious", () => SpuriousTick(state));
                state.Timer.ArmIn(state.Every);
            }
        }

        if (_hung && _hangFault is { Armed: false })
        {
            // The hang's fault was disarmed: the transmit unit comes back.
            _hangTimer.Cancel();
            EndHang();
        }
    }

    private ArmedFault[] Of(FaultKind kind)
    {
        var list = new List<ArmedFault>();
        foreach (Fault fault in _plan.Armed(kind))
        {
            if (!_states.TryGetValue(fault, out ArmedFault? state))
            {
                state = new ArmedFault(fault);
                _states.Add(fault, state);
            }

            list.Add(state);
        }

        return [.. list];
    }

    /// <summary>A fault of the plan as this device follows it: its burst in progress and its decoded keys.</summary>
    private sealed class ArmedFault
    {
        public ArmedFault(Fault fault)
        {
            Fault = fault;
            FaultSpec spec = fault.Spec;
            FaultTrigger t = spec.Trigger;
            bool counted = spec.Has("frames") || spec.Has("descriptors");
            Count = Math.Max(1, (long)spec.Number("frames", spec.Number("descriptors", 1)));
            OneShot = (counted || spec.Kind == FaultKind.TxHang || spec.Kind == FaultKind.IrqLost)
                && t.Times == 0 && t.Nth == 0 && t.Probability >= 1;
            Every = Math.Max(1, spec.Nanoseconds("every", 1_000_000_000));
            Target = spec.Word("target") switch
            {
                "rx-desc" => DmaTarget.RxDescriptor,
                "rx-buffer" => DmaTarget.RxBuffer,
                "tx-desc" => DmaTarget.TxDescriptor,
                "tx-buffer" => DmaTarget.TxBuffer,
                _ => DmaTarget.All,
            };
        }

        public Fault Fault { get; }

        /// <summary>Events one firing affects (frames=, descriptors=; 1 without).</summary>
        public long Count { get; }

        /// <summary>Events of the current burst still to come.</summary>
        public long Left { get; set; }

        public bool OneShot { get; }

        public long Every { get; }

        public DmaTarget Target { get; }

        public VirtualTimer? Timer { get; set; }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2101, Level = LogLevel.Information, Message = "e1000: fault {Id} {Kind} fired")]
        public static partial void Fired(ILogger logger, int id, string kind);

        [LoggerMessage(EventId = 2102, Level = LogLevel.Information, Message = "e1000: the transmit unit runs again")]
        public static partial void TransmitResumed(ILogger logger);
    }
}
