using Emu.Emulator.Machine;
using Emu.Stack.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Emu.Driver.Kernel;

/// <summary>
/// The kernel services a PCI network driver uses, for one node: firmware-style PCI enumeration and resource
/// assignment, driver binding by id table, the DMA API, request_irq on level-triggered IOAPIC inputs, timers,
/// a workqueue, msleep in process context, the kernel log, and the networking core. Everything runs on the node's
/// event loop: interrupt handlers run as events after the access that raised the line, softirqs after them.
/// </summary>
public sealed class GuestKernel
{
    /// <summary>SeaBIOS's default PIRQ routing (PIRQA..D → IRQ 10, 10, 11, 11): slot 3's INTA lands on IRQ 11.</summary>
    private static readonly byte[] s_pirqRoutes = [10, 10, 11, 11];

    /// <summary>Consecutive unhandled runs of a level interrupt before it is disabled ("nobody cared").</summary>
    private const int MaxUnhandled = 1000;

    private readonly Dictionary<int, IrqLine> _irqs = [];
    private readonly List<PciDev> _devices = [];
    private readonly List<IPciDriver> _drivers = [];
    private ulong _nextMmio = 0xFEB0_0000;
    private ushort _nextIo = 0xC000;
    private int _atomicDepth;

    public GuestKernel(IPlatformBus bus, EventScheduler scheduler, ILoggerFactory? loggerFactory = null)
    {
        loggerFactory ??= NullLoggerFactory.Instance;
        Bus = bus;
        Scheduler = scheduler;
        Clock = new SchedulerClock(scheduler);
        Log = new KernelLog(() => scheduler.Now, loggerFactory.CreateLogger("Emu.Kernel"));
        Dma = new DmaAllocator(bus);
        Net = new NetCore(Clock, loggerFactory.CreateLogger("Emu.NetCore")) { KernelMessage = Log.Warn };
        bus.InterruptChanged += OnInterruptChanged;
    }

    public IPlatformBus Bus { get; }

    public EventScheduler Scheduler { get; }

    public SchedulerClock Clock { get; }

    public KernelLog Log { get; }

    public DmaAllocator Dma { get; }

    public NetCore Net { get; }

    public IReadOnlyList<PciDev> PciDevices => _devices;

    /// <summary>In a hard or soft interrupt handler or a timer: sleeping is a bug there.</summary>
    public bool InAtomic => _atomicDepth > 0;

    // ---- PCI ----

    /// <summary>
    /// Scans bus 0 as firmware and pci_scan_bus would: functions that answer, their BARs sized and assigned (memory
    /// below 0xFEC00000, I/O from 0xC000), PIIX3 PIRQ routes programmed, interrupt line written.
    /// </summary>
    public void EnumeratePci()
    {
        if (_devices.Count > 0)
        {
            return;
        }

        Bus.Out(0xCF8, 4, 0x8000_0860);
        for (int i = 0; i < 4; i++)
        {
            Bus.Out((ushort)(0xCFC + i), 1, s_pirqRoutes[i]);
        }

        for (int device = 0; device < 32; device++)
        {
            Bus.Out(0xCF8, 4, 0x8000_0000u | (uint)(device << 11));
            if ((ushort)Bus.In(0xCFC, 2) == 0xFFFF)
            {
                continue;
            }

            var pdev = new PciDev(this, device, 0);
            AssignResources(pdev);
            if (pdev.Pin is >= 1 and <= 4)
            {
                pdev.Irq = s_pirqRoutes[(device + pdev.Pin - 2) & 3];
                pdev.ConfigWrite(0x3C, 1, (uint)pdev.Irq);
            }

            _devices.Add(pdev);
        }
    }

    /// <summary>pci_register_driver: probes every unbound function whose id the driver lists.</summary>
    public int PciRegisterDriver(IPciDriver driver)
    {
        EnumeratePci();
        _drivers.Add(driver);
        int bound = 0;
        foreach (PciDev pdev in _devices)
        {
            if (pdev.Driver is not null)
            {
                continue;
            }

            foreach (PciDeviceId id in driver.IdTable)
            {
                if (id.Vendor == pdev.VendorId && id.Device == pdev.DeviceId)
                {
                    pdev.Driver = driver;
                    if (driver.Probe(pdev, id) == 0)
                    {
                        bound++;
                    }
                    else
                    {
                        pdev.Driver = null;
                    }

                    break;
                }
            }
        }

        return bound;
    }

    /// <summary>pci_unregister_driver: removes it from every function it is bound to.</summary>
    public void PciUnregisterDriver(IPciDriver driver)
    {
        foreach (PciDev pdev in _devices)
        {
            if (pdev.Driver == driver)
            {
                driver.Remove(pdev);
                pdev.Driver = null;
                pdev.DriverData = null;
            }
        }

        _drivers.Remove(driver);
    }

    private void AssignResources(PciDev pdev)
    {
        for (int bar = 0; bar < 6; bar++)
        {
            int offset = 0x10 + (4 * bar);
            uint original = pdev.ConfigRead(offset, 4);
            pdev.ConfigWrite(offset, 4, 0xFFFF_FFFF);
            uint mask = pdev.ConfigRead(offset, 4);
            pdev.ConfigWrite(offset, 4, original);
            if (mask == 0 || mask == 0xFFFF_FFFF)
            {
                continue;
            }

            bool io = (mask & 1) != 0;
            ulong size = io ? (ulong)((~(mask & 0xFFFF_FFFC) + 1) & 0xFFFF) : (ulong)(~(mask & 0xFFFF_FFF0) + 1);
            if (size == 0)
            {
                continue;
            }

            ulong start;
            if (io)
            {
                start = (_nextIo + (size - 1)) & ~(size - 1);
                _nextIo = (ushort)(start + size);
            }
            else
            {
                _nextMmio -= size;
                _nextMmio &= ~(size - 1);
                start = _nextMmio;
            }

            pdev.ConfigWrite(offset, 4, (uint)start | (io ? 1u : 0u));
            pdev.AddResource(new PciResource(bar, start, size, io));
        }
    }

    // ---- Interrupts ----

    /// <summary>request_irq: 0, or -EBUSY when the line is taken by a handler that does not share it.</summary>
    public int RequestIrq(int irq, Func<int, IrqReturn> handler, bool shared, string name)
    {
        if (!_irqs.TryGetValue(irq, out IrqLine? line))
        {
            line = new IrqLine(this, irq);
            _irqs[irq] = line;
        }

        if (line.Handlers.Count > 0 && (!shared || !line.Shared))
        {
            return -16;
        }

        line.Shared = shared;
        line.Handlers.Add((handler, name));
        line.Disabled = false;
        if (Bus.InterruptLevel(irq))
        {
            line.Kick();
        }

        return 0;
    }

    /// <summary>free_irq.</summary>
    public void FreeIrq(int irq, string name)
    {
        if (_irqs.TryGetValue(irq, out IrqLine? line))
        {
            line.Handlers.RemoveAll(h => h.Name == name);
        }
    }

    public bool IrqDisabled(int irq) => _irqs.TryGetValue(irq, out IrqLine? line) && line.Disabled;

    public long IrqCount(int irq) => _irqs.TryGetValue(irq, out IrqLine? line) ? line.Count : 0;

    private void OnInterruptChanged(int gsi, bool level)
    {
        if (level && _irqs.TryGetValue(gsi, out IrqLine? line))
        {
            line.Kick();
        }
    }

    /// <summary>One level-triggered input: handlers run as an event while the line is high.</summary>
    private sealed class IrqLine
    {
        private readonly GuestKernel _kernel;
        private readonly VirtualTimer _timer;
        private int _unhandled;

        public IrqLine(GuestKernel kernel, int irq)
        {
            _kernel = kernel;
            Irq = irq;
            _timer = kernel.Scheduler.CreateTimer($"irq {irq}", Run);
        }

        public int Irq { get; }

        public bool Shared { get; set; }

        public bool Disabled { get; set; }

        public long Count { get; private set; }

        public List<(Func<int, IrqReturn> Handler, string Name)> Handlers { get; } = [];

        public void Kick()
        {
            if (!Disabled && !_timer.IsPending)
            {
                _timer.ArmIn(0);
            }
        }

        private void Run()
        {
            if (Disabled || Handlers.Count == 0 || !_kernel.Bus.InterruptLevel(Irq))
            {
                return;
            }

            Count++;
            bool handled = false;
            _kernel._atomicDepth++;
            try
            {
                // By index: a handler may free_irq itself (the self-test's does); no copy per interrupt.
                for (int i = 0; i < Handlers.Count; i++)
                {
                    handled |= Handlers[i].Handler(Irq) == IrqReturn.Handled;
                }
            }
            finally
            {
                _kernel._atomicDepth--;
            }

            _unhandled = handled ? 0 : _unhandled + 1;
            if (_unhandled >= MaxUnhandled)
            {
                // note_interrupt: a level interrupt nobody acknowledges would hang the CPU.
                Disabled = true;
                _kernel.Log.Error($"irq {Irq}: nobody cared (try booting with the \"irqpoll\" option)");
                _kernel.Log.Error($"Disabling IRQ #{Irq}");
                return;
            }

            if (_kernel.Bus.InterruptLevel(Irq))
            {
                // Level-triggered: still asserted after the handlers, so it fires again.
                _timer.ArmIn(0);
            }
        }
    }

    // ---- Time ----

    /// <summary>msleep: process context gives the CPU away; virtual time (and everything due in it) moves on.</summary>
    public void Msleep(int milliseconds) => Sleep(milliseconds * 1_000_000L);

    /// <summary>udelay/usleep_range: as msleep, in microseconds.</summary>
    public void Udelay(int microseconds) => Sleep(microseconds * 1000L);

    private void Sleep(long nanoseconds)
    {
        if (InAtomic)
        {
            throw new InvalidOperationException("BUG: scheduling while atomic (a sleep in an interrupt handler or timer)");
        }

        Scheduler.RunUntil(Scheduler.Now + nanoseconds);
    }

    /// <summary>A timer_list whose callback runs in atomic (softirq) context.</summary>
    public IKernelTimer CreateTimer(string name, Action callback)
        => Clock.CreateTimer(name, () =>
        {
            _atomicDepth++;
            try
            {
                callback();
            }
            finally
            {
                _atomicDepth--;
            }
        });

    /// <summary>A work item (schedule_work / schedule_delayed_work): runs in process context, may sleep.</summary>
    public IKernelTimer CreateWork(string name, Action work) => Clock.CreateTimer(name, work);

    /// <summary>Runs the node until the condition holds or the timeout passes (a test's or a command's wait).</summary>
    public bool RunUntil(Func<bool> condition, long timeoutNs) => Scheduler.RunUntil(condition, timeoutNs);
}
