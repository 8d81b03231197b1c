using Emu.Emulator.Machine;

namespace Emu.Driver.Kernel;

/// <summary>The bus of an in-process <see cref="PcMachine"/>: the CPU's view of it, nothing more.</summary>
public sealed class MachineBus : IPlatformBus
{
    private readonly PcMachine _machine;

    public MachineBus(PcMachine machine)
    {
        _machine = machine;
        machine.Interrupts.GsiChanged += (gsi, level) => InterruptChanged?.Invoke(gsi, level);
    }

    public event Action<int, bool>? InterruptChanged;

    public ulong RamSize => _machine.Memory.Size;

    public uint In(ushort port, int size) => _machine.ReadIo(port, size);

    public void Out(ushort port, int size, uint value) => _machine.WriteIo(port, size, value);

    public ulong Read(ulong address, int size) => _machine.ReadMemory(address, size);

    public void Write(ulong address, int size, ulong value) => _machine.WriteMemory(address, size, value);

    public bool TryReadRam(ulong address, Span<byte> destination) => _machine.Memory.TryRead(address, destination);

    public bool TryWriteRam(ulong address, ReadOnlySpan<byte> source) => _machine.Memory.TryWrite(address, source);

    public bool InterruptLevel(int gsi) => _machine.Interrupts.Level(gsi);
}
