using Emu.Emulator.E1000;
using Emu.Emulator.Pci;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Emu.Emulator.Machine;

/// <summary>
/// The emulated machine an e1000 sits in, shaped like QEMU's pc board as far as the NIC can tell: guest RAM from 0,
/// PCI bus 0 behind ports 0xCF8/0xCFC (host bridge 00:00.0, PIIX3 00:01.0 with the PIRQ routes, e1000 at 00:NicSlot.0),
/// INTx routed through the PIIX3 to IOAPIC inputs, and a virtual clock. It dispatches physical memory and port accesses
/// the way QEMU's memory core does, and delivers interrupt line changes after each access or timer event returns.
/// </summary>
public sealed class PcMachine
{
    private const int IsaIrqCount = 16;

    private readonly bool[] _externalLevels = new bool[InterruptController.GsiCount];
    private bool[] _lastIntx = [];

    /// <summary>Set by anything that can change routing (config writes, external inputs, resets): the next sync is full.</summary>
    private bool _routingDirty = true;
    private readonly List<(PciFunction Function, PciBar Bar)> _memoryBars = [];
    private readonly List<(PciFunction Function, PciBar Bar)> _ioBars = [];

    /// <param name="scheduler">The event loop's clock; nodes on one in-process wire may share it (DESIGN.md).</param>
    public PcMachine(MachineOptions? options = null, ILoggerFactory? loggerFactory = null, EventScheduler? scheduler = null)
    {
        options ??= new MachineOptions();
        loggerFactory ??= NullLoggerFactory.Instance;
        Scheduler = scheduler ?? new EventScheduler();
        Memory = new GuestMemory(options.RamSize);
        Bus = new PciBus();
        HostBridge = new HostBridge();
        Piix3 = new Piix3();
        EepromImage eeprom = options.Eeprom ?? EepromImage.Default82540Em().WithMacAddress(options.Mac);
        Nic = new E1000Device(Scheduler, eeprom, loggerFactory.CreateLogger("Emu.E1000")) { Dma = Memory };
        Bus.Attach(0, 0, HostBridge);
        Bus.Attach(1, 0, Piix3);
        Bus.Attach(options.NicSlot, 0, Nic);
        NicSlot = options.NicSlot;
        foreach ((int _, PciFunction function) in Bus.Functions)
        {
            foreach (PciBar bar in function.Bars)
            {
                if (bar.Kind == PciBarKind.Io)
                {
                    _ioBars.Add((function, bar));
                }
                else if (bar.Kind == PciBarKind.Memory32)
                {
                    _memoryBars.Add((function, bar));
                }
            }
        }

        Scheduler.AfterEvent += SyncInterrupts;
    }

    public EventScheduler Scheduler { get; }

    public GuestMemory Memory { get; }

    public PciBus Bus { get; }

    public HostBridge HostBridge { get; }

    public Piix3 Piix3 { get; }

    public E1000Device Nic { get; }

    public int NicSlot { get; }

    public InterruptController Interrupts { get; } = new();

    /// <summary>The machine reset (RST#): every PCI function and the NIC to power-on state; RAM and the clock stay.</summary>
    public void Reset()
    {
        HostBridge.PciReset();
        Piix3.PciReset();
        Nic.PowerOnReset();
        _routingDirty = true;
        SyncInterrupts();
    }

    // ---- Physical memory ----

    /// <summary>A CPU load of 1, 2, 4 or 8 bytes, split and dispatched as QEMU's memory core does.</summary>
    public ulong ReadMemory(ulong address, int size)
    {
        ulong result = 0;
        int done = 0;
        while (done < size)
        {
            ulong at = address + (ulong)done;
            int chunk = ChunkSize(at, size - done);
            result |= ReadChunk(at, chunk) << (8 * done);
            done += chunk;
        }

        SyncInterrupts();
        return result;
    }

    public void WriteMemory(ulong address, int size, ulong value)
    {
        int done = 0;
        while (done < size)
        {
            ulong at = address + (ulong)done;
            int chunk = ChunkSize(at, size - done);
            WriteChunk(at, chunk, (value >> (8 * done)) & Mask(chunk));
            done += chunk;
        }

        SyncInterrupts();
    }

    /// <summary>A byte-string read (qtest's read/b64read): RAM is copied, device memory accessed in aligned chunks.</summary>
    public void ReadMemory(ulong address, Span<byte> destination)
    {
        int done = 0;
        while (done < destination.Length)
        {
            ulong at = address + (ulong)done;
            if (Memory.Contains(at, 1))
            {
                int n = (int)Math.Min((ulong)(destination.Length - done), Memory.Size - at);
                Memory.TryRead(at, destination.Slice(done, n));
                done += n;
                continue;
            }

            int chunk = ChunkSize(at, destination.Length - done);
            ulong value = ReadChunk(at, chunk);
            for (int i = 0; i < chunk; i++)
            {
                destination[done + i] = (byte)(value >> (8 * i));
            }

            done += chunk;
        }

        SyncInterrupts();
    }

    public void WriteMemory(ulong address, ReadOnlySpan<byte> source)
    {
        int done = 0;
        while (done < source.Length)
        {
            ulong at = address + (ulong)done;
            if (Memory.Contains(at, 1))
            {
                int n = (int)Math.Min((ulong)(source.Length - done), Memory.Size - at);
                Memory.TryWrite(at, source.Slice(done, n));
                done += n;
                continue;
            }

            int chunk = ChunkSize(at, source.Length - done);
            ulong value = 0;
            for (int i = 0; i < chunk; i++)
            {
                value |= (ulong)source[done + i] << (8 * i);
            }

            WriteChunk(at, chunk, value);
            done += chunk;
        }

        SyncInterrupts();
    }

    // ---- I/O ports ----

    public uint ReadIo(ushort port, int size)
    {
        if (IsRefusedPortAccess(port, size))
        {
            return 0;
        }

        uint result = 0;
        int done = 0;
        while (done < size)
        {
            ushort at = (ushort)(port + done);
            int chunk = ChunkSize(at, size - done);
            result |= (uint)(ReadIoChunk(at, chunk) << (8 * done));
            done += chunk;
        }

        SyncInterrupts();
        return result;
    }

    public void WriteIo(ushort port, int size, uint value)
    {
        if (IsRefusedPortAccess(port, size))
        {
            return;
        }

        int done = 0;
        while (done < size)
        {
            ushort at = (ushort)(port + done);
            int chunk = ChunkSize(at, size - done);
            WriteIoChunk(at, chunk, (uint)((value >> (8 * done)) & Mask(chunk)));
            done += chunk;
        }

        SyncInterrupts();
    }

    /// <summary>Drives an IOAPIC input directly (qtest's set_irq_in), ORed with the routed PCI interrupts.</summary>
    public void SetExternalIrq(int gsi, bool level)
    {
        if (gsi is < 0 or >= InterruptController.GsiCount)
        {
            throw new ArgumentOutOfRangeException(nameof(gsi), gsi, "The IOAPIC has 24 inputs.");
        }

        _externalLevels[gsi] = level;
        _routingDirty = true;
        SyncInterrupts();
    }

    /// <summary>
    /// Propagates every function's INTx level: config STATUS bit 3, COMMAND.INTX_DISABLE, PIIX3 PIRQ routing, and the
    /// resulting IOAPIC inputs. Called after each access and each timer event, never from inside a device handler.
    /// </summary>
    public void SyncInterrupts()
    {
        // Fast path: no function changed its line and nothing that routes lines was written since the last sync.
        ReadOnlySpan<(int DevFn, PciFunction Function)> attached = Bus.Attached;
        bool changed = _routingDirty;
        if (!changed)
        {
            for (int i = 0; i < attached.Length && i < _lastIntx.Length; i++)
            {
                if (attached[i].Function.IntxLevel != _lastIntx[i])
                {
                    changed = true;
                    break;
                }
            }

            if (!changed)
            {
                return;
            }
        }

        _routingDirty = false;
        if (_lastIntx.Length != attached.Length)
        {
            _lastIntx = new bool[attached.Length];
        }

        for (int i = 0; i < attached.Length; i++)
        {
            _lastIntx[i] = attached[i].Function.IntxLevel;
        }

        Span<bool> pirq = stackalloc bool[4];
        foreach ((int devfn, PciFunction function) in Bus.Attached)
        {
            bool level = function.IntxLevel;
            ushort status = function.Config.GetWord(PciConfigSpace.Status);
            ushort newStatus = level ? (ushort)(status | PciConfigSpace.StatusInterrupt) : (ushort)(status & ~PciConfigSpace.StatusInterrupt);
            if (newStatus != status)
            {
                function.Config.SetWord(PciConfigSpace.Status, newStatus);
            }

            int pin = function.InterruptPin;
            if (level && pin is >= 1 and <= 4 && (function.Command & PciConfigSpace.CommandIntxDisable) == 0)
            {
                pirq[Piix3.PirqOf(devfn >> 3, pin)] = true;
            }
        }

        Span<bool> irq = stackalloc bool[InterruptController.GsiCount];
        for (int i = 0; i < 4; i++)
        {
            int line = Piix3.IrqOf(i);
            if (pirq[i] && line >= 0 && line < IsaIrqCount)
            {
                irq[line] = true;
            }
        }

        // Rising inputs first, then falling ones: when a PIRQ route moves, QEMU raises the new IRQ before lowering the old.
        for (int gsi = 0; gsi < InterruptController.GsiCount; gsi++)
        {
            if (irq[gsi] || _externalLevels[gsi])
            {
                Interrupts.Set(gsi, true);
            }
        }

        for (int gsi = 0; gsi < InterruptController.GsiCount; gsi++)
        {
            if (!irq[gsi] && !_externalLevels[gsi])
            {
                Interrupts.Set(gsi, false);
            }
        }
    }

    // ---- Dispatch ----

    /// <summary>
    /// Port accesses QEMU's pc machine refuses (reads 0, writes dropped): one on the configuration ports not aligned to
    /// its size, and one running past port 0xFFFF.
    /// </summary>
    private static bool IsRefusedPortAccess(ushort port, int size)
        => (PciBus.Claims(port, size) && (port & (size - 1)) != 0) || port + size > 0x1_0000;

    private static int ChunkSize(ulong address, int remaining) => BarAccess.ChunkSize(address, remaining);

    private static ulong Mask(int size) => BarAccess.Mask(size);

    private ulong ReadChunk(ulong address, int size)
    {
        if (Memory.Contains(address, (ulong)size))
        {
            Span<byte> buffer = stackalloc byte[8];
            Memory.TryRead(address, buffer[..size]);
            return BitConverter.ToUInt64(buffer);
        }

        if (FindMemoryBar(address, out PciFunction? function, out PciBar? bar, out ulong offset))
        {
            return AccessRead(function, bar, offset, size);
        }

        // Unassigned physical memory reads 0.
        return 0;
    }

    private void WriteChunk(ulong address, int size, ulong value)
    {
        if (Memory.Contains(address, (ulong)size))
        {
            Span<byte> buffer = stackalloc byte[8];
            BitConverter.TryWriteBytes(buffer, value);
            Memory.TryWrite(address, buffer[..size]);
            return;
        }

        if (FindMemoryBar(address, out PciFunction? function, out PciBar? bar, out ulong offset))
        {
            AccessWrite(function, bar, offset, size, value);
        }
    }

    private uint ReadIoChunk(ushort port, int size)
    {
        if (PciBus.Claims(port, size))
        {
            return Bus.IoRead(port, size);
        }

        if (FindIoBar(port, out PciFunction? function, out PciBar? bar, out ulong offset))
        {
            return (uint)AccessRead(function, bar, offset, size);
        }

        // Unassigned ports read all ones.
        return (uint)Mask(size);
    }

    private void WriteIoChunk(ushort port, int size, uint value)
    {
        if (PciBus.Claims(port, size))
        {
            Bus.IoWrite(port, size, value);
            _routingDirty = true;
            return;
        }

        if (FindIoBar(port, out PciFunction? function, out PciBar? bar, out ulong offset))
        {
            AccessWrite(function, bar, offset, size, value);
        }
    }

    private static ulong AccessRead(PciFunction function, PciBar bar, ulong offset, int size) => BarAccess.ReadPiece(function, bar, offset, size);

    private static void AccessWrite(PciFunction function, PciBar bar, ulong offset, int size, ulong value) => BarAccess.WritePiece(function, bar, offset, size, value);

    private bool FindMemoryBar(ulong address, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out PciFunction? function, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out PciBar? bar, out ulong offset)
    {
        foreach ((PciFunction f, PciBar b) in _memoryBars)
        {
            if (f.BarAddress(b) is ulong baseAddress && address >= baseAddress && address - baseAddress < b.Size)
            {
                function = f;
                bar = b;
                offset = address - baseAddress;
                return true;
            }
        }

        function = null;
        bar = null;
        offset = 0;
        return false;
    }

    private bool FindIoBar(ushort port, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out PciFunction? function, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out PciBar? bar, out ulong offset)
    {
        foreach ((PciFunction f, PciBar b) in _ioBars)
        {
            if (f.BarAddress(b) is ulong baseAddress && port >= baseAddress && port - baseAddress < b.Size)
            {
                function = f;
                bar = b;
                offset = port - baseAddress;
                return true;
            }
        }

        function = null;
        bar = null;
        offset = 0;
        return false;
    }
}
