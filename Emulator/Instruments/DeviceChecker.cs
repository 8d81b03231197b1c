using System.Buffers.Binary;
using System.Globalization;
using Emu.Emulator.E1000;
using Emu.Emulator.Machine;
using static Emu.Emulator.E1000.E1000Bits;
using static Emu.Emulator.E1000.E1000Reg;

namespace Emu.Emulator.Instruments;

/// <summary>
/// <c>--check</c>: watches the driver through the device's probe and warns, one line each with the virtual time, the
/// rule and the manual's section, where it does what the 8254x manual forbids or warns against (<see cref="CheckRules"/>).
/// Ring geometry is judged when the device would use the ring (a tail written or the unit enabled with descriptors
/// queued), not while a driver is still programming or pattern-testing the registers. Each rule prints its first
/// <see cref="PrintLimit"/> warnings and counts all.
/// </summary>
public sealed class DeviceChecker : DeviceProbe
{
    public const int PrintLimit = 20;

    /// <summary>
    /// How long an enabled cause may hold INTx with no ICR access before <see cref="CheckRules.CauseNeverCleared"/>:
    /// Emu's threshold (the manual gives none), well past Linux's 2 s watchdog that reads ICR through its forced interrupt.
    /// </summary>
    public const long UnclearedCauseNs = 1_000_000_000;

    private const uint DescriptorSize = 16;   // §3.2.3, §3.3: both rings' descriptors
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;
    private readonly E1000Device _device;
    private readonly EventScheduler _clock;
    private readonly TraceWriter _trace;
    private readonly Dictionary<CheckRule, long> _counts = [];
    private readonly string?[] _lastRingReport = new string?[2];
    private uint _writtenTdbal;
    private uint _writtenRdbal;
    private uint _writtenTdlen;
    private uint _writtenRdlen;
    private bool _mdicAwaitingReady;
    private string? _queuedWhileDisabled;
    private long _assertedSince = -1;
    private bool _assertionReported;
    private uint _pendingReadOnlyOffset = uint.MaxValue;
    private uint _pendingReadOnlyValue;

    public DeviceChecker(E1000Device device, TraceWriter trace)
    {
        _device = device;
        _clock = device.Scheduler;
        _trace = trace;
    }

    /// <summary>Warnings so far, by rule.</summary>
    public IReadOnlyDictionary<CheckRule, long> Counts => _counts;

    public long Total => _counts.Values.Sum();

    public override void RegisterRead(uint offset, uint value)
    {
        FlushReadOnlyWrite(readBack: offset);
        CheckUnclearedCause();
        RegisterInfo? row = E1000RegisterMap.At((offset & (WindowSize - 1)) >> 2);
        if (row is null)
        {
            Warn(CheckRules.ReservedRegister, $"read of reserved offset 0x{offset:x5}");
            return;
        }

        if (row.Access == RegisterAccess.WriteOnly || offset is Imc or Ics)
        {
            Warn(CheckRules.ReadOfWriteOnly, $"read of {row.NameAt(offset)}, which is write-only");
        }

        if (offset == Mdic && (value & (MdicReady | MdicError)) != 0)
        {
            _mdicAwaitingReady = false;
        }

        if (offset == Icr)
        {
            ClearedCauses();
        }
    }

    public override void RegisterWriting(uint offset, uint value)
    {
        FlushReadOnlyWrite(readBack: uint.MaxValue);
        CheckUnclearedCause();
        RegisterInfo? row = E1000RegisterMap.At((offset & (WindowSize - 1)) >> 2);
        if (row is null)
        {
            Warn(CheckRules.ReservedRegister, $"write of 0x{value:x8} to reserved offset 0x{offset:x5}");
            return;
        }

        // MANC is exempt: Linux's e1000_reset_hw clears its ARP_EN after every reset of an 82540 or later, a control
        // bit the manual gives the host; the model keeps MANC read-only as QEMU does, but the driver is not wrong.
        if ((row.Access is RegisterAccess.ReadOnly or RegisterAccess.Counter or RegisterAccess.CounterLow or RegisterAccess.CounterHigh || offset == Status)
            && offset != Manc)
        {
            // Writing back the value it holds (a restore) changes nothing; otherwise judged at the next access: a
            // read-back of the same register makes it a register test (Linux's ethtool -t does both to STATUS).
            if (value == _device[offset])
            {
                return;
            }

            _pendingReadOnlyOffset = offset;
            _pendingReadOnlyValue = value;
            return;
        }

        switch (offset)
        {
            case Tdbal:
                _writtenTdbal = value;
                break;
            case Rdbal:
                _writtenRdbal = value;
                break;
            case Tdlen:
                _writtenTdlen = value;
                break;
            case Rdlen:
                _writtenRdlen = value;
                break;
            case Tdt:
                WritingTail(transmit: true, value);
                break;
            case Rdt:
                WritingTail(transmit: false, value);
                break;
            case Tdh:
                if ((_device[Tctl] & TctlEn) == 0)
                {
                    NeverSent("TDH was rewritten");
                }

                WritingHead(transmit: true, value);
                break;
            case Rdh:
                WritingHead(transmit: false, value);
                break;
            case Ctrl:
                if ((value & CtrlRst) != 0)
                {
                    NeverSent("the MAC was reset (CTRL.RST)");
                }

                break;
            case Tctl:
                if ((value & TctlEn) != 0)
                {
                    _queuedWhileDisabled = null;
                }

                if ((value & TctlEn) != 0 && (_device[Tctl] & TctlEn) == 0 && _device[Tdh] != _device[Tdt])
                {
                    CheckRing(transmit: true, _device[Tdh], _device[Tdt], "TCTL.EN set");
                }

                break;
            case Rctl:
                if ((value & RctlEn) != 0)
                {
                    if ((value & RctlBsex) != 0 && ((value >> RctlBsizeShift) & 3) == 0)
                    {
                        Warn(CheckRules.BufferSizeReserved, $"RCTL <- 0x{value:x8} enables receive with BSEX=1, BSIZE=00");
                    }

                    if ((_device[Rctl] & RctlEn) == 0 && _device[Rdh] != _device[Rdt])
                    {
                        CheckRing(transmit: false, _device[Rdh], _device[Rdt], "RCTL.EN set");
                    }
                }

                break;
            case Icr:
                ClearedCauses();
                break;
            case Eerd:
                if ((value & EerdStart) != 0 && (_device.Eeprom.Latched & EecdReq) != 0)
                {
                    Warn(CheckRules.EerdDuringEeReq, string.Create(C, $"EERD START (word {value >> EerdAddrShift}) while EECD.EE_REQ is set"));
                }

                break;
            case Mdic:
                if (_mdicAwaitingReady)
                {
                    Warn(CheckRules.MdicBeforeReady, $"MDIC <- 0x{value:x8} before READY of the previous operation was read");
                }

                _mdicAwaitingReady = (value & (MdicOpRead | MdicOpWrite)) != 0;
                break;
        }
    }

    public override void TxDescriptor(uint index, ReadOnlySpan<byte> d, bool statusWritten)
    {
        uint lower = BinaryPrimitives.ReadUInt32LittleEndian(d[8..]);
        if ((lower & TxdCmdDext) == 0 || ((lower >> 20) & 0xF) != 0 || (d[11] & (TxdCmdTse >> 24)) == 0)
        {
            return;
        }

        // A TSO context: the offsets the engine rewrites in each segment's header must lie in that header (§3.3.6).
        byte hdrlen = d[13];
        byte ipcss = d[0], ipcso = d[1], tucss = d[4], tucso = d[5];
        ushort ipcse = BinaryPrimitives.ReadUInt16LittleEndian(d[2..]);
        ushort tucse = BinaryPrimitives.ReadUInt16LittleEndian(d[6..]);
        string? problem = ipcss >= hdrlen ? $"IPCSS {ipcss}"
            : ipcso + 2 > hdrlen ? $"IPCSO {ipcso}"
            : tucss >= hdrlen ? $"TUCSS {tucss}"
            : tucso + 2 > hdrlen ? $"TUCSO {tucso}"
            : null;
        if (problem is not null)
        {
            Warn(CheckRules.ContextOffsets, string.Create(C, $"TXD[{index}] TSO context: {problem} lies past HDRLEN {hdrlen}"));
        }
        else if ((ipcse != 0 && ipcse < ipcss) || (tucse != 0 && tucse < tucss))
        {
            Warn(CheckRules.ContextOffsets, string.Create(C, $"TXD[{index}] TSO context: a checksum ends before it starts (IPCSS {ipcss} IPCSE {ipcse}, TUCSS {tucss} TUCSE {tucse})"));
        }
    }

    public override void Dma(ulong address, int length, bool write, bool ok)
    {
        if (!ok)
        {
            Warn(CheckRules.DmaOutsideMemory, string.Create(C, $"DMA {(write ? "write" : "read")} of {length} bytes at 0x{address:x} is outside guest memory"));
        }
    }

    public override void InterruptLine(bool asserted, uint causes)
    {
        if (asserted)
        {
            if (_assertedSince < 0)
            {
                _assertedSince = _clock.Now;
            }
        }
        else
        {
            _assertedSince = -1;
            _assertionReported = false;
        }
    }

    public override void TsoContextRejected(in E1000Device.TxContext context, string reason)
        => Warn(CheckRules.TsoContext, $"TSO packet refused: {reason}");

    /// <summary>The end of the run: what is still pending is judged, and the summary line is written.</summary>
    public void Finish(TextWriter output)
    {
        NeverSent("the run ended");
        FlushReadOnlyWrite(readBack: uint.MaxValue);
        CheckUnclearedCause();
        output.WriteLine(Summary());
    }

    public string Summary()
    {
        if (_counts.Count == 0)
        {
            return "emu: --check: no warnings";
        }

        IEnumerable<string> parts = CheckRules.All.Where(_counts.ContainsKey).Select(r => string.Create(C, $"{r.Id} {_counts[r]}"));
        return string.Create(C, $"emu: --check: {Total} warning{(Total == 1 ? string.Empty : "s")} ({string.Join(", ", parts)})");
    }

    private void WritingTail(bool transmit, uint value)
    {
        uint enable = transmit ? _device[Tctl] & TctlEn : _device[Rctl] & RctlEn;
        uint head = _device[transmit ? Tdh : Rdh];
        uint oldTail = _device[transmit ? Tdt : Rdt];
        if (enable == 0)
        {
            // Queuing ahead of TCTL.EN is allowed (Linux does it when a frame races the link-up that enables the
            // unit): the descriptors go when EN is set. It is wrong only if they never go.
            if (transmit && value != oldTail && _queuedWhileDisabled is null)
            {
                _queuedWhileDisabled = string.Create(C, $"TDT moved {oldTail} -> {value} at {TraceWriter.Time(_clock.Now).Trim()} s while TCTL.EN was clear");
            }

            return;
        }

        if (!CheckRing(transmit, head, value, transmit ? "TDT written" : "RDT written"))
        {
            return;
        }

        uint count = RingLength(transmit) / DescriptorSize;
        if (oldTail < count)
        {
            uint owned = (oldTail + count - head) % count;
            uint ownedAfter = (value + count - head) % count;
            if (ownedAfter < owned)
            {
                string name = transmit ? "TDT" : "RDT";
                Warn(CheckRules.DescriptorReclaimed, string.Create(C, $"{name} moved back {oldTail} -> {value} (head {head}): {owned - ownedAfter} descriptor(s) the device owned were taken back"));
            }
        }
    }

    private void NeverSent(string why)
    {
        if (_queuedWhileDisabled is { } queued)
        {
            _queuedWhileDisabled = null;
            Warn(CheckRules.TdtWhileDisabled, $"{queued}, and {why} before TCTL.EN was set: those descriptors were never sent");
        }
    }

    private void WritingHead(bool transmit, uint value)
    {
        bool enabled = transmit ? (_device[Tctl] & TctlEn) != 0 : (_device[Rctl] & RctlEn) != 0;
        if (!enabled)
        {
            return;
        }

        string name = transmit ? "TDH" : "RDH";
        uint count = RingLength(transmit) / DescriptorSize;
        Warn(CheckRules.HeadWhileEnabled, string.Create(C, $"{name} <- {value} while {(transmit ? "TCTL" : "RCTL")}.EN is set"));
        if (value >= count)
        {
            Warn(CheckRules.HeadOutsideRing, string.Create(C, $"{name} <- {value} is outside the ring of {count} descriptors; the engine stops"));
        }
    }

    /// <summary>Judges the ring the device is about to use; false when it is unusable.</summary>
    private bool CheckRing(bool transmit, uint head, uint tail, string when)
    {
        string ring = transmit ? "transmit" : "receive";
        uint writtenBase = transmit ? _writtenTdbal : _writtenRdbal;
        uint writtenLength = transmit ? _writtenTdlen : _writtenRdlen;
        uint length = RingLength(transmit);
        uint count = length / DescriptorSize;
        string key = string.Create(C, $"{writtenBase:x}/{writtenLength:x}/{head}/{tail >= count}");
        bool ok = count != 0 && head < count && tail < count;
        int slot = transmit ? 0 : 1;
        if (_lastRingReport[slot] == key)
        {
            return ok;   // this configuration was judged already
        }

        _lastRingReport[slot] = key;
        if ((writtenBase & 0xF) != 0)
        {
            Warn(CheckRules.RingBaseAlign, string.Create(C, $"{when}: the {ring} ring's base 0x{writtenBase:x8} is not 16-byte aligned (the device uses 0x{writtenBase & ~0xFu:x8})"));
        }

        if (writtenLength % 128 != 0 || length == 0)
        {
            Warn(CheckRules.RingLength, string.Create(C, $"{when}: {(transmit ? "TDLEN" : "RDLEN")} 0x{writtenLength:x} is {(length == 0 ? "no ring at all" : "not a multiple of 128")}"));
        }

        if (count != 0 && head >= count)
        {
            Warn(CheckRules.HeadOutsideRing, string.Create(C, $"{when}: {(transmit ? "TDH" : "RDH")} {head} is outside the ring of {count} descriptors"));
        }

        if (count != 0 && tail >= count)
        {
            Warn(CheckRules.TailOutsideRing, string.Create(C, $"{when}: {(transmit ? "TDT" : "RDT")} {tail} is outside the ring of {count} descriptors"));
        }

        return ok;
    }

    private uint RingLength(bool transmit) => _device[transmit ? Tdlen : Rdlen];

    private void ClearedCauses()
    {
        if (_device.IntxLevel && _assertedSince >= 0)
        {
            _assertedSince = _clock.Now;   // still asserted by a new cause: the clock starts again
        }

        _assertionReported = false;
    }

    private void CheckUnclearedCause()
    {
        if (_assertedSince < 0 || _assertionReported || !_device.IntxLevel || _clock.Now - _assertedSince < UnclearedCauseNs)
        {
            return;
        }

        _assertionReported = true;
        uint causes = _device[Icr] & _device[Ims];
        Warn(CheckRules.CauseNeverCleared, string.Create(C, $"INTx asserted by {RegisterDecoder.Causes(causes)} for {(_clock.Now - _assertedSince) / 1e9:F1} s with no ICR read or write"));
    }

    private void FlushReadOnlyWrite(uint readBack)
    {
        uint offset = _pendingReadOnlyOffset;
        if (offset == uint.MaxValue)
        {
            return;
        }

        _pendingReadOnlyOffset = uint.MaxValue;
        if (readBack != offset)
        {
            Warn(CheckRules.WriteOfReadOnly, $"write of 0x{_pendingReadOnlyValue:x8} to {RegisterDecoder.Name(offset)}, which is read-only");
        }
    }

    private void Warn(CheckRule rule, string message)
    {
        long count = _counts.TryGetValue(rule, out long n) ? n + 1 : 1;
        _counts[rule] = count;
        if (count <= PrintLimit)
        {
            _trace.Write($"CHECK {rule.Id} ({rule.Section}): {message}{(count == PrintLimit ? " (further warnings of this rule are counted, not shown)" : string.Empty)}");
        }
    }
}
