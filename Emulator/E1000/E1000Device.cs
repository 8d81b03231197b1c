using Emu.Emulator.Faults;
using Emu.Emulator.Machine;
using Emu.Emulator.Pci;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using static Emu.Emulator.E1000.E1000Bits;
using static Emu.Emulator.E1000.E1000Reg;

namespace Emu.Emulator.E1000;

/// <summary>
/// The Intel 82540EM Gigabit Ethernet controller as a PCI function: configuration space, the 128 KiB register BAR,
/// the I/O BAR (IOADDR/IODATA), EEPROM, internal PHY and interrupt logic. The Intel 8254x manual decides behaviour;
/// QEMU's e1000 fills what it leaves open; each place we differ from QEMU is listed in <see cref="QemuDeviations"/>.
/// The device never calls out while handling an access: it updates its INTx level, and the machine delivers it after
/// the access returns.
/// </summary>
public sealed partial class E1000Device : PciFunction
{
    /// <summary>
    /// Frame buffers for the receive FIFO and loopback: a burst can hold dozens at once, more than ArrayPool.Shared
    /// keeps per size, so the device has its own pool and steady traffic allocates nothing.
    /// </summary>
    private static readonly System.Buffers.ArrayPool<byte> FramePool = System.Buffers.ArrayPool<byte>.Create(64 * 1024 + 512, 1024);

    public const ushort VendorIntel = 0x8086;
    public const ushort Device82540Em = 0x100E;

    /// <summary>QEMU's autonegotiation time (the manual gives none): 500 ms of virtual time.</summary>
    public const long AutonegDurationNs = 500_000_000;

    /// <summary>§13.4.18: the ITR interval unit.</summary>
    public const long ItrUnitNs = 256;

    /// <summary>The I/O BAR size as QEMU presents it (the manual gives 8 bytes in §4 and 32 in §13.2.2).</summary>
    public const uint IoBarSize = 0x40;

    /// <summary>The expansion ROM BAR size QEMU's e1000 presents (its iPXE image is 256 KiB).</summary>
    public const uint RomBarSize = 0x40000;

    private readonly uint[] _regs = new uint[E1000Reg.WindowSize / 4];
    private readonly VirtualTimer _throttleTimer;
    private readonly VirtualTimer _autonegTimer;
    private readonly ILogger _logger;
    private readonly bool[] _dmaErrorLogged = new bool[Enum.GetValues<E1000DropReason>().Length];
    private bool _intx;
    private bool _eerdHung;

    /// <param name="expansionRom">Whether the function has an expansion ROM BAR (QEMU's e1000 has one; under vfio-user
    /// the client finds none, as no ROM image is served).</param>
    public E1000Device(EventScheduler scheduler, EepromImage eeprom, ILogger? logger = null, bool expansionRom = true)
        : base("e1000")
    {
        Scheduler = scheduler;
        _logger = logger ?? NullLogger.Instance;
        Eeprom = new MicrowireEeprom(eeprom);
        _throttleTimer = CreateDeviceTimer("e1000 ITR", OnThrottleTimer);
        _autonegTimer = CreateDeviceTimer("e1000 autoneg", OnAutonegTimer);

        InitConfigSpace();
        RegisterBar = AddBar(0, PciBarKind.Memory32, E1000Reg.WindowSize, minAccessSize: 4);
        IoBar = AddBar(1, PciBarKind.Io, IoBarSize);
        RomBar = expansionRom ? AddBar(6, PciBarKind.ExpansionRom, RomBarSize) : null;
        ResetMac();
    }

    public EventScheduler Scheduler { get; }

    public PciBar RegisterBar { get; }

    public PciBar IoBar { get; }

    public PciBar? RomBar { get; }

    public MicrowireEeprom Eeprom { get; }

    public M88Phy Phy { get; } = new();

    /// <summary>IOADDR (I/O BAR offset 0, §13.2.2): the register IODATA reaches; bits 31:20 read 0.</summary>
    public uint IoAddr { get; private set; }

    /// <summary>Whether a link partner is present (the cable; for a netdev, a connected peer).</summary>
    public bool Carrier { get; private set; } = true;

    public override bool IntxLevel => _intx;

    /// <summary>Raw register file, one dword per BAR0 offset / 4 (for tests, snapshots and the data path).</summary>
    public Span<uint> Registers => _regs;

    public uint this[uint offset]
    {
        get => _regs[offset >> 2];
        set => _regs[offset >> 2] = value;
    }

    /// <summary>The reset of the whole device at power-up or RST#: PCI state, MAC registers and the PHY.</summary>
    public void PowerOnReset()
    {
        PciReset();
        _autonegTimer.Cancel();
        Phy.Reset();
        if (!Carrier)
        {
            Phy.SetLinkDown();
        }

        IoAddr = 0;
        ResetMac();
    }

    /// <summary>The link partner appears or goes away (a netdev peer connects or disconnects: a pulled cable).</summary>
    public void SetCarrier(bool up)
    {
        if (Carrier == up)
        {
            return;
        }

        Carrier = up;
        uint oldStatus = _regs[Status >> 2];
        if (!up)
        {
            _autonegTimer.Cancel();
            LinkDown();
        }
        else if (Phy.AutonegEnabled && !Phy.AutonegComplete)
        {
            RestartAutoneg();
        }
        else
        {
            Phy.SetLinkUp();
            _regs[Status >> 2] |= StatusLu;
        }

        if (_regs[Status >> 2] != oldStatus)
        {
            RaiseInterrupt(IcrLsc);
        }
    }

    /// <summary>A deep copy of the device's state (a snapshot).</summary>
    public E1000State SaveState()
    {
        var state = new E1000State
        {
            EecdLatched = Eeprom.Latched,
            EecdShiftIn = Eeprom.ShiftIn,
            EecdBitsIn = Eeprom.BitsIn,
            EecdOutputPosition = Eeprom.OutputPosition,
            EecdReading = Eeprom.Reading,
            IoAddr = IoAddr,
            Carrier = Carrier,
            IntxLevel = _intx,
            ThrottleDeadline = _throttleTimer.Deadline,
            AutonegDeadline = _autonegTimer.Deadline,
        };
        _regs.CopyTo(state.Registers, 0);
        Phy.Registers.CopyTo(state.PhyRegisters, 0);
        Eeprom.Image.Words.CopyTo(state.EepromWords);
        Config.Bytes.CopyTo(state.PciConfig);
        state.DelayDeadlines[0] = _rdtrTimer?.Deadline ?? -1;
        state.DelayDeadlines[1] = _radvTimer?.Deadline ?? -1;
        state.DelayDeadlines[2] = _tidvTimer?.Deadline ?? -1;
        state.DelayDeadlines[3] = _tadvTimer?.Deadline ?? -1;
        foreach ((byte[] buffer, int length, _) in _rxFifo)
        {
            state.RxFifo.Add(buffer.AsSpan(0, length).ToArray());
        }

        state.RxHeadCountedRnbc = _rxHeadCountedRnbc;
        state.TxPacket = _tx;
        state.TxPacketBytes = _txPacket.AsSpan(_tx.Tso ? TsoHeaderMax : 0, _tx.Length).ToArray();
        state.TsoHeader = _txHeader.AsSpan(0, _tx.HeaderFilled).ToArray();
        state.TxContext = _context;
        return state;
    }

    /// <summary>Puts a saved state back; timers are re-armed at their saved deadlines on this device's clock.</summary>
    public void LoadState(E1000State state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Registers.Length != _regs.Length || state.PhyRegisters.Length != Phy.Registers.Length)
        {
            throw new ArgumentException("The saved state is not an 82540EM's.", nameof(state));
        }

        state.Registers.CopyTo(_regs, 0);
        state.PhyRegisters.CopyTo(Phy.Registers, 0);
        Eeprom.Image = EepromImage.FromWords(state.EepromWords);
        Eeprom.Latched = state.EecdLatched;
        Eeprom.ShiftIn = state.EecdShiftIn;
        Eeprom.BitsIn = state.EecdBitsIn;
        Eeprom.OutputPosition = state.EecdOutputPosition;
        Eeprom.Reading = state.EecdReading;
        Config.Load(state.PciConfig);
        IoAddr = state.IoAddr;
        Carrier = state.Carrier;
        _intx = state.IntxLevel;
        Rearm(_throttleTimer, state.ThrottleDeadline);
        Rearm(_autonegTimer, state.AutonegDeadline);
        RxTimers();
        TxTimers();
        Rearm(_rdtrTimer!, state.DelayDeadlines[0]);
        Rearm(_radvTimer!, state.DelayDeadlines[1]);
        Rearm(_tidvTimer!, state.DelayDeadlines[2]);
        Rearm(_tadvTimer!, state.DelayDeadlines[3]);
        // The restored device replaces this one: what this one held is not a drop of the restored run.
        FlushReceiveFifo(countDrops: false);
        foreach (byte[] frame in state.RxFifo)
        {
            byte[] buffer = FramePool.Rent(Math.Max(frame.Length, 1));
            frame.CopyTo(buffer, 0);
            _rxFifo.Enqueue((buffer, frame.Length, (byte)0));
            _rxFifoBytes += frame.Length + 4;
        }

        _rxHeadCountedRnbc = state.RxHeadCountedRnbc;
        _tx = state.TxPacket;
        state.TxPacketBytes.CopyTo(_txPacket, _tx.Tso ? TsoHeaderMax : 0);
        state.TsoHeader.CopyTo(_txHeader, 0);
        _context = state.TxContext;
    }

    private static void Rearm(VirtualTimer timer, long deadline)
    {
        if (deadline >= 0)
        {
            timer.Arm(deadline);
        }
        else
        {
            timer.Cancel();
        }
    }

    // ---- BAR access ----

    public override ulong BarRead(PciBar bar, ulong offset, int size)
    {
        if (bar == RegisterBar)
        {
            return ReadRegister((uint)offset);
        }

        if (bar == IoBar)
        {
            return IoRead((uint)offset, size);
        }

        return 0;
    }

    public override void BarWrite(PciBar bar, ulong offset, int size, ulong value)
    {
        if (bar == RegisterBar)
        {
            WriteRegister((uint)offset, (uint)value);
        }
        else if (bar == IoBar)
        {
            IoWrite((uint)offset, size, (uint)value);
        }
    }

    /// <summary>A 32-bit register read at a BAR0 offset; the low two offset bits are ignored.</summary>
    public uint ReadRegister(uint offset)
    {
        try
        {
            uint value = ReadRegisterCore(offset);
            Probe?.RegisterRead(offset & ~3u, value);
            return value;
        }
        catch (Exception e) when (Halt(e, "read", offset))
        {
            return 0;
        }
    }

    /// <summary>A 32-bit register write at a BAR0 offset; the low two offset bits are ignored.</summary>
    public void WriteRegister(uint offset, uint value)
    {
        if (Halted)
        {
            return;   // a chip that hit an internal error takes no more commands
        }

        try
        {
            Probe?.RegisterWriting(offset & ~3u, value);
            WriteRegisterCore(offset, value);
        }
        catch (Exception e) when (Halt(e, "write", offset, value))
        {
        }
    }

    private uint ReadRegisterCore(uint offset)
    {
        uint index = (offset & (E1000Reg.WindowSize - 1)) >> 2;
        RegisterInfo? row = E1000RegisterMap.At(index);
        if (row is null)
        {
            return 0;
        }

        switch (row.Access)
        {
            case RegisterAccess.WriteOnly:
                return 0;
            case RegisterAccess.Counter:
                {
                    uint value = _regs[index];
                    _regs[index] = 0;
                    return value;
                }

            case RegisterAccess.CounterHigh:
                {
                    uint value = _regs[index];
                    _regs[index] = 0;
                    _regs[index - 1] = 0;
                    return value;
                }

            case RegisterAccess.Special:
                return ReadSpecial(index << 2);
            default:
                return _regs[index];
        }
    }

    private void WriteRegisterCore(uint offset, uint value)
    {
        uint index = (offset & (E1000Reg.WindowSize - 1)) >> 2;
        RegisterInfo? row = E1000RegisterMap.At(index);
        if (row is null)
        {
            return;
        }

        switch (row.Access)
        {
            case RegisterAccess.ReadWrite:
                _regs[index] = value & row.WriteMask;
                break;
            case RegisterAccess.WriteOneToClear:
                _regs[index] &= ~value;
                break;
            case RegisterAccess.Special:
                WriteSpecial(index << 2, value, row);
                break;
            default:
                // Read-only registers and statistics ignore writes.
                break;
        }
    }

    // ---- Statistics (§13.7): saturating counters for the receive and transmit paths ----

    public void IncrementCounter(uint offset)
    {
        ref uint counter = ref _regs[offset >> 2];
        if (counter != uint.MaxValue)
        {
            counter++;
        }
    }

    public void AddCounter64(uint lowOffset, ulong amount)
    {
        ulong value = _regs[lowOffset >> 2] | ((ulong)_regs[(lowOffset >> 2) + 1] << 32);
        value = value > ulong.MaxValue - amount ? ulong.MaxValue : value + amount;
        _regs[lowOffset >> 2] = (uint)value;
        _regs[(lowOffset >> 2) + 1] = (uint)(value >> 32);
    }

    // ---- Interrupts (§13.4.17–21) ----

    /// <summary>ORs causes into ICR and re-evaluates the line.</summary>
    public void RaiseInterrupt(uint causes) => SetInterruptCauses(_regs[Icr >> 2] | causes);

    private void SetInterruptCauses(uint icr)
    {
        _regs[Icr >> 2] = icr;
        UpdateInterrupt();
    }

    /// <summary>
    /// The line is ICR &amp; IMS. ITR (§13.4.18) guarantees a minimum gap between asserted interrupts: after the line
    /// rises, a new rising edge waits until ITR × 256 ns have passed; ITR = 0 disables throttling.
    /// </summary>
    private void UpdateInterrupt()
    {
        uint pending = _regs[Icr >> 2] & _regs[Ims >> 2];
        if (_faults is { } faults)
        {
            pending = faults.InterruptPending(pending, _intx);   // irq-lost, irq-spurious
        }

        if (pending != 0 && !_intx)
        {
            if (_throttleTimer.IsPending)
            {
                return;
            }

            uint interval = _regs[Itr >> 2] & 0xFFFF;
            if (interval != 0)
            {
                _throttleTimer.ArmIn(interval * ItrUnitNs);
            }
        }

        bool asserted = pending != 0;
        if (asserted != _intx)
        {
            _intx = asserted;
            if (asserted)
            {
                Statistics.InterruptsAsserted++;
            }

            Probe?.InterruptLine(asserted, pending);
        }
    }

    private void OnThrottleTimer() => UpdateInterrupt();

    // ---- Registers with behaviour ----

    private uint ReadSpecial(uint offset)
    {
        switch (offset)
        {
            case Eecd:
                return Eeprom.ReadEecd();
            case Eerd:
                return ReadEerd();
            case Icr:
                {
                    // §13.4.17: reading ICR clears every cause.
                    uint value = _regs[Icr >> 2];
                    _faults?.InterruptCausesRead();
                    SetInterruptCauses(0);
                    return value;
                }

            case Ics:
                // ICS is write-only in the manual; like QEMU we answer reads with the causes, without clearing them.
                return _regs[Icr >> 2];
            default:
                return _regs[offset >> 2];
        }
    }

    private void WriteSpecial(uint offset, uint value, RegisterInfo row)
    {
        switch (offset)
        {
            case Status:
                // §13.4.2: read-only.
                break;
            case Ctrl:
                WriteCtrl(value);
                break;
            case Eecd:
                Eeprom.WriteEecd(value);
                break;
            case CtrlExt:
                _regs[CtrlExt >> 2] = value & row.WriteMask;
                if ((value & CtrlExtEeRst) != 0)
                {
                    // §13.4.6 EE_RST: reload the EEPROM-loaded fields; the bit self-clears.
                    LoadFromEeprom();
                }

                break;
            case Mdic:
                WriteMdic(value);
                break;
            case Eerd:
                // §13.4.4: START begins a read; an eeprom-timeout fault keeps this one from ever completing.
                _regs[Eerd >> 2] = value & row.WriteMask;
                _eerdHung = (value & EerdStart) != 0 && _faults is { } faults && faults.EepromRequestHangs(eerd: true);
                break;
            case Icr:
                // §13.4.17: writing 1 clears that cause.
                SetInterruptCauses(_regs[Icr >> 2] & ~value);
                break;
            case Ics:
                RaiseInterrupt(value);
                break;
            case Ims:
                _regs[Ims >> 2] |= value;
                UpdateInterrupt();
                break;
            case Imc:
                _regs[Ims >> 2] &= ~value;
                UpdateInterrupt();
                break;
            case Pba:
                {
                    // Table 13-62: TXA = 64 KB − RXA, read-only.
                    uint rxa = value & row.WriteMask;
                    uint txa = rxa <= 64 ? 64 - rxa : 0;
                    _regs[Pba >> 2] = (txa << 16) | rxa;
                    break;
                }

            case Rdtr:
                // §13.4.30: FPD (bit 31) forces the pending write-backs out and reads 0.
                _regs[Rdtr >> 2] = value & row.WriteMask;
                if ((value & RdtrFpd) != 0)
                {
                    FlushPacketDelay();
                }

                break;
            case Rctl:
                _regs[Rctl >> 2] = value;
                DrainReceiveFifo();
                break;
            case Rdt:
                // §13.4.29: new descriptors for the receive FIFO's waiting frames.
                _regs[Rdt >> 2] = value & row.WriteMask;
                DrainReceiveFifo();
                break;
            case Tctl:
            case Tdt:
                // §3.3.1: the transmit engine runs from TDH to TDT while TCTL.EN is set.
                _regs[offset >> 2] = value & row.WriteMask;
                ProcessTransmitRing();
                break;
            default:
                // RCTL, TCTL, RDT, TDT, ITR: stored through the mask; the receive and transmit engines read them.
                _regs[offset >> 2] = value & row.WriteMask;
                break;
        }
    }

    private void WriteCtrl(uint value)
    {
        uint old = _regs[Ctrl >> 2];
        _regs[Ctrl >> 2] = value & ~CtrlRst;
        if ((value & CtrlRst) != 0)
        {
            // §13.4.1 RST: a software reset of the whole MAC, as after power-up except PCI configuration (and the PHY,
            // which has its own reset). The bit self-clears.
            Log.CtrlReset(_logger);
            ResetMac();
            return;
        }

        if ((old & CtrlPhyRst) != 0 && (value & CtrlPhyRst) == 0)
        {
            // §13.4.1 PHY_RST: releasing the PHY from reset returns its registers to power-up values and starts
            // autonegotiation afresh.
            Phy.Reset();
            if (Carrier)
            {
                RestartAutoneg();
            }
            else
            {
                LinkDown();
            }
        }
    }

    /// <summary>
    /// EERD (§5.3.1): software writes START with an address; the word is ready at once in our model, so DONE and DATA
    /// are answered on the next read. Field layout and the all-bits-31:8 address decode follow QEMU.
    /// </summary>
    private uint ReadEerd()
    {
        uint stored = _regs[Eerd >> 2];
        if ((stored & EerdStart) == 0)
        {
            return stored;
        }

        uint request = stored & ~EerdStart;
        if (_eerdHung)
        {
            return request;   // DONE never sets
        }

        uint address = request >> EerdAddrShift;
        if (address >= EepromImage.WordCount)
        {
            return request | EerdDone;
        }

        return ((uint)Eeprom.Word((int)address) << EerdDataShift) | EerdDone | request;
    }

    /// <summary>
    /// MDIC (§13.4.7): one PHY register read or write per write, complete at once (READY). A wrong PHY address or an
    /// absent register answers ERROR; INT_EN raises ICR.MDAC on completion.
    /// </summary>
    private void WriteMdic(uint value)
    {
        int phyAddress = (int)((value >> MdicPhyShift) & 0x1F);
        int register = (int)((value >> MdicRegShift) & 0x1F);
        uint result;
        MdicFault fault = _faults is { } faults ? faults.PhyAccess(value) : MdicFault.None;
        if (fault != MdicFault.None)
        {
            // mdic-error: ERROR with READY and nothing done; mdic-timeout: READY never sets (nor does MDAC).
            result = fault == MdicFault.Error ? (value & ~MdicDataMask) | MdicError | MdicReady : value & ~(MdicReady | MdicError);
        }
        else if (phyAddress != M88Phy.Address)
        {
            // No PHY answers: the previous MDIC contents stay, with ERROR and READY (as QEMU).
            result = _regs[Mdic >> 2] | MdicError | MdicReady;
        }
        else if ((value & MdicOpRead) != 0)
        {
            result = M88Phy.IsReadable(register)
                ? (value & ~MdicDataMask) | Phy.Read(register) | MdicReady
                : value | MdicError | MdicReady;
        }
        else if ((value & MdicOpWrite) != 0)
        {
            if (M88Phy.IsWritable(register))
            {
                if (Phy.Write(register, (ushort)value))
                {
                    RestartAutoneg();
                }

                result = value | MdicReady;
            }
            else
            {
                result = value | MdicError | MdicReady;
            }
        }
        else
        {
            result = value | MdicReady;
        }

        _regs[Mdic >> 2] = result;
        Probe?.PhyAccess(value, result);
        if ((result & MdicIntEn) != 0 && (result & MdicReady) != 0)
        {
            RaiseInterrupt(IcrMdac);
        }
    }

    // ---- Link and autonegotiation ----

    private void RestartAutoneg()
    {
        // The link drops while the PHY negotiates; §13.4.17: LSC reports every link change, this one included.
        bool wasUp = (_regs[Status >> 2] & StatusLu) != 0;
        LinkDown();
        // QEMU arms the timer on its millisecond clock: it fires 500 ms after the start of the current millisecond.
        _autonegTimer.Arm(((Scheduler.Now / 1_000_000) * 1_000_000) + AutonegDurationNs);
        if (wasUp)
        {
            RaiseInterrupt(IcrLsc);
        }
    }

    private void LinkDown()
    {
        Phy.SetLinkDown();
        _regs[Status >> 2] &= ~StatusLu;
    }

    private void OnAutonegTimer()
    {
        if (!Carrier)
        {
            return;
        }

        if (_faults is { } faults && faults.AutonegFails())
        {
            _autonegTimer.ArmIn(AutonegDurationNs);   // autoneg-fail: no link this time; the PHY tries again
            return;
        }

        Phy.SetAutonegComplete();
        _regs[Status >> 2] |= StatusLu;
        Log.LinkUp(_logger);
        RaiseInterrupt(IcrLsc);
    }

    // ---- Reset ----

    /// <summary>
    /// The MAC's reset (CTRL.RST, and part of power-on): every register to its reset value, the EEPROM-loaded fields
    /// reloaded, interrupts deasserted, timers stopped. PCI configuration, the PHY, the EEPROM interface and IOADDR
    /// are not touched.
    /// </summary>
    private void ResetMac()
    {
        Array.Clear(_regs);
        foreach (RegisterInfo row in E1000RegisterMap.Rows)
        {
            if (row.Reset != 0)
            {
                _regs.AsSpan((int)(row.Offset >> 2), row.Count).Fill(row.Reset);
            }
        }

        if ((Phy.Registers[M88Phy.StatusReg] & M88Phy.StatusLinkUp) == 0)
        {
            _regs[Status >> 2] &= ~StatusLu;
        }

        LoadFromEeprom();
        _throttleTimer.Cancel();
        _rdtrTimer?.Cancel();
        _radvTimer?.Cancel();
        _tidvTimer?.Cancel();
        _tadvTimer?.Cancel();
        FlushReceiveFifo();
        _tx = default;
        _context = default;
        _intx = false;
        _eerdHung = false;
        _faults?.DeviceReset();
    }

    /// <summary>The fields the controller loads from the EEPROM: the station address into RAL0/RAH0 (§13.5.2).</summary>
    private void LoadFromEeprom()
    {
        _regs[Ral0 >> 2] = Eeprom.Word(0) | ((uint)Eeprom.Word(1) << 16);
        _regs[Rah0 >> 2] = Eeprom.Word(2) | 0x8000_0000u;
    }

    // ---- I/O BAR (§13.2.2) ----

    private uint IoRead(uint offset, int size)
    {
        uint mask = size >= 4 ? uint.MaxValue : (1u << (8 * size)) - 1;
        if (offset < 4)
        {
            return (IoAddr >> (int)(8 * offset)) & mask;
        }

        if (offset < 8)
        {
            uint value = IoAddr < E1000Reg.WindowSize ? ReadRegister(IoAddr) : 0;
            return (value >> (int)(8 * (offset - 4))) & mask;
        }

        return 0;
    }

    private void IoWrite(uint offset, int size, uint value)
    {
        // §13.2.2: IOADDR and IODATA take only whole-dword writes; narrower writes are ignored.
        if (size != 4)
        {
            return;
        }

        if (offset == 0)
        {
            IoAddr = value & 0x000F_FFFF;
        }
        else if (offset == 4 && IoAddr < E1000Reg.WindowSize)
        {
            WriteRegister(IoAddr, value);
        }
    }

    /// <summary>A configuration write; turning bus mastering on lets waiting frames move (§3.2.7.4).</summary>
    public override void ConfigWrite(int offset, int size, uint value)
    {
        base.ConfigWrite(offset, size, value);
        if (offset < PciConfigSpace.Command + 2 && offset + size > PciConfigSpace.Command && BusMasterEnabled && !Halted)
        {
            try
            {
                DrainReceiveFifo();
            }
            catch (Exception e) when (Halt(e, "PCI COMMAND write", (uint)offset, value))
            {
            }
        }
    }

    // ---- PCI configuration (as QEMU presents the function) ----

    private void InitConfigSpace()
    {
        PciConfigSpace c = Config;
        c.SetWord(PciConfigSpace.VendorId, VendorIntel);
        c.SetWord(PciConfigSpace.DeviceId, Device82540Em);
        c.SetByte(PciConfigSpace.Revision, 0x03);
        c.SetByte(PciConfigSpace.ClassCode + 2, 0x02);  // network controller, Ethernet
        c.SetWord(PciConfigSpace.SubsystemVendorId, 0x1AF4);
        c.SetWord(PciConfigSpace.SubsystemId, 0x1100);
        c.SetByte(PciConfigSpace.InterruptPin, 1);       // INTA#
        c.SetWriteMask(PciConfigSpace.Command, 2, 0x0507);
        c.SetW1cMask(PciConfigSpace.Status, 2, 0xF900);
        c.SetWriteMask(PciConfigSpace.CacheLineSize, 1, 0xFF);
        c.SetWriteMask(PciConfigSpace.InterruptLine, 1, 0xFF);
        for (int offset = 0x40; offset < PciConfigSpace.Size; offset += 4)
        {
            c.SetWriteMask(offset, 4, 0xFFFF_FFFF);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2001, Level = LogLevel.Debug, Message = "e1000: CTRL.RST, device reset")]
        public static partial void CtrlReset(ILogger logger);

        [LoggerMessage(EventId = 2002, Level = LogLevel.Debug, Message = "e1000: autonegotiation complete, link up 1000 Mb/s full duplex")]
        public static partial void LinkUp(ILogger logger);

        [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "e1000: DMA outside guest memory at 0x{Address:x} ({Reason}); counted, logged once per cause")]
        public static partial void DmaOutsideMemory(ILogger logger, string reason, ulong address);
    }
}
