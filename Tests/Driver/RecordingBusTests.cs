using Emu.Driver.Kernel;
using Emu.Emulator.Machine;
using Emu.Host;

namespace Emu.Tests.Driver;

/// <summary>The driver reaches the device only through the bus: every access it makes is on the record.</summary>
public sealed class RecordingBusTests
{
    /// <summary>A bus that forwards to the machine and records each access.</summary>
    private sealed class RecordingBus(IPlatformBus inner) : IPlatformBus
    {
        public List<string> Accesses { get; } = [];

        public event Action<int, bool>? InterruptChanged
        {
            add => inner.InterruptChanged += value;
            remove => inner.InterruptChanged -= value;
        }

        public ulong RamSize => inner.RamSize;

        public uint In(ushort port, int size)
        {
            uint v = inner.In(port, size);
            Accesses.Add($"in{size} {port:x4} = {v:x}");
            return v;
        }

        public void Out(ushort port, int size, uint value)
        {
            Accesses.Add($"out{size} {port:x4} {value:x}");
            inner.Out(port, size, value);
        }

        public ulong Read(ulong address, int size)
        {
            ulong v = inner.Read(address, size);
            Accesses.Add($"read{size} {address:x} = {v:x}");
            return v;
        }

        public void Write(ulong address, int size, ulong value)
        {
            Accesses.Add($"write{size} {address:x} {value:x}");
            inner.Write(address, size, value);
        }

        public bool TryReadRam(ulong address, Span<byte> destination) => inner.TryReadRam(address, destination);

        public bool TryWriteRam(ulong address, ReadOnlySpan<byte> source) => inner.TryWriteRam(address, source);

        public bool InterruptLevel(int gsi) => inner.InterruptLevel(gsi);
    }

    [Fact]
    public void ProbeAndOpenGoThroughTheBus()
    {
        var machine = new PcMachine();
        var bus = new RecordingBus(new MachineBus(machine));
        var kernel = new GuestKernel(bus, machine.Scheduler);
        var driver = new Emu.Driver.E1000.E1000Driver(kernel);
        Assert.Equal(1, kernel.PciRegisterDriver(driver));
        Assert.Equal(0, kernel.Net.DevOpen(driver.Adapters[0].Netdev));
        ulong bar0 = driver.Adapters[0].Pdev.Resource(0)!.Start;
        ushort io = (ushort)driver.Adapters[0].Pdev.Resources.First(r => r.IsIo).Start;

        // The 82540's reset goes through IOADDR/IODATA; the rings and interrupts through BAR0.
        Assert.Contains($"out4 {io:x4} 0", bus.Accesses);
        Assert.Contains(bus.Accesses, a => a.StartsWith($"out4 {io + 4:x4} 4", StringComparison.Ordinal));
        Assert.Contains($"write4 {bar0 + 0xD0:x} 9d", bus.Accesses);      // IMS = IMS_ENABLE_MASK
        Assert.Contains($"write4 {bar0 + 0xC8:x} 4", bus.Accesses);       // ICS = LSC
        Assert.Contains($"write4 {bar0 + 0x2818:x} fe", bus.Accesses);    // RDT = 254 after the first fill
        Assert.Contains(bus.Accesses, a => a.StartsWith("out4 0cf8 80001804", StringComparison.Ordinal));
    }
}
