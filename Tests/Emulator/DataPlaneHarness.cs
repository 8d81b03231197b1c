using System.Buffers.Binary;
using Emu.Emulator.E1000;
using Emu.Emulator.Wire;

namespace Emu.Tests.Emulator;

/// <summary>
/// A NIC with receive and transmit rings in guest memory, set up as a minimal driver would (Linux's register values),
/// and a wire probe that records what the device transmits.
/// </summary>
internal sealed class DataPlaneHarness
{
    public const ulong RxRing = 0x0010_0000;
    public const ulong TxRing = 0x0011_0000;
    public const ulong RxBuffers = 0x0020_0000;
    public const ulong TxBuffers = 0x0040_0000;
    public const int BufferSpacing = 0x4000;

    public DataPlaneHarness(int rxCount = 8, int txCount = 8, uint rctl = E1000Bits.RctlEn | E1000Bits.RctlBam, bool fillRx = true, NicHarness? nic = null)
    {
        Nic = nic ?? new NicHarness();
        RxCount = rxCount;
        TxCount = txCount;
        Nic.Nic.Wire = Probe;
        Nic.Write(E1000Reg.Ims, 0x1_FFFF);
        Nic.Write(E1000Reg.Rdbal, (uint)RxRing);
        Nic.Write(E1000Reg.Rdbah, 0);
        Nic.Write(E1000Reg.Rdlen, (uint)(rxCount * 16));
        Nic.Write(E1000Reg.Rdh, 0);
        Nic.Write(E1000Reg.Rdt, 0);
        for (int i = 0; i < rxCount; i++)
        {
            WriteRxDescriptor(i, RxBuffers + (ulong)(i * BufferSpacing));
        }

        Nic.Write(E1000Reg.Rctl, rctl);
        if (fillRx)
        {
            Nic.Write(E1000Reg.Rdt, (uint)(rxCount - 1));
        }

        Nic.Write(E1000Reg.Tdbal, (uint)TxRing);
        Nic.Write(E1000Reg.Tdbah, 0);
        Nic.Write(E1000Reg.Tdlen, (uint)(txCount * 16));
        Nic.Write(E1000Reg.Tdh, 0);
        Nic.Write(E1000Reg.Tdt, 0);
        Nic.Write(E1000Reg.Tctl, E1000Bits.TctlEn | E1000Bits.TctlPsp | (0x0F << 4) | (0x40 << 12));
    }

    public NicHarness Nic { get; }

    public WireProbe Probe { get; } = new();

    public int RxCount { get; }

    public int TxCount { get; }

    public E1000Device Device => Nic.Nic;

    public E1000Statistics Stats => Nic.Nic.Statistics;

    private int _txTail;

    public void WriteRxDescriptor(int index, ulong buffer)
    {
        Span<byte> d = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(d, buffer);
        Nic.Machine.Memory.TryWrite(RxRing + (ulong)(index * 16), d);
    }

    public (ushort Length, ushort Checksum, byte Status, byte Errors, ushort Special) RxDescriptor(int index)
    {
        Span<byte> d = stackalloc byte[16];
        Nic.Machine.Memory.TryRead(RxRing + (ulong)(index * 16), d);
        return (BinaryPrimitives.ReadUInt16LittleEndian(d[8..]), BinaryPrimitives.ReadUInt16LittleEndian(d[10..]), d[12], d[13], BinaryPrimitives.ReadUInt16LittleEndian(d[14..]));
    }

    public byte[] RxBuffer(int index, int length)
    {
        byte[] data = new byte[length];
        Nic.Machine.Memory.TryRead(RxBuffers + (ulong)(index * BufferSpacing), data);
        return data;
    }

    /// <summary>Receives a frame from the wire and delivers line changes.</summary>
    public void Receive(byte[] frame)
    {
        Device.ReceiveFrame(frame);
        Nic.Machine.SyncInterrupts();
    }

    /// <summary>Queues one descriptor (16 raw bytes) at the software tail without kicking.</summary>
    public void PutTx(ReadOnlySpan<byte> descriptor)
    {
        Nic.Machine.Memory.TryWrite(TxRing + (ulong)(_txTail * 16), descriptor);
        _txTail = (_txTail + 1) % TxCount;
    }

    public ulong TxBuffer(int slot, ReadOnlySpan<byte> data)
    {
        ulong address = TxBuffers + (ulong)(slot * BufferSpacing);
        Nic.Machine.Memory.TryWrite(address, data);
        return address;
    }

    public void Kick() => Nic.Write(E1000Reg.Tdt, (uint)_txTail);

    public static byte[] Legacy(ulong address, int length, uint cmd, byte cso = 0, byte css = 0, ushort special = 0)
    {
        byte[] d = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(d, address);
        BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(8), (uint)length | cmd);
        d[10] = cso;
        d[13] = css;
        BinaryPrimitives.WriteUInt16LittleEndian(d.AsSpan(14), special);
        return d;
    }

    public static byte[] Context(byte ipcss, byte ipcso, ushort ipcse, byte tucss, byte tucso, ushort tucse, int paylen, uint tucmd, byte hdrlen, ushort mss)
    {
        byte[] d = new byte[16];
        d[0] = ipcss;
        d[1] = ipcso;
        BinaryPrimitives.WriteUInt16LittleEndian(d.AsSpan(2), ipcse);
        d[4] = tucss;
        d[5] = tucso;
        BinaryPrimitives.WriteUInt16LittleEndian(d.AsSpan(6), tucse);
        BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(8), (uint)paylen | tucmd | E1000Bits.TxdCmdDext);
        d[13] = hdrlen;
        BinaryPrimitives.WriteUInt16LittleEndian(d.AsSpan(14), mss);
        return d;
    }

    public static byte[] Data(ulong address, int length, uint dcmd, byte popts, ushort special = 0)
    {
        byte[] d = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(d, address);
        BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(8), (uint)length | dcmd | E1000Bits.TxdCmdDext | E1000Bits.TxdDtypData);
        d[13] = popts;
        BinaryPrimitives.WriteUInt16LittleEndian(d.AsSpan(14), special);
        return d;
    }

    public byte TxStatus(int index)
    {
        Span<byte> b = stackalloc byte[1];
        Nic.Machine.Memory.TryRead(TxRing + (ulong)(index * 16) + 12, b);
        return b[0];
    }
}

/// <summary>Records frames the device puts on the wire.</summary>
internal sealed class WireProbe : IFrameSink
{
    public List<byte[]> Frames { get; } = [];

    public void ReceiveFrame(ReadOnlySpan<byte> frame) => Frames.Add(frame.ToArray());
}

/// <summary>Builders for test frames.</summary>
internal static class Frames
{
    public static readonly byte[] NicMac = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
    public static readonly byte[] PeerMac = [0x52, 0x54, 0x00, 0xAA, 0xBB, 0xCC];
    public static readonly byte[] Broadcast = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];

    public static byte[] Ethernet(byte[] destination, ushort etherType, int payloadLength, byte fill = 0xA5)
    {
        byte[] frame = new byte[14 + payloadLength];
        destination.CopyTo(frame, 0);
        PeerMac.CopyTo(frame, 6);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), etherType);
        frame.AsSpan(14).Fill(fill);
        return frame;
    }

    /// <summary>An Ethernet + IPv4 + UDP frame with correct checksums.</summary>
    public static byte[] Udp4(byte[] destination, int payloadLength)
    {
        byte[] frame = Ethernet(destination, 0x0800, 20 + 8 + payloadLength);
        Span<byte> ip = frame.AsSpan(14);
        ip[..28].Clear();
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(28 + payloadLength));
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], 0x1234);
        ip[8] = 64;
        ip[9] = 17;
        ip[10] = 0;
        ip[11] = 0;
        new byte[] { 10, 0, 0, 1 }.CopyTo(ip[12..]);
        new byte[] { 10, 0, 0, 2 }.CopyTo(ip[16..]);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], InternetChecksum.Finish(InternetChecksum.Add(0, ip[..20])));
        Span<byte> udp = ip[20..];
        BinaryPrimitives.WriteUInt16BigEndian(udp, 1000);
        BinaryPrimitives.WriteUInt16BigEndian(udp[2..], 2000);
        BinaryPrimitives.WriteUInt16BigEndian(udp[4..], (ushort)(8 + payloadLength));
        udp[6] = 0;
        udp[7] = 0;
        uint sum = InternetChecksum.Add(0, ip.Slice(12, 8)) + 17 + (uint)(8 + payloadLength);
        BinaryPrimitives.WriteUInt16BigEndian(udp[6..], InternetChecksum.Finish(InternetChecksum.Add(sum, udp[..(8 + payloadLength)])));
        return frame;
    }

    public static bool Ipv4HeaderValid(ReadOnlySpan<byte> ip) => InternetChecksum.Add(0, ip[..((ip[0] & 0xF) * 4)]) == 0xFFFF;

    public static bool Ipv4TransportValid(ReadOnlySpan<byte> ip)
    {
        int header = (ip[0] & 0xF) * 4;
        int total = BinaryPrimitives.ReadUInt16BigEndian(ip[2..]);
        uint sum = InternetChecksum.Add(0, ip.Slice(12, 8)) + ip[9] + (uint)(total - header);
        return InternetChecksum.Add(sum, ip[header..total]) == 0xFFFF;
    }

    public static bool Ipv6TransportValid(ReadOnlySpan<byte> ip)
    {
        int payload = BinaryPrimitives.ReadUInt16BigEndian(ip[4..]);
        uint sum = InternetChecksum.Add(0, ip.Slice(8, 32)) + ip[6] + (uint)payload;
        return InternetChecksum.Add(sum, ip.Slice(40, payload)) == 0xFFFF;
    }
}
