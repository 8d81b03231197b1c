using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Text;
using Emu.Emulator.E1000;
using Emu.Emulator.Machine;
using Emu.Emulator.Pci;
using Emu.Emulator.Platform;
using Emu.Emulator.VfioUser;
using Microsoft.Win32.SafeHandles;

namespace Emu.Tests.Emulator;

/// <summary>
/// The vfio-user server without QEMU: this test plays the client on the other end of a socketpair (QEMU 11's message
/// shapes, fds by SCM_RIGHTS, a memfd for guest RAM, an eventfd for INTx) and checks every reply, DMA both ways, INTx
/// automasking, and that malformed input gets an error reply or a closed connection — never an exception.
/// </summary>
public sealed class VfioUserServerTests : IDisposable
{
    private readonly EventScheduler _scheduler = new();
    private readonly E1000Device _device;
    private readonly VfioUserServer _server;
    private readonly VfioUserConnection _connection;
    private readonly int _client;
    private readonly List<Thread> _clientThreads = [];
    private ushort _id;

    public VfioUserServerTests()
    {
        _device = new E1000Device(_scheduler, EepromImage.Default82540Em(), expansionRom: false);
        _server = new VfioUserServer(_device);
        (int a, int b) = Native.SocketPair();
        _client = b;
        _connection = new VfioUserConnection(a);
        _server.Attach(_connection);
    }

    public void Dispose()
    {
        // The client threads stop before their descriptor number can be reused by the next test's socketpair.
        Native.Shutdown(_client, 2);
        foreach (Thread t in _clientThreads)
        {
            Assert.True(!t.IsAlive || t.Join(TimeSpan.FromSeconds(5)));
        }

        _connection.Dispose();
        _server.Dispose();
        Native.Close(_client);
    }

    // ---- The client side ----

    private ushort Send(VfioUserCommand command, ReadOnlySpan<byte> payload, uint flags = 0, params int[] fds)
    {
        ushort id = _id++;
        byte[] m = new byte[16 + payload.Length];
        new VfioUserHeader(id, command, (uint)m.Length, flags, 0).Write(m);
        payload.CopyTo(m.AsSpan(16));
        Assert.True(Native.SendWithFds(_client, m, fds));
        return id;
    }

    /// <summary>Lets the server serve what was sent (as the device loop does) until it answers, then reads one message from it.</summary>
    private (VfioUserHeader Header, byte[] Payload) Receive()
    {
        long end = Environment.TickCount64 + 5000;
        while (Native.WaitReadable(_client, -1, 0) == 0)
        {
            Assert.True(Environment.TickCount64 < end, "no message from the server within 5 s");
            _server.Pump();
            Native.WaitReadable(_client, -1, 1_000_000);
        }

        byte[] header = new byte[16];
        Assert.True(Native.ReceiveExactly(_client, header));
        VfioUserHeader h = VfioUserHeader.Read(header);
        byte[] payload = new byte[h.Size - 16];
        Assert.True(Native.ReceiveExactly(_client, payload));
        return (h, payload);
    }

    /// <summary>Serves what the client sent until the server has closed the connection (false after 5 s).</summary>
    private bool PumpUntilClosed() => SpinWait.SpinUntil(() =>
    {
        _server.Pump();
        return !_connection.IsOpen;
    }, TimeSpan.FromSeconds(5));

    private (VfioUserHeader Header, byte[] Payload) Call(VfioUserCommand command, ReadOnlySpan<byte> payload, params int[] fds)
    {
        ushort id = Send(command, payload, 0, fds);
        (VfioUserHeader h, byte[] p) = Receive();
        Assert.Equal(id, h.Id);
        Assert.Equal(command, h.Command);
        Assert.True(h.IsReply);
        return (h, p);
    }

    private static byte[] Region(VfioUserCommand command, int region, ulong offset, int count, ReadOnlySpan<byte> data = default)
    {
        byte[] p = new byte[16 + (command == VfioUserCommand.RegionWrite ? count : 0)];
        BinaryPrimitives.WriteUInt64LittleEndian(p, offset);
        BinaryPrimitives.WriteUInt32LittleEndian(p.AsSpan(8), (uint)region);
        BinaryPrimitives.WriteUInt32LittleEndian(p.AsSpan(12), (uint)count);
        data.CopyTo(p.AsSpan(16));
        return p;
    }

    private uint ReadRegion(int region, ulong offset, int count)
    {
        (VfioUserHeader h, byte[] p) = Call(VfioUserCommand.RegionRead, Region(VfioUserCommand.RegionRead, region, offset, count));
        Assert.Equal(0u, h.Flags & VfioUserHeader.ErrorFlag);
        Assert.Equal(16 + count, p.Length);
        uint value = 0;
        for (int i = 0; i < Math.Min(4, count); i++)
        {
            value |= (uint)p[16 + i] << (8 * i);
        }

        return value;
    }

    private void WriteRegion(int region, ulong offset, uint value, int count = 4, bool posted = false)
    {
        byte[] data = new byte[count];
        for (int i = 0; i < count; i++)
        {
            data[i] = (byte)(value >> (8 * i));
        }
        byte[] payload = Region(VfioUserCommand.RegionWrite, region, offset, count, data);
        if (posted)
        {
            Send(VfioUserCommand.RegionWrite, payload, VfioUserHeader.NoReply);
            _server.Pump();   // the socketpair already holds it: one pass of the device loop serves it
            return;
        }

        (VfioUserHeader h, _) = Call(VfioUserCommand.RegionWrite, payload);
        Assert.Equal(0u, h.Flags & VfioUserHeader.ErrorFlag);
    }

    private static byte[] DmaMapPayload(ulong iova, ulong size, ulong offset, uint flags)
    {
        byte[] p = new byte[32];
        BinaryPrimitives.WriteUInt32LittleEndian(p, 32);
        BinaryPrimitives.WriteUInt32LittleEndian(p.AsSpan(4), flags);
        BinaryPrimitives.WriteUInt64LittleEndian(p.AsSpan(8), offset);
        BinaryPrimitives.WriteUInt64LittleEndian(p.AsSpan(16), iova);
        BinaryPrimitives.WriteUInt64LittleEndian(p.AsSpan(24), size);
        return p;
    }

    /// <summary>A client thread that answers each of our requests (DMA_READ/DMA_WRITE) with what <paramref name="answer"/> builds.</summary>
    private Thread AnswerDma(Func<VfioUserHeader, byte[], byte[]> answer)
    {
        var thread = new Thread(() =>
        {
            byte[] header = new byte[16];
            while (Native.ReceiveExactly(_client, header))
            {
                VfioUserHeader m = VfioUserHeader.Read(header);
                byte[] payload = new byte[m.Size - 16];
                if (Native.ReceiveExactly(_client, payload) && !m.IsReply)
                {
                    Native.SendWithFds(_client, answer(m, payload), ReadOnlySpan<int>.Empty);
                }
            }
        })
        {
            IsBackground = true,
        };
        _clientThreads.Add(thread);
        return thread;
    }

    /// <summary>The reply QEMU gives: DMA_READ with the bytes of <paramref name="memory"/>, DMA_WRITE done into it.</summary>
    private static byte[] MemoryReply(byte[] memory, VfioUserHeader m, byte[] payload)
    {
        ulong address = BinaryPrimitives.ReadUInt64LittleEndian(payload);
        int count = (int)BinaryPrimitives.ReadUInt64LittleEndian(payload.AsSpan(8));
        byte[] reply = new byte[32 + (m.Command == VfioUserCommand.DmaRead ? count : 0)];
        new VfioUserHeader(m.Id, m.Command, (uint)reply.Length, VfioUserHeader.TypeReply, 0).Write(reply);
        payload.AsSpan(0, 16).CopyTo(reply.AsSpan(16));
        if (m.Command == VfioUserCommand.DmaRead)
        {
            memory.AsSpan((int)address, count).CopyTo(reply.AsSpan(32));
        }
        else
        {
            payload.AsSpan(16, count).CopyTo(memory.AsSpan((int)address));
        }

        return reply;
    }

    // ---- Tests ----

    [Fact]
    public void AttachSequenceAsQemuSendsIt()
    {
        byte[] version = new byte[4 + 150];
        Encoding.ASCII.GetBytes("{\"capabilities\": {\"pgsizes\": 4096, \"max_msg_fds\": 16}}\0").CopyTo(version, 4);
        (VfioUserHeader h, byte[] p) = Call(VfioUserCommand.Version, version);
        Assert.Equal(0, BinaryPrimitives.ReadUInt16LittleEndian(p));
        Assert.Equal(0, BinaryPrimitives.ReadUInt16LittleEndian(p.AsSpan(2)));
        Assert.Equal(0, p[^1]);                                   // NUL-terminated JSON
        Assert.Contains("\"max_data_xfer_size\":1048576", Encoding.ASCII.GetString(p, 4, p.Length - 5), StringComparison.Ordinal);
        Assert.True(h.Size <= 16 + version.Length);             // never more than the client's buffer

        byte[] info = new byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(info, 16);
        (_, p) = Call(VfioUserCommand.DeviceGetInfo, info);
        Assert.Equal((3u, 9u, 5u), (BinaryPrimitives.ReadUInt32LittleEndian(p.AsSpan(4)), BinaryPrimitives.ReadUInt32LittleEndian(p.AsSpan(8)), BinaryPrimitives.ReadUInt32LittleEndian(p.AsSpan(12))));

        foreach ((int index, ulong size) in new[] { (0, 0x20000UL), (1, 0x40UL), (2, 0UL), (5, 0UL), (7, 0x100UL) })
        {
            byte[] ri = new byte[32];
            BinaryPrimitives.WriteUInt32LittleEndian(ri, 32);
            BinaryPrimitives.WriteUInt32LittleEndian(ri.AsSpan(8), (uint)index);
            (h, p) = Call(VfioUserCommand.DeviceGetRegionInfo, ri);
            Assert.Equal(0u, h.Flags & VfioUserHeader.ErrorFlag);   // absent BARs answer size 0, not an error
            Assert.Equal(size, BinaryPrimitives.ReadUInt64LittleEndian(p.AsSpan(16)));
        }

        byte[] irq = new byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(irq, 16);
        BinaryPrimitives.WriteUInt32LittleEndian(irq.AsSpan(8), 3);
        (h, _) = Call(VfioUserCommand.DeviceGetIrqInfo, irq);
        Assert.NotEqual(0u, h.Flags & VfioUserHeader.ErrorFlag);   // no ERR irq

        Assert.Equal(0x100E8086u, ReadRegion(VfioUserServer.RegionConfig, 0, 4));
        Assert.Equal(0u, ReadRegion(VfioUserServer.RegionConfig, 0x30, 4));   // no ROM
        Assert.Equal(1u, ReadRegion(VfioUserServer.RegionConfig, 0x3D, 1));   // INTA
        Assert.Equal(1u, ReadRegion(VfioUserServer.RegionConfig, 0x14, 4) & 1);   // BAR1 is I/O
    }

    [Fact]
    public void RegisterAccessesReachTheDeviceAndPostedWritesGetNoReply()
    {
        WriteRegion(VfioUserServer.RegionConfig, 4, 0x0407, 2);   // MEM | IO | MASTER | INTX_DISABLE
        Assert.Equal(0x0407u, ReadRegion(VfioUserServer.RegionConfig, 4, 2));
        WriteRegion(VfioUserServer.RegionBar0, E1000Reg.Ims, 0x9D, posted: true);
        Assert.Equal(0x9Du, ReadRegion(VfioUserServer.RegionBar0, E1000Reg.Ims, 4));

        // The I/O BAR's IOADDR/IODATA window reaches the same registers (Linux's 82540 reset path).
        WriteRegion(VfioUserServer.RegionBar1, 0, E1000Reg.Rdtr);
        WriteRegion(VfioUserServer.RegionBar1, 4, 0x55);
        Assert.Equal(0x55u, ReadRegion(VfioUserServer.RegionBar0, E1000Reg.Rdtr, 4));

        // An 8-byte read splits in two dwords, as QEMU's memory core would.
        (_, byte[] p) = Call(VfioUserCommand.RegionRead, Region(VfioUserCommand.RegionRead, 0, E1000Reg.Ctrl, 12));
        Assert.Equal(16 + 12, p.Length);
        Assert.Equal(_device.Registers[(int)(E1000Reg.Ctrl >> 2)], BinaryPrimitives.ReadUInt32LittleEndian(p.AsSpan(16)));
        Assert.Equal(_device.Registers[(int)(E1000Reg.Status >> 2)], BinaryPrimitives.ReadUInt32LittleEndian(p.AsSpan(24)));
    }

    [Fact]
    public void DmaGoesStraightIntoTheClientsSharedMemory()
    {
        const int size = 1 << 20;
        int memfd = Native.MemfdCreate("guest-ram", 0);
        Assert.True(Native.Ftruncate(memfd, size) == 0);
        (VfioUserHeader h, _) = Call(VfioUserCommand.DmaMap, DmaMapPayload(0, size, 0, 3), memfd);
        Assert.Equal(0u, h.Flags & VfioUserHeader.ErrorFlag);

        using var view = MemoryMappedFile.CreateFromFile($"/proc/self/fd/{memfd}", FileMode.Open, null, size).CreateViewAccessor();
        ReceiveOneFrame(0x1000, 0x2000);
        byte[] stored = new byte[60];
        view.ReadArray(0x2000, stored, 0, 60);
        Assert.Equal(TestFrame(), stored);
        Assert.Equal(0, _server.DmaMessages);

        // Unmapped: the next DMA fails and is counted by the device, nothing thrown.
        byte[] unmap = new byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(unmap, 24);
        BinaryPrimitives.WriteUInt64LittleEndian(unmap.AsSpan(16), size);
        (h, _) = Call(VfioUserCommand.DmaUnmap, unmap);
        Assert.Equal(0u, h.Flags & VfioUserHeader.ErrorFlag);
        Assert.Equal(0, _server.Maps.Count);
        long dropsBefore = _device.Statistics.TotalDrops;
        Reg(E1000Reg.Rdt, 0);   // hand the descriptor back; its DMA now finds no map
        _device.ReceiveFrame(TestFrame());
        Assert.Equal(1, _device.Statistics.RxDelivered);
        Assert.Equal(dropsBefore + 1, _device.Statistics.TotalDrops);
    }

    [Fact]
    public void DmaWithoutSharedMemoryGoesByMessagesWhileTheClientIsServed()
    {
        (VfioUserHeader h, _) = Call(VfioUserCommand.DmaMap, DmaMapPayload(0, 1 << 20, 0, 3));
        Assert.Equal(0u, h.Flags & VfioUserHeader.ErrorFlag);
        byte[] memory = new byte[1 << 20];
        int dmaRequests = 0;

        // The client: answers DMA_READ/DMA_WRITE from its own memory, as QEMU's main loop does.
        Thread client = AnswerDma((m, payload) =>
        {
            dmaRequests++;
            return MemoryReply(memory, m, payload);
        });

        SetUpReceiveRing(0x1000, 0x2000, (address, bytes) => bytes.CopyTo(memory.AsSpan((int)address)));
        client.Start();
        _device.ReceiveFrame(TestFrame());
        Assert.Equal(TestFrame(), memory.AsSpan(0x2000, 60).ToArray());
        Assert.True(_server.DmaMessages >= 3);   // descriptor read, buffer write, descriptor write-back
        Assert.True(dmaRequests >= 3);
    }

    [Fact]
    public void WritesDeferredDuringADmaOutsidePumpGoBeforeLaterRequests()
    {
        Call(VfioUserCommand.DmaMap, DmaMapPayload(0, 1 << 20, 0, 3));
        byte[] memory = new byte[1 << 20];
        int wakeups = 0;
        _server.Wakeup = () => wakeups++;
        bool sentEarlyWrite = false;

        // The client: on our first DMA request its vCPU has just posted RDTR=1 (it arrives while we wait), then it answers.
        Thread client = AnswerDma((m, payload) =>
        {
            if (!sentEarlyWrite)
            {
                sentEarlyWrite = true;
                byte[] w = new byte[16 + 16 + 4];
                new VfioUserHeader(1000, VfioUserCommand.RegionWrite, (uint)w.Length, VfioUserHeader.NoReply, 0).Write(w);
                Region(VfioUserCommand.RegionWrite, VfioUserServer.RegionBar0, E1000Reg.Rdtr, 4, [1, 0, 0, 0]).CopyTo(w, 16);
                Native.SendWithFds(_client, w, ReadOnlySpan<int>.Empty);
            }

            return MemoryReply(memory, m, payload);
        });

        SetUpReceiveRing(0x1000, 0x2000, (address, bytes) => bytes.CopyTo(memory.AsSpan((int)address)));
        client.Start();
        _device.ReceiveFrame(TestFrame());   // a frame from the wire: DMA outside Pump
        Assert.True(sentEarlyWrite);
        Assert.True(wakeups > 0);            // the loop is told to apply the deferred write even if nothing else comes
        Assert.Equal(0u, (uint)_device.BarRead(_device.RegisterBar, E1000Reg.Rdtr, 4));

        // The vCPU's next write comes after the deferred one and must win (RDT/TDT would otherwise run backwards).
        WriteRegion(VfioUserServer.RegionBar0, E1000Reg.Rdtr, 2, posted: true);
        Assert.Equal(2u, (uint)_device.BarRead(_device.RegisterBar, E1000Reg.Rdtr, 4));
    }

    [Fact]
    public void IntxSignalsOnceUntilUnmaskedAndHonoursIntxDisable()
    {
        int trigger = Native.EventFd(0, Native.EfdNonBlock);
        (VfioUserHeader h, _) = Call(VfioUserCommand.DeviceSetIrqs, SetIrqsIntx(IrqDataEventfd | IrqActionTrigger), trigger);
        Assert.Equal(0u, h.Flags & VfioUserHeader.ErrorFlag);

        WriteRegion(VfioUserServer.RegionConfig, 4, 0x0007, 2);
        WriteRegion(VfioUserServer.RegionBar0, E1000Reg.Ims, E1000Bits.IcrTxdw, posted: true);
        WriteRegion(VfioUserServer.RegionBar0, E1000Reg.Ics, E1000Bits.IcrTxdw, posted: true);
        Assert.Equal(1, _server.InterruptsSignalled);
        Assert.NotEqual(0u, ReadRegion(VfioUserServer.RegionConfig, 6, 2) & PciConfigSpace.StatusInterrupt);

        // Automasked: still asserted, no second signal until the client unmasks.
        WriteRegion(VfioUserServer.RegionBar0, E1000Reg.Ics, E1000Bits.IcrTxdw, posted: true);
        Assert.Equal(1, _server.InterruptsSignalled);
        byte[] unmask = SetIrqsIntx(IrqDataNone | IrqActionUnmask);
        Call(VfioUserCommand.DeviceSetIrqs, unmask);
        Assert.Equal(1, _server.InterruptsSignalled);   // not at the unmask itself: QEMU forwards the access that caused it next
        ReadRegion(VfioUserServer.RegionBar0, E1000Reg.Status, 4);
        Assert.Equal(2, _server.InterruptsSignalled);   // that access did not clear the cause: re-signalled

        // Reading ICR clears it; with INTX_DISABLE nothing is signalled even after an unmask.
        ReadRegion(VfioUserServer.RegionBar0, E1000Reg.Icr, 4);
        Call(VfioUserCommand.DeviceSetIrqs, unmask);
        WriteRegion(VfioUserServer.RegionConfig, 4, 0x0407, 2);
        WriteRegion(VfioUserServer.RegionBar0, E1000Reg.Ics, E1000Bits.IcrTxdw, posted: true);
        Assert.Equal(2, _server.InterruptsSignalled);
        Assert.Equal(2, ReadCounter(trigger));
    }

    [Fact]
    public void KvmResampleEventfdActsAsAnUnmask()
    {
        // QEMU's eventfds are non-blocking (EFD_NONBLOCK); under KVM the guest's EOI signals the resample one.
        int trigger = Native.EventFd(0, Native.EfdNonBlock);
        int resample = Native.EventFd(0, Native.EfdNonBlock);
        Assert.Equal(0u, Call(VfioUserCommand.DeviceSetIrqs, SetIrqsIntx(IrqDataEventfd | IrqActionTrigger), trigger).Header.Flags & VfioUserHeader.ErrorFlag);
        Assert.Equal(0u, Call(VfioUserCommand.DeviceSetIrqs, SetIrqsIntx(IrqDataEventfd | IrqActionUnmask), resample).Header.Flags & VfioUserHeader.ErrorFlag);
        int wakeups = 0;
        _server.Wakeup = () => Interlocked.Increment(ref wakeups);

        WriteRegion(VfioUserServer.RegionConfig, 4, 0x0007, 2);
        WriteRegion(VfioUserServer.RegionBar0, E1000Reg.Ims, E1000Bits.IcrTxdw, posted: true);
        WriteRegion(VfioUserServer.RegionBar0, E1000Reg.Ics, E1000Bits.IcrTxdw, posted: true);
        Assert.Equal(1, _server.InterruptsSignalled);

        // The EOI: the server's thread sees it and asks the loop to run; the loop applies it and, the cause still
        // pending, signals again.
        Native.SignalEventFd(resample);
        Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref wakeups) > 0, TimeSpan.FromSeconds(5)));
        _server.ApplyResample();
        Assert.Equal(2, _server.InterruptsSignalled);
        Assert.Equal(2, ReadCounter(trigger));

        // A second EOI after the cause is gone signals nothing.
        ReadRegion(VfioUserServer.RegionBar0, E1000Reg.Icr, 4);
        Native.SignalEventFd(resample);
        Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref wakeups) > 1, TimeSpan.FromSeconds(5)));
        _server.ApplyResample();
        Assert.Equal(2, _server.InterruptsSignalled);
        Native.Close(resample);
    }

    // VFIO_IRQ_SET_* flags of SET_IRQS (linux/vfio.h, as vfio-user reuses them).
    private const uint IrqDataNone = 0x1;
    private const uint IrqDataEventfd = 0x4;
    private const uint IrqActionUnmask = 0x10;
    private const uint IrqActionTrigger = 0x20;

    /// <summary>A SET_IRQS payload for INTx (index 0, start 0, count 1): argsz, flags, index, start, count.</summary>
    private static byte[] SetIrqsIntx(uint flags)
    {
        byte[] set = new byte[20];
        BinaryPrimitives.WriteUInt32LittleEndian(set, 20);
        BinaryPrimitives.WriteUInt32LittleEndian(set.AsSpan(4), flags);
        BinaryPrimitives.WriteUInt32LittleEndian(set.AsSpan(16), 1);
        return set;
    }

    private static long ReadCounter(int eventFd)
    {
        long value = Native.ReadEventFd(eventFd);
        Native.Close(eventFd);
        return value;
    }

    [Theory]
    [InlineData(VfioUserCommand.DmaMap, 8)]
    [InlineData(VfioUserCommand.DmaUnmap, 4)]
    [InlineData(VfioUserCommand.DeviceGetInfo, 2)]
    [InlineData(VfioUserCommand.DeviceGetRegionInfo, 12)]
    [InlineData(VfioUserCommand.DeviceGetIrqInfo, 8)]
    [InlineData(VfioUserCommand.DeviceSetIrqs, 10)]
    [InlineData(VfioUserCommand.RegionRead, 3)]
    [InlineData(VfioUserCommand.RegionWrite, 15)]
    [InlineData(VfioUserCommand.Version, 1)]
    [InlineData((VfioUserCommand)99, 0)]
    public void MalformedOrUnknownRequestsGetAnErrorReply(VfioUserCommand command, int payloadLength)
    {
        (VfioUserHeader h, byte[] p) = Call(command, new byte[payloadLength]);
        Assert.NotEqual(0u, h.Flags & VfioUserHeader.ErrorFlag);
        Assert.NotEqual(0u, h.Error);
        Assert.Empty(p);
        Assert.Equal(0x100E8086u, ReadRegion(VfioUserServer.RegionConfig, 0, 4));   // still serving
    }

    [Theory]
    [InlineData(VfioUserServer.RegionBar0, 0x1FFFC, 8)]   // past the end of BAR0
    [InlineData(VfioUserServer.RegionConfig, 0x100, 1)]
    [InlineData(2, 0, 4)]                                   // an absent BAR
    [InlineData(42, 0, 4)]                                  // no such region
    public void AccessesOutsideARegionAreRefused(int region, ulong offset, int count)
    {
        (VfioUserHeader h, _) = Call(VfioUserCommand.RegionRead, Region(VfioUserCommand.RegionRead, region, offset, count));
        Assert.Equal(22u, h.Error);
    }

    [Fact]
    public void OverlappingAndUnknownMapsAreRefused()
    {
        Assert.Equal(0u, Call(VfioUserCommand.DmaMap, DmaMapPayload(0x10000, 0x10000, 0, 1)).Header.Error);
        Assert.Equal(22u, Call(VfioUserCommand.DmaMap, DmaMapPayload(0x18000, 0x10000, 0, 1)).Header.Error);
        byte[] unmap = new byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(unmap, 24);
        BinaryPrimitives.WriteUInt64LittleEndian(unmap.AsSpan(8), 0x10000);
        BinaryPrimitives.WriteUInt64LittleEndian(unmap.AsSpan(16), 0x8000);
        Assert.Equal(2u, Call(VfioUserCommand.DmaUnmap, unmap).Header.Error);
    }

    [Fact]
    public void AnOversizedMessageClosesTheConnectionAndTheDeviceLivesOn()
    {
        byte[] bad = new byte[16];
        new VfioUserHeader(1, VfioUserCommand.RegionWrite, 64 << 20, 0, 0).Write(bad);
        Native.SendWithFds(_client, bad, ReadOnlySpan<int>.Empty);
        Assert.True(PumpUntilClosed());
        Assert.Equal(1, _connection.ProtocolErrors);
        _server.Detach();
        Assert.Equal(0x100E8086u, _device.ConfigRead(0, 4));
    }

    [Theory]
    [InlineData(8)]    // a size below the header's own
    [InlineData(15)]
    public void AnUndersizedMessageClosesTheConnection(uint size)
    {
        byte[] bad = new byte[16];
        new VfioUserHeader(1, VfioUserCommand.RegionRead, size, 0, 0).Write(bad);
        Native.SendWithFds(_client, bad, ReadOnlySpan<int>.Empty);
        Assert.True(PumpUntilClosed());
        Assert.Equal(1, _connection.ProtocolErrors);
    }

    [Fact]
    public void AMessageCutShortByTheClientClosesTheConnection()
    {
        byte[] cut = new byte[16 + 8];
        new VfioUserHeader(1, VfioUserCommand.RegionRead, 16 + 16, 0, 0).Write(cut);   // promises 16 bytes, sends 8
        Native.SendWithFds(_client, cut, ReadOnlySpan<int>.Empty);
        Native.Shutdown(_client, 1);
        Assert.True(PumpUntilClosed());
        Assert.Equal(1, _connection.ProtocolErrors);
        _server.Pump();
        Assert.Equal(0x100E8086u, _device.ConfigRead(0, 4));
    }

    [Fact]
    public void MoreDescriptorsThanAnnouncedCloseTheConnection()
    {
        int[] fds = new int[VfioUserConnection.MaxFds + 1];
        for (int i = 0; i < fds.Length; i++)
        {
            fds[i] = Native.EventFd(0, 0);
        }

        Send(VfioUserCommand.DmaMap, DmaMapPayload(0, 0x1000, 0, 3), 0, fds);
        Assert.True(PumpUntilClosed());
        Assert.Equal(1, _connection.ProtocolErrors);
        foreach (int fd in fds)
        {
            Native.Close(fd);
        }
    }

    [Theory]
    [InlineData(false)]   // the reply carries fewer bytes than asked for
    [InlineData(true)]    // the client answers with an error
    public void ABadDmaReadReplyFailsTheDmaAndTheDeviceCountsIt(bool error)
    {
        (VfioUserHeader h, _) = Call(VfioUserCommand.DmaMap, DmaMapPayload(0, 1 << 20, 0, 3));
        Assert.Equal(0u, h.Flags & VfioUserHeader.ErrorFlag);
        Thread client = AnswerDma((m, payload) =>
        {
            byte[] reply = new byte[error ? 16 : 16 + 16 + 2];
            new VfioUserHeader(m.Id, m.Command, (uint)reply.Length, VfioUserHeader.TypeReply | (error ? VfioUserHeader.ErrorFlag : 0), error ? 14u : 0).Write(reply);
            if (!error)
            {
                payload.AsSpan(0, 16).CopyTo(reply.AsSpan(16));
            }

            return reply;
        });
        client.Start();

        _device.ConfigWrite(4, 2, 0x0007);   // bus master on: the DMA is attempted
        Assert.False(_device.Dma!.TryRead(0x1000, new byte[16]));
        Assert.True(_server.DmaMessages >= 1);
        Assert.Equal(0x100E8086u, _device.ConfigRead(0, 4));
    }

    // ---- A receive ring in "guest memory" ----

    private void Reg(uint offset, uint value) => _device.BarWrite(_device.RegisterBar, offset, 4, value);

    private static byte[] TestFrame()
    {
        byte[] frame = new byte[60];
        new byte[] { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc, 0x88, 0xb5 }.CopyTo(frame, 0);
        for (int i = 14; i < 60; i++)
        {
            frame[i] = (byte)i;
        }

        return frame;
    }

    private void ReceiveOneFrame(ulong ring, ulong buffer)
    {
        SetUpReceiveRing(ring, buffer, (address, bytes) => Assert.True(_device.Dma!.TryWrite(address, bytes)));
        _device.ReceiveFrame(TestFrame());
        Assert.Equal(1, _device.Statistics.RxDelivered);
    }

    /// <summary>Bus mastering on, link up, one RX descriptor at <paramref name="ring"/> pointing at <paramref name="buffer"/>.</summary>
    private void SetUpReceiveRing(ulong ring, ulong buffer, Action<ulong, byte[]> writeMemory)
    {
        _device.ConfigWrite(4, 2, 0x0007);
        byte[] descriptor = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(descriptor, buffer);
        writeMemory(ring, descriptor);
        writeMemory(ring + 16, new byte[16]);
        Reg(E1000Reg.Rdbal, (uint)ring);
        Reg(E1000Reg.Rdlen, 128);
        Reg(E1000Reg.Rdh, 0);
        Reg(E1000Reg.Rdt, 1);
        Reg(E1000Reg.Rctl, E1000Bits.RctlEn | E1000Bits.RctlUpe | E1000Bits.RctlSecrc);
        _device.SetCarrier(false);
        _device.SetCarrier(true);
        _device.Registers[(int)(E1000Reg.Status >> 2)] |= E1000Bits.StatusLu;
    }
}
