using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.NetworkInformation;
using Emu.Emulator.E1000;
using Emu.Emulator.Machine;
using Emu.Emulator.Wire;

namespace Emu.Host.Bench;

/// <summary>
/// <c>emu bench device</c>: frames per second from one e1000's transmit ring, across an in-process wire, into another
/// e1000's receive ring. Descriptors and buffers live in guest memory and move by the devices' DMA; register accesses go
/// through the machines' MMIO dispatch. A minimal poll loop stands in for the driver: it advances TDT a batch at a time
/// and returns received descriptors by RDT. Bytes allocated per frame are read from the GC's per-thread counter.
/// </summary>
public sealed class DeviceBench
{
    public const ulong Bar0 = 0xFEBC_0000;
    private const int RingSize = 256;
    private const int Batch = 32;
    private const ulong RxRing = 0x10_0000;
    private const ulong TxRing = 0x11_0000;
    private const ulong RxBuffers = 0x20_0000;
    private const ulong TxBuffers = 0x80_0000;
    private const int BufferSpacing = 2048;

    private readonly EventScheduler _scheduler = new();
    private readonly PcMachine _sender;
    private readonly PcMachine _receiver;
    private readonly int _frameLength;
    private int _txTail;
    private int _rxNext;

    /// <param name="trace">Trace categories to run with (<c>--trace</c>), to measure their cost; None: no probe at all.</param>
    /// <param name="traceOutput">Where the trace goes (default: discarded, so the figure is the device's and the formatting's).</param>
    /// <param name="faults">A fault plan armed on both devices (<c>--fault</c>), to measure what an armed plan costs.</param>
    public DeviceBench(int frameLength, Emu.Emulator.Instruments.TraceCategory trace = Emu.Emulator.Instruments.TraceCategory.None, TextWriter? traceOutput = null, Emu.Emulator.Faults.FaultPlan? faults = null)
    {
        if (frameLength is < 60 or > 1514)
        {
            throw new ArgumentOutOfRangeException(nameof(frameLength), frameLength, "Frames are 60 to 1514 bytes without the FCS.");
        }

        _frameLength = frameLength;
        _sender = new PcMachine(new MachineOptions { Mac = PhysicalAddress.Parse("52-54-00-12-34-56") }, scheduler: _scheduler);
        _receiver = new PcMachine(new MachineOptions { Mac = PhysicalAddress.Parse("52-54-00-12-34-57") }, scheduler: _scheduler);
        var link = new WireLink(_scheduler);
        WireLink.Attach(link.A, _sender.Nic);
        WireLink.Attach(link.B, _receiver.Nic);
        if (trace != Emu.Emulator.Instruments.TraceCategory.None)
        {
            var writer = new Emu.Emulator.Instruments.TraceWriter(traceOutput ?? TextWriter.Null, _scheduler, trace);
            _sender.Nic.Probe = new Emu.Emulator.Instruments.DeviceTracer(_sender.Nic, writer);
            _receiver.Nic.Probe = new Emu.Emulator.Instruments.DeviceTracer(_receiver.Nic, writer);
        }

        if (faults is not null)
        {
            Emu.Emulator.Faults.FaultInjector.Attach(_sender.Nic, faults);
            Emu.Emulator.Faults.FaultInjector.Attach(_receiver.Nic, faults);
        }

        Setup(_sender);
        Setup(_receiver);

        byte[] frame = new byte[frameLength];
        new byte[] { 0x52, 0x54, 0x00, 0x12, 0x34, 0x57 }.CopyTo(frame, 0);
        new byte[] { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 }.CopyTo(frame, 6);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), 0x88B5);
        Span<byte> descriptor = stackalloc byte[16];
        for (int i = 0; i < RingSize; i++)
        {
            ulong buffer = TxBuffers + (ulong)(i * BufferSpacing);
            _sender.Memory.TryWrite(buffer, frame);
            BinaryPrimitives.WriteUInt64LittleEndian(descriptor, buffer);
            BinaryPrimitives.WriteUInt32LittleEndian(descriptor[8..], (uint)frameLength | E1000Bits.TxdCmdEop | E1000Bits.TxdCmdIfcs | E1000Bits.TxdCmdRs);
            BinaryPrimitives.WriteUInt32LittleEndian(descriptor[12..], 0);
            _sender.Memory.TryWrite(TxRing + (ulong)(16 * i), descriptor);
            _receiver.Memory.TryWriteUInt32(RxRing + (ulong)(16 * i), (uint)(RxBuffers + (ulong)(i * BufferSpacing)));
        }

        Write(_receiver, E1000Reg.Rdt, RingSize - 1);
    }

    public long FramesReceived { get; private set; }

    /// <summary>Moves <paramref name="frames"/> frames (rounded up to whole batches); returns what it measured.</summary>
    public BenchResult Run(long frames)
    {
        long batches = (frames + Batch - 1) / Batch;
        long dropsBefore = _receiver.Nic.Statistics.TotalDrops + _sender.Nic.Statistics.TotalDrops;
        long receivedBefore = FramesReceived;
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        long start = Stopwatch.GetTimestamp();
        for (long b = 0; b < batches; b++)
        {
            _txTail = (_txTail + Batch) % RingSize;
            Write(_sender, E1000Reg.Tdt, (uint)_txTail);
            _scheduler.RunFor(0);
            PollReceiver();
        }

        TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        long received = FramesReceived - receivedBefore;
        long drops = _receiver.Nic.Statistics.TotalDrops + _sender.Nic.Statistics.TotalDrops - dropsBefore;
        return new BenchResult(_frameLength, received, drops, elapsed, received == 0 ? 0 : (double)allocated / received);
    }

    private void PollReceiver()
    {
        int returned = 0;
        while (true)
        {
            ulong status = RxRing + (ulong)(16 * _rxNext) + 12;
            _receiver.Memory.TryReadUInt32(status, out uint word);
            if ((word & E1000Bits.RxStatusDd) == 0)
            {
                break;
            }

            _receiver.Memory.TryWriteUInt32(status, 0);
            FramesReceived++;
            returned++;
            _rxNext = (_rxNext + 1) % RingSize;
        }

        if (returned > 0)
        {
            Write(_receiver, E1000Reg.Rdt, (uint)((_rxNext + RingSize - 1) % RingSize));
        }
    }

    private static void Setup(PcMachine machine)
    {
        machine.WriteIo(0xCF8, 4, 0x8000_1810);
        machine.WriteIo(0xCFC, 4, (uint)Bar0);
        machine.WriteIo(0xCF8, 4, 0x8000_1804);
        machine.WriteIo(0xCFC, 2, 0x7);
        Write(machine, E1000Reg.Rdbal, (uint)RxRing);
        Write(machine, E1000Reg.Rdlen, RingSize * 16);
        Write(machine, E1000Reg.Rctl, E1000Bits.RctlEn | E1000Bits.RctlBam | E1000Bits.RctlSecrc);
        Write(machine, E1000Reg.Tdbal, (uint)TxRing);
        Write(machine, E1000Reg.Tdlen, RingSize * 16);
        Write(machine, E1000Reg.Tctl, E1000Bits.TctlEn | E1000Bits.TctlPsp);
    }

    private static void Write(PcMachine machine, uint register, uint value) => machine.WriteMemory(Bar0 + register, 4, value);
}

/// <summary>One benchmark measurement.</summary>
public sealed record BenchResult(int FrameLength, long Frames, long Drops, TimeSpan Elapsed, double BytesAllocatedPerFrame)
{
    public double FramesPerSecond => Frames / Math.Max(Elapsed.TotalSeconds, 1e-9);

    /// <summary>Line rate check: a 64-byte frame occupies 84 byte times on 1 GbE (preamble and gap included).</summary>
    public double GigabitLineRateFraction => FramesPerSecond * (FrameLength + 4 + 20) * 8 / 1e9;
}
