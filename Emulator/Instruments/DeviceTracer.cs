using System.Buffers.Binary;
using System.Globalization;
using Emu.Emulator.E1000;
using static Emu.Emulator.E1000.E1000Bits;
using static Emu.Emulator.E1000.E1000Reg;

namespace Emu.Emulator.Instruments;

/// <summary>
/// <c>--trace</c> for the device: one decoded line an event in the manual's names, e.g.
/// <c>W TDT    &lt;- 0x0005            (TDH 3, 2 descriptors queued)</c> or
/// <c>R ICR    -&gt; 0x00000083  TXDW|TXQE|RXT0  (cleared; INTx low)</c>. Register writes are decoded against the state
/// before they take effect, so a TDT write is traced before the descriptors it hands over.
/// </summary>
public sealed class DeviceTracer : DeviceProbe
{
    /// <summary>Both rings' descriptors are 16 bytes (§3.2.3, §3.3); RDLEN/TDLEN count bytes.</summary>
    private const uint DescriptorSize = 16;

    private static readonly CultureInfo C = CultureInfo.InvariantCulture;
    private readonly E1000Device _device;
    private readonly TraceWriter _trace;
    private readonly bool _regs;
    private readonly bool _eeprom;
    private readonly bool _phy;
    private readonly bool _desc;
    private readonly bool _dma;
    private readonly bool _irq;
    private readonly bool _wire;

    public DeviceTracer(E1000Device device, TraceWriter trace)
    {
        _device = device;
        _trace = trace;
        _regs = trace.IsOn(TraceCategory.Regs);
        _eeprom = trace.IsOn(TraceCategory.Eeprom);
        _phy = trace.IsOn(TraceCategory.Phy);
        _desc = trace.IsOn(TraceCategory.Desc);
        _dma = trace.IsOn(TraceCategory.Dma);
        _irq = trace.IsOn(TraceCategory.Irq);
        _wire = trace.IsOn(TraceCategory.Wire);
    }

    /// <summary>Whether the categories include any the device reports (regs … wire).</summary>
    public static bool Covers(TraceCategory categories)
        => (categories & (TraceCategory.Regs | TraceCategory.Eeprom | TraceCategory.Phy | TraceCategory.Desc | TraceCategory.Dma | TraceCategory.Irq | TraceCategory.Wire)) != 0;

    public override void RegisterRead(uint offset, uint value)
    {
        if (!_regs)
        {
            return;
        }

        string detail = offset switch
        {
            Icr => $"{RegisterDecoder.Causes(value)}  (cleared; INTx {(_device.IntxLevel ? "high" : "low")})",
            Ims => RegisterDecoder.Causes(value),
            Ctrl => RegisterDecoder.Ctrl(value),
            Status => RegisterDecoder.StatusBits(value),
            Rctl => RegisterDecoder.Rctl(value),
            Tctl => RegisterDecoder.Tctl(value),
            Mdic => MdicText(value),
            Eerd when (value & EerdDone) != 0 => $"DONE word {(value >> EerdAddrShift) & 0xFF} = 0x{value >> EerdDataShift:x4}",
            _ => string.Empty,
        };
        _trace.Write(detail.Length == 0 ? $"R {Name(offset)} -> {Hex(offset, value).TrimEnd()}" : $"R {Name(offset)} -> {Hex(offset, value)}  {detail}");
    }

    public override void RegisterWriting(uint offset, uint value)
    {
        if (_eeprom && offset == Eerd && (value & EerdStart) != 0)
        {
            uint word = value >> EerdAddrShift;
            string data = word < EepromImage.WordCount ? $"0x{_device.Eeprom.Image[(int)word]:x4}" : "nothing (past the 64-word part)";
            _trace.Write(string.Create(C, $"EERD read word {word} -> {data}"));
        }

        if (!_regs)
        {
            return;
        }

        string detail = offset switch
        {
            Tdt => RingText(value, Tdh, Tdlen, DescriptorSize, "queued"),
            Rdt => RingText(value, Rdh, Rdlen, DescriptorSize, "free"),
            Tdh or Rdh => $"(engine {((_device[offset == Tdh ? Tctl : Rctl] & (offset == Tdh ? TctlEn : RctlEn)) != 0 ? "enabled" : "disabled")})",
            Ims => $"{RegisterDecoder.Causes(value)}  (IMS now {RegisterDecoder.Causes(_device[Ims] | value)})",
            Imc => $"{RegisterDecoder.Causes(value)}  (IMS now {RegisterDecoder.Causes(_device[Ims] & ~value)})",
            Ics => RegisterDecoder.Causes(value),
            Icr => $"{RegisterDecoder.Causes(value)}  (cleared)",
            Ctrl => RegisterDecoder.Ctrl(value),
            Rctl => RegisterDecoder.Rctl(value),
            Tctl => RegisterDecoder.Tctl(value),
            Mdic => MdicText(value),
            Eerd => (value & EerdStart) != 0 ? $"START word {value >> EerdAddrShift}" : string.Empty,
            Tdlen or Rdlen => string.Create(C, $"({value / 16} descriptors)"),
            _ => string.Empty,
        };
        _trace.Write(detail.Length == 0 ? $"W {Name(offset)} <- {Hex(offset, value).TrimEnd()}" : $"W {Name(offset)} <- {Hex(offset, value)}  {detail}");
    }

    public override void TxDescriptor(uint index, ReadOnlySpan<byte> d, bool statusWritten)
    {
        if (!_desc)
        {
            return;
        }

        uint lower = BinaryPrimitives.ReadUInt32LittleEndian(d[8..]);
        ulong address = BinaryPrimitives.ReadUInt64LittleEndian(d);
        string body;
        if ((lower & TxdCmdDext) == 0)
        {
            body = string.Create(C, $"legacy addr=0x{address:x} len={lower & 0xFFFF} CMD={RegisterDecoder.TxLegacyCmd(d[11])}{(d[10] != 0 || d[13] != 0 ? $" CSO={d[10]} CSS={d[13]}" : string.Empty)}");
        }
        else
        {
            uint dtyp = (lower >> 20) & 0xF;
            body = dtyp switch
            {
                0 => string.Create(C, $"context IPCSS={d[0]} IPCSO={d[1]} IPCSE={BinaryPrimitives.ReadUInt16LittleEndian(d[2..])} TUCSS={d[4]} TUCSO={d[5]} TUCSE={BinaryPrimitives.ReadUInt16LittleEndian(d[6..])} PAYLEN={lower & 0xF_FFFF} TUCMD={RegisterDecoder.Tucmd(d[11])} HDRLEN={d[13]} MSS={BinaryPrimitives.ReadUInt16LittleEndian(d[14..])}"),
                1 => string.Create(C, $"data addr=0x{address:x} len={lower & 0xF_FFFF} DCMD={RegisterDecoder.TxDataCmd(d[11])} POPTS={RegisterDecoder.Popts(d[13])}"),
                _ => string.Create(C, $"reserved DTYP={dtyp} (consumed, nothing sent)"),
            };
        }

        _trace.Write(string.Create(C, $"TXD[{index}] {body} -> {(statusWritten ? "DD written" : "no write-back (RS clear)")}"));
    }

    public override void RxDescriptor(uint index, ReadOnlySpan<byte> d)
    {
        if (!_desc)
        {
            return;
        }

        ulong address = BinaryPrimitives.ReadUInt64LittleEndian(d);
        ushort length = BinaryPrimitives.ReadUInt16LittleEndian(d[8..]);
        ushort checksum = BinaryPrimitives.ReadUInt16LittleEndian(d[10..]);
        ushort special = BinaryPrimitives.ReadUInt16LittleEndian(d[14..]);
        _trace.Write(string.Create(C, $"RXD[{index}] addr=0x{address:x} len={length} STATUS={RegisterDecoder.RxStatus(d[12])}{(d[13] != 0 ? " ERRORS=" + RegisterDecoder.RxErrors(d[13]) : string.Empty)} csum=0x{checksum:x4}{(special != 0 ? $" special=0x{special:x4}" : string.Empty)} -> written back"));
    }

    public override void Dma(ulong address, int length, bool write, bool ok)
    {
        if (_dma)
        {
            _trace.Write(string.Create(C, $"DMA {(write ? "write" : "read ")} 0x{address:x12} +{length}{(ok ? string.Empty : "  FAILED: outside guest memory")}"));
        }
    }

    public override void InterruptLine(bool asserted, uint causes)
    {
        if (_irq)
        {
            _trace.Write(asserted ? $"IRQ INTx high  {RegisterDecoder.Causes(causes)}" : "IRQ INTx low");
        }
    }

    public override void EepromRead(bool eerd, int word, ushort value)
    {
        if (_eeprom && !eerd)
        {
            _trace.Write(string.Create(C, $"EECD Microwire READ word {word} -> 0x{value:x4}"));
        }
    }

    public override void PhyAccess(uint command, uint result)
    {
        if (!_phy)
        {
            return;
        }

        int phy = (int)((command >> MdicPhyShift) & 0x1F);
        int register = (int)((command >> MdicRegShift) & 0x1F);
        bool read = (command & MdicOpRead) != 0;
        bool write = (command & MdicOpWrite) != 0;
        string name = RegisterDecoder.PhyRegister(register);
        string outcome = (result & MdicError) != 0
            ? (phy != M88Phy.Address ? $"ERROR (no PHY at address {phy})" : "ERROR (no such register)")
            : read ? $"0x{result & MdicDataMask:x4}" : "done";
        string op = read ? "read " : write ? "write" : "no-op";
        string value = write ? $" <- 0x{command & MdicDataMask:x4}" : string.Empty;
        _trace.Write(string.Create(C, $"MDIC {op} PHY {phy} reg {register} ({name}){value} -> {outcome}"));
    }

    public override void Frame(ReadOnlySpan<byte> frame, bool outbound, string? drop)
    {
        if (!_wire)
        {
            return;
        }

        string summary = frame.Length >= 14
            ? $"{Mac(frame[6..12])} > {Mac(frame[..6])} type 0x{BinaryPrimitives.ReadUInt16BigEndian(frame[12..]):x4}"
            : "runt";
        _trace.Write(string.Create(C, $"WIRE {(outbound ? "out" : "in ")} {frame.Length} bytes {summary}{(drop is null ? string.Empty : $"  DROPPED: {drop}")}"));
    }

    public override void TsoContextRejected(in E1000Device.TxContext context, string reason)
    {
        if (_desc)
        {
            _trace.Write($"TSO context refused: {reason}; the packet is dropped (TSCTFC)");
        }
    }

    private static string Name(uint offset) => RegisterDecoder.Name(offset).PadRight(6);

    private static string Hex(uint offset, uint value) => RegisterDecoder.IsNarrow(offset) ? $"0x{value:x4}".PadRight(16) : $"0x{value:x8}";

    private string RingText(uint tail, uint headOffset, uint lengthOffset, uint size, string what)
    {
        uint count = _device[lengthOffset] / size;
        uint head = _device[headOffset];
        string headName = headOffset == Tdh ? "TDH" : "RDH";
        if (count == 0 || tail >= count || head >= count)
        {
            return string.Create(C, $"({headName} {head}, ring of {count}: outside the ring)");
        }

        uint pending = (tail + count - head) % count;
        return string.Create(C, $"({headName} {head}, {pending} descriptor{(pending == 1 ? string.Empty : "s")} {what})");
    }

    private static string MdicText(uint value)
    {
        string op = (value & MdicOpRead) != 0 ? "read" : (value & MdicOpWrite) != 0 ? "write" : "no-op";
        string state = (value & MdicError) != 0 ? " ERROR" : (value & MdicReady) != 0 ? " READY" : string.Empty;
        return string.Create(C, $"{op} PHY {(value >> MdicPhyShift) & 0x1F} reg {(value >> MdicRegShift) & 0x1F} data 0x{value & MdicDataMask:x4}{state}");
    }

    private static string Mac(ReadOnlySpan<byte> b) => string.Create(C, $"{b[0]:x2}:{b[1]:x2}:{b[2]:x2}:{b[3]:x2}:{b[4]:x2}:{b[5]:x2}");
}
