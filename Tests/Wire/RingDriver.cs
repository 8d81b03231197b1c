using System.Buffers.Binary;
using Emu.Emulator.E1000;
using Emu.Emulator.Machine;

namespace Emu.Tests.Wire;

/// <summary>The smallest driver that moves frames: one TX and one RX ring, polled (no interrupts).</summary>
internal sealed class RingDriver
{
    public const ulong Bar0 = 0xFEBC_0000;
    private const ulong RxRing = 0x10_0000;
    private const ulong TxRing = 0x11_0000;
    private const ulong RxBuffers = 0x20_0000;
    private const ulong TxBuffers = 0x30_0000;
    private const int Count = 64;
    private readonly PcMachine _machine;
    private int _txTail;
    private int _rxNext;

    private RingDriver(PcMachine machine) => _machine = machine;

    public static RingDriver Start(PcMachine machine)
    {
        machine.WriteIo(0xCF8, 4, 0x8000_1810);
        machine.WriteIo(0xCFC, 4, (uint)Bar0);
        machine.WriteIo(0xCF8, 4, 0x8000_1804);
        machine.WriteIo(0xCFC, 2, 0x7);
        var d = new RingDriver(machine);
        for (int i = 0; i < Count; i++)
        {
            machine.Memory.TryWriteUInt32(RxRing + (ulong)(16 * i), (uint)(RxBuffers + (ulong)(2048 * i)));
        }

        d.W(E1000Reg.Rdbal, (uint)RxRing);
        d.W(E1000Reg.Rdlen, Count * 16);
        d.W(E1000Reg.Rctl, E1000Bits.RctlEn | E1000Bits.RctlBam | E1000Bits.RctlSecrc);
        d.W(E1000Reg.Rdt, Count - 1);
        d.W(E1000Reg.Tdbal, (uint)TxRing);
        d.W(E1000Reg.Tdlen, Count * 16);
        d.W(E1000Reg.Tctl, E1000Bits.TctlEn | E1000Bits.TctlPsp);
        return d;
    }

    public void Send(ReadOnlySpan<byte> frame)
    {
        ulong buffer = TxBuffers + (ulong)(2048 * _txTail);
        _machine.Memory.TryWrite(buffer, frame);
        Span<byte> desc = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(desc, buffer);
        BinaryPrimitives.WriteUInt32LittleEndian(desc[8..], (uint)frame.Length | E1000Bits.TxdCmdEop | E1000Bits.TxdCmdIfcs | E1000Bits.TxdCmdRs);
        _machine.Memory.TryWrite(TxRing + (ulong)(16 * _txTail), desc);
        _txTail = (_txTail + 1) % Count;
        W(E1000Reg.Tdt, (uint)_txTail);
    }

    /// <summary>The next received frame, or null; gives the descriptor back to the device.</summary>
    public byte[]? Poll()
    {
        ulong desc = RxRing + (ulong)(16 * _rxNext);
        _machine.Memory.TryReadUInt64(desc + 8, out ulong upper);
        if ((upper >> 32 & E1000Bits.RxStatusDd) == 0)
        {
            return null;
        }

        int length = (ushort)upper;
        byte[] frame = new byte[length];
        _machine.Memory.TryRead(RxBuffers + (ulong)(2048 * _rxNext), frame);
        _machine.Memory.TryWriteUInt32(desc + 12, 0);
        W(E1000Reg.Rdt, (uint)_rxNext);
        _rxNext = (_rxNext + 1) % Count;
        return frame;
    }

    private void W(uint register, uint value) => _machine.WriteMemory(Bar0 + register, 4, value);
}
