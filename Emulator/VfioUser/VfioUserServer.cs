using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;
using Emu.Emulator.E1000;
using Emu.Emulator.Machine;
using Emu.Emulator.Pci;
using Emu.Emulator.Platform;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Emu.Emulator.VfioUser;

/// <summary>
/// The server side of vfio-user for one 82540EM PCI function (protocol 0.0, as QEMU 11's vfio-user-pci client speaks
/// it): version and capabilities, the DMA map table, device/region/IRQ info, region reads and writes to config space,
/// BAR0 and the I/O BAR, INTx over an eventfd (level, automasked), DEVICE_RESET, and DMA for the device — straight into
/// the client's shared memory where it is mapped, DMA_READ/DMA_WRITE messages where it is not. Runs on the device's
/// thread. Bad input gets an error reply (where one is due) and is counted; the device model is never left inconsistent.
/// </summary>
public sealed partial class VfioUserServer : IDmaMemory, IDisposable
{
    public const int RegionBar0 = 0;
    public const int RegionBar1 = 1;
    public const int RegionRom = 6;
    public const int RegionConfig = 7;
    public const int RegionVga = 8;
    public const int RegionCount = 9;
    public const int IrqIntx = 0;
    public const int IrqErr = 3;
    public const int IrqCount = 5;

    private const int EPerm = 1;
    private const int ENoEnt = 2;
    private const int EIo = 5;
    private const int EInval = 22;
    private const int ENoSpc = 28;
    private const int ENoSys = 38;
    private const int ENotSup = 95;

    /// <summary>How long a DMA_READ/DMA_WRITE may wait for the client's reply.</summary>
    public static readonly TimeSpan DmaTimeout = TimeSpan.FromSeconds(5);

    private readonly E1000Device _device;
    private readonly ILogger _logger;
    private readonly DmaMapTable _maps = new();
    private readonly Queue<VfioUserMessage> _deferred = new();
    private VfioUserConnection? _connection;
    private int _triggerFd = -1;
    private int _resampleFd = -1;
    private StrongBox<bool>? _resampleStop;
    private bool _masked;
    private ushort _nextId = 0x8000;
    private int _depth;

    public VfioUserServer(E1000Device device, ILogger? logger = null)
    {
        _device = device;
        _logger = logger ?? NullLogger.Instance;
        device.Dma = this;
    }

    public E1000Device Device => _device;

    public DmaMapTable Maps => _maps;

    public bool Connected => _connection is { IsOpen: true };

    /// <summary>The client's socket for the device loop to sleep on; -1 while there is none.</summary>
    public int ConnectionFd => _connection is { IsOpen: true } c ? c.Fd : -1;

    public long Messages { get; private set; }

    /// <summary>Requests answered with an error reply (malformed, unknown, out of bounds).</summary>
    public long ErrorReplies { get; private set; }

    public long DmaMessages { get; private set; }

    public long InterruptsSignalled { get; private set; }

    public long Resets { get; private set; }

    /// <summary>
    /// Register round trips as the guest sees them: the gap before each BAR read (or posted write) that follows another
    /// BAR access within 2 ms — a vCPU in a register loop (Linux's register test, EEPROM polling). Microseconds.
    /// </summary>
    public AccessTiming Timing { get; } = new();

    /// <summary>Asks the host to run <see cref="Pump"/> on the device loop soon (called from any thread: the resample
    /// thread, or the loop itself after deferring requests during a DMA wait).</summary>
    public Action? Wakeup { get; set; }

    /// <summary>A client connected: its messages are served from now on.</summary>
    public void Attach(VfioUserConnection connection)
    {
        Detach();
        _connection = connection;

        // Messages may have arrived before the attach: the loop serves them now rather than at the next one.
        Wakeup?.Invoke();
    }

    /// <summary>The client went away: its maps and IRQ descriptors go; the device keeps its state (the spec's rule).</summary>
    public void Detach()
    {
        _maps.Clear();
        CloseTrigger();
        CloseResample();
        while (_deferred.TryDequeue(out VfioUserMessage? m))
        {
            m.CloseFds();
        }

        _connection = null;
        _masked = false;
    }

    public void Dispose()
    {
        Detach();
        _maps.Dispose();
    }

    /// <summary>Serves every message waiting (on the device's thread: when its socket is readable, or after <see cref="Wakeup"/>).</summary>
    public void Pump()
    {
        if (_depth != 0)
        {
            return;
        }

        // Requests deferred during a DMA wait outside Pump (a frame from the wire, a timer) came before anything still
        // queued: they go first, or a later TDT/RDT write would be undone by an earlier one (the ring runs backwards).
        DrainDeferred();
        while (_depth == 0 && _connection is { } c && c.TryTake(out VfioUserMessage? m))
        {
            Handle(m!);
            DrainDeferred();
        }
    }

    private void DrainDeferred()
    {
        while (_depth == 0 && _deferred.TryDequeue(out VfioUserMessage? d))
        {
            Handle(d);
        }
    }

    /// <summary>Serves one client message.</summary>
    public void Handle(VfioUserMessage m)
    {
        Messages++;
        _messageSinceUnmask = _unmaskGrace != 0;
        VfioUserHeader h = m.Header;
        if (h.IsReply)
        {
            Log.UnexpectedReply(_logger, h.Id, h.Command.ToString());
            m.CloseFds();
            return;
        }

        switch (h.Command)
        {
            case VfioUserCommand.Version:
                OnVersion(m);
                break;
            case VfioUserCommand.DmaMap:
                OnDmaMap(m);
                break;
            case VfioUserCommand.DmaUnmap:
                OnDmaUnmap(m);
                break;
            case VfioUserCommand.DeviceGetInfo:
                OnGetInfo(m);
                break;
            case VfioUserCommand.DeviceGetRegionInfo:
                OnGetRegionInfo(m);
                break;
            case VfioUserCommand.DeviceGetIrqInfo:
                OnGetIrqInfo(m);
                break;
            case VfioUserCommand.DeviceSetIrqs:
                OnSetIrqs(m);
                break;
            case VfioUserCommand.RegionRead:
                Timing.Note(m, write: false);
                OnRegionRead(m);
                break;
            case VfioUserCommand.RegionWrite:
                Timing.Note(m, write: true);
                OnRegionWrite(m);
                break;
            case VfioUserCommand.DeviceReset:
                Reply(h, []);
                ResetDevice();
                break;
            default:
                m.CloseFds();
                Error(h, ENoSys);
                break;
        }

        SyncIntx();
    }

    // ---- Replies ----

    private void Reply(VfioUserHeader request, ReadOnlySpan<byte> payload)
    {
        if (!request.WantsReply)
        {
            return;   // posted: never a reply
        }

        Span<byte> buffer = payload.Length <= 512 ? stackalloc byte[VfioUserHeader.Length + payload.Length] : new byte[VfioUserHeader.Length + payload.Length];
        new VfioUserHeader(request.Id, request.Command, (uint)buffer.Length, VfioUserHeader.TypeReply, 0).Write(buffer);
        payload.CopyTo(buffer[VfioUserHeader.Length..]);
        _connection?.Send(buffer);
    }

    private void Error(VfioUserHeader request, int errno)
    {
        ErrorReplies++;
        if (!request.WantsReply)
        {
            return;
        }

        Span<byte> buffer = stackalloc byte[VfioUserHeader.Length];
        new VfioUserHeader(request.Id, request.Command, VfioUserHeader.Length, VfioUserHeader.TypeReply | VfioUserHeader.ErrorFlag, (uint)errno).Write(buffer);
        _connection?.Send(buffer);
    }

    // ---- Handlers ----

    private void OnVersion(VfioUserMessage m)
    {
        ReadOnlySpan<byte> p = m.Payload;
        if (p.Length < 4 || BinaryPrimitives.ReadUInt16LittleEndian(p) != 0)
        {
            Error(m.Header, ENotSup);
            return;
        }

        // Our capabilities, NUL-terminated; never longer than the client's own request (its receive buffer).
        byte[] json = Encoding.ASCII.GetBytes($"{{\"capabilities\":{{\"max_msg_fds\":{VfioUserConnection.MaxFds},\"max_data_xfer_size\":1048576,\"pgsizes\":4096,\"max_dma_maps\":{DmaMapTable.MaxMaps}}}}}\0");
        int room = p.Length - 4;
        Span<byte> reply = stackalloc byte[4 + json.Length];
        reply.Clear();
        int length = 4 + (json.Length <= room ? json.Length : 0);
        json.AsSpan(0, length - 4).CopyTo(reply[4..]);
        Reply(m.Header, reply[..length]);
    }

    private void OnDmaMap(VfioUserMessage m)
    {
        ReadOnlySpan<byte> p = m.Payload;
        if (p.Length < 32 || m.Fds.Length > 1)
        {
            m.CloseFds();
            Error(m.Header, EInval);
            return;
        }

        uint flags = BinaryPrimitives.ReadUInt32LittleEndian(p[4..]);
        ulong offset = BinaryPrimitives.ReadUInt64LittleEndian(p[8..]);
        ulong iova = BinaryPrimitives.ReadUInt64LittleEndian(p[16..]);
        ulong size = BinaryPrimitives.ReadUInt64LittleEndian(p[24..]);
        string? error = _maps.Add(iova, size, offset, (flags & 2) != 0, m.Fds.Length == 1 ? m.Fds[0] : -1);
        if (error is not null)
        {
            Log.DmaMapRefused(_logger, iova, size, error);
            Error(m.Header, error.StartsWith("too many", StringComparison.Ordinal) ? ENoSpc : EInval);
            return;
        }

        Reply(m.Header, []);
    }

    private void OnDmaUnmap(VfioUserMessage m)
    {
        m.CloseFds();
        ReadOnlySpan<byte> p = m.Payload;
        if (p.Length < 24)
        {
            Error(m.Header, EInval);
            return;
        }

        ulong iova = BinaryPrimitives.ReadUInt64LittleEndian(p[8..]);
        ulong size = BinaryPrimitives.ReadUInt64LittleEndian(p[16..]);
        if (!_maps.Remove(iova, size))
        {
            Error(m.Header, ENoEnt);
            return;
        }

        Reply(m.Header, p[..24]);
    }

    private void OnGetInfo(VfioUserMessage m)
    {
        m.CloseFds();
        if (m.Payload.Length < 4 || BinaryPrimitives.ReadUInt32LittleEndian(m.Payload) < 16)
        {
            Error(m.Header, EInval);
            return;
        }

        Span<byte> r = stackalloc byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(r, 16);
        BinaryPrimitives.WriteUInt32LittleEndian(r[4..], 0x3);   // VFIO_DEVICE_FLAGS_RESET | VFIO_DEVICE_FLAGS_PCI
        BinaryPrimitives.WriteUInt32LittleEndian(r[8..], RegionCount);
        BinaryPrimitives.WriteUInt32LittleEndian(r[12..], IrqCount);
        Reply(m.Header, r);
    }

    /// <summary>The size of a region: BAR0 128 KiB, BAR1 64 bytes, config space 256; absent ones (BAR2-5, ROM, VGA) 0.</summary>
    public long RegionSize(int index) => index switch
    {
        RegionBar0 => _device.RegisterBar.Size,
        RegionBar1 => _device.IoBar.Size,
        RegionConfig => PciConfigSpace.Size,
        _ => 0,
    };

    private void OnGetRegionInfo(VfioUserMessage m)
    {
        m.CloseFds();
        ReadOnlySpan<byte> p = m.Payload;
        if (p.Length < 32 || BinaryPrimitives.ReadUInt32LittleEndian(p) < 32)
        {
            Error(m.Header, EInval);
            return;
        }

        uint index = BinaryPrimitives.ReadUInt32LittleEndian(p[8..]);
        if (index >= RegionCount)
        {
            Error(m.Header, EInval);
            return;
        }

        long size = RegionSize((int)index);
        Span<byte> r = stackalloc byte[32];
        r.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(r, 32);
        BinaryPrimitives.WriteUInt32LittleEndian(r[4..], size > 0 ? 0x3u : 0u);   // READ | WRITE
        BinaryPrimitives.WriteUInt32LittleEndian(r[8..], index);
        BinaryPrimitives.WriteUInt64LittleEndian(r[16..], (ulong)size);
        Reply(m.Header, r);
    }

    private void OnGetIrqInfo(VfioUserMessage m)
    {
        m.CloseFds();
        ReadOnlySpan<byte> p = m.Payload;
        if (p.Length < 16)
        {
            Error(m.Header, EInval);
            return;
        }

        uint index = BinaryPrimitives.ReadUInt32LittleEndian(p[8..]);
        if (index >= IrqCount || index == IrqErr)
        {
            Error(m.Header, EInval);   // no error-recovery IRQ (QEMU accepts the refusal quietly)
            return;
        }

        Span<byte> r = stackalloc byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(r, 16);
        BinaryPrimitives.WriteUInt32LittleEndian(r[4..], index == IrqIntx ? 0x7u : 0x1u);   // EVENTFD | MASKABLE | AUTOMASKED
        BinaryPrimitives.WriteUInt32LittleEndian(r[8..], index);
        BinaryPrimitives.WriteUInt32LittleEndian(r[12..], index == IrqIntx ? 1u : 0u);      // INTx only: no MSI, MSI-X
        Reply(m.Header, r);
    }

    private void OnSetIrqs(VfioUserMessage m)
    {
        ReadOnlySpan<byte> p = m.Payload;
        if (p.Length < 20)
        {
            m.CloseFds();
            Error(m.Header, EInval);
            return;
        }

        uint flags = BinaryPrimitives.ReadUInt32LittleEndian(p[4..]);
        uint index = BinaryPrimitives.ReadUInt32LittleEndian(p[8..]);
        uint start = BinaryPrimitives.ReadUInt32LittleEndian(p[12..]);
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(p[16..]);
        const uint dataNone = 1, dataBool = 2, dataEventFd = 4, actionMask = 8, actionUnmask = 16, actionTrigger = 32;
        uint data = flags & 0x7;
        uint action = flags & 0x38;
        bool oneData = data is dataNone or dataBool or dataEventFd;
        bool oneAction = action is actionMask or actionUnmask or actionTrigger;
        if (!oneData || !oneAction || (data == dataEventFd && m.Fds.Length != count) || (data != dataEventFd && m.Fds.Length != 0))
        {
            m.CloseFds();
            Error(m.Header, EInval);
            return;
        }

        if (index != IrqIntx)
        {
            m.CloseFds();
            if (count == 0 && action == actionTrigger)
            {
                Reply(m.Header, []);   // disabling what we do not have
            }
            else
            {
                Error(m.Header, EInval);
            }

            return;
        }

        if (start != 0 || count > 1)
        {
            m.CloseFds();
            Error(m.Header, EInval);
            return;
        }

        switch (action)
        {
            case actionTrigger when data == dataEventFd:
                CloseTrigger();
                _triggerFd = count == 1 ? m.Fds[0] : -1;
                _masked = false;
                break;
            case actionTrigger when count == 0:
                CloseTrigger();
                break;
            case actionTrigger:
                break;   // a software trigger: not needed for a level-triggered INTx
            case actionMask:
                _masked = true;
                break;
            case actionUnmask when data == dataEventFd:
                StartResample(count == 1 ? m.Fds[0] : -1);
                break;
            case actionUnmask:
                _masked = false;
                _unmaskGrace = System.Diagnostics.Stopwatch.GetTimestamp();
                break;
        }

        Reply(m.Header, []);
        _skipNextSync = action == actionUnmask && data == dataNone;
    }

    /// <summary>
    /// QEMU unmasks INTx when the guest touches a BAR while the line is up (its end-of-interrupt), just before forwarding
    /// that access — typically the ICR read that clears the cause. Re-signalling at the unmask itself would raise a
    /// spurious second interrupt; so the re-check waits for the next message (or 200 µs).
    /// </summary>
    private long _unmaskGrace;

    private bool _skipNextSync;

    private bool _messageSinceUnmask;

    private void OnRegionRead(VfioUserMessage m)
    {
        m.CloseFds();
        ReadOnlySpan<byte> p = m.Payload;
        if (!TryRegionAccess(p, out ulong offset, out int region, out int count) || p.Length != 16)
        {
            Error(m.Header, EInval);
            return;
        }

        byte[] reply = new byte[16 + count];
        p[..16].CopyTo(reply);
        AccessRegion(region, offset, reply.AsSpan(16), write: false);
        Reply(m.Header, reply);
        Timing.NoteReplied(m);
    }

    private void OnRegionWrite(VfioUserMessage m)
    {
        m.CloseFds();
        ReadOnlySpan<byte> p = m.Payload;
        if (!TryRegionAccess(p, out ulong offset, out int region, out int count) || p.Length != 16 + count)
        {
            Error(m.Header, EInval);
            return;
        }

        // Reply first: the write may start DMA by messages, which the client can serve only once it has its reply.
        Reply(m.Header, p[..16]);
        AccessRegion(region, offset, m.Payload.AsSpan(16, count), write: true);
    }

    private bool TryRegionAccess(ReadOnlySpan<byte> p, out ulong offset, out int region, out int count)
    {
        offset = 0;
        region = 0;
        count = 0;
        if (p.Length < 16)
        {
            return false;
        }

        offset = BinaryPrimitives.ReadUInt64LittleEndian(p);
        uint r = BinaryPrimitives.ReadUInt32LittleEndian(p[8..]);
        uint c = BinaryPrimitives.ReadUInt32LittleEndian(p[12..]);
        if (r >= RegionCount || c == 0 || c > 1 << 20)
        {
            return false;
        }

        long size = RegionSize((int)r);
        if (size == 0 || offset > (ulong)size || c > (ulong)size - offset)
        {
            return false;
        }

        region = (int)r;
        count = (int)c;
        return true;
    }

    private void AccessRegion(int region, ulong offset, Span<byte> data, bool write)
    {
        switch (region)
        {
            case RegionBar0:
            case RegionBar1:
                PciBar bar = region == RegionBar0 ? _device.RegisterBar : _device.IoBar;
                if (write)
                {
                    BarAccess.Write(_device, bar, offset, data);
                }
                else
                {
                    BarAccess.Read(_device, bar, offset, data);
                }

                break;
            case RegionConfig:
                int done = 0;
                while (done < data.Length)
                {
                    int at = (int)offset + done;
                    int chunk = BarAccess.ChunkSize((ulong)at, data.Length - done);
                    if (write)
                    {
                        uint value = 0;
                        for (int i = 0; i < chunk; i++)
                        {
                            value |= (uint)data[done + i] << (8 * i);
                        }

                        _device.ConfigWrite(at, chunk, value);
                    }
                    else
                    {
                        uint value = _device.ConfigRead(at, chunk);
                        for (int i = 0; i < chunk; i++)
                        {
                            data[done + i] = (byte)(value >> (8 * i));
                        }
                    }

                    done += chunk;
                }

                break;
        }
    }

    private void ResetDevice()
    {
        Resets++;
        _device.PowerOnReset();
        _masked = false;
    }

    // ---- INTx (level, automasked) ----

    /// <summary>
    /// Mirrors the device's INTx line: config STATUS bit 3 follows it; asserted and not disabled by COMMAND.INTX_DISABLE,
    /// it signals the trigger eventfd once, then waits for the client's UNMASK before signalling again.
    /// </summary>
    public void SyncIntx()
    {
        if (_skipNextSync)
        {
            _skipNextSync = false;
            return;
        }

        if (_unmaskGrace != 0)
        {
            if (System.Diagnostics.Stopwatch.GetElapsedTime(_unmaskGrace) < TimeSpan.FromMicroseconds(200) && !_messageSinceUnmask)
            {
                return;
            }

            _unmaskGrace = 0;
        }

        _messageSinceUnmask = false;
        bool level = _device.IntxLevel;
        ushort status = _device.Config.GetWord(PciConfigSpace.Status);
        ushort newStatus = level ? (ushort)(status | PciConfigSpace.StatusInterrupt) : (ushort)(status & ~PciConfigSpace.StatusInterrupt);
        if (newStatus != status)
        {
            _device.Config.SetWord(PciConfigSpace.Status, newStatus);
        }

        bool asserted = level && (_device.Command & PciConfigSpace.CommandIntxDisable) == 0;
        if (asserted && !_masked && _triggerFd >= 0 && Connected)
        {
            _masked = true;
            InterruptsSignalled++;
            Native.SignalEventFd(_triggerFd);
        }
    }

    private void CloseTrigger()
    {
        if (_triggerFd >= 0)
        {
            Native.Close(_triggerFd);
            _triggerFd = -1;
        }
    }

    /// <summary>KVM's resample eventfd: a signal on it means the guest's EOI, an UNMASK.</summary>
    private void StartResample(int fd)
    {
        CloseResample();
        if (fd < 0)
        {
            return;
        }

        // The thread owns the descriptor and closes it itself: closed under its blocking read, the number could be
        // reused (by a client socket) before the thread's next read, which would then steal that socket's bytes.
        var stop = new StrongBox<bool>();
        _resampleFd = fd;
        _resampleStop = stop;
        var thread = new Thread(() =>
        {
            // QEMU's eventfds are non-blocking: wait in poll, then read.
            while (true)
            {
                Native.WaitReadable(fd, -1, -1);
                if (Volatile.Read(ref stop.Value) || Native.ReadEventFd(fd) <= 0)
                {
                    break;
                }

                PendingUnmask = true;
                Wakeup?.Invoke();
            }

            Native.Close(fd);
        })
        {
            IsBackground = true,
            Name = "vfio-user resample",
        };
        thread.Start();
    }

    /// <summary>Set by the resample thread; the loop applies it (an UNMASK).</summary>
    private volatile bool _pendingUnmask;

    private bool PendingUnmask
    {
        get => _pendingUnmask;
        set => _pendingUnmask = value;
    }

    /// <summary>Applies a resample (KVM EOI) if one came.</summary>
    public void ApplyResample()
    {
        if (PendingUnmask)
        {
            PendingUnmask = false;
            _masked = false;
            SyncIntx();
        }
    }

    private void CloseResample()
    {
        if (_resampleFd >= 0)
        {
            Volatile.Write(ref _resampleStop!.Value, true);
            Native.SignalEventFd(_resampleFd);   // wakes the thread, which sees the stop and closes the descriptor
            _resampleFd = -1;
            _resampleStop = null;
        }
    }

    // ---- DMA (IDmaMemory) ----

    public unsafe bool TryRead(ulong address, Span<byte> destination)
    {
        int done = 0;
        while (done < destination.Length)
        {
            ulong at = address + (ulong)done;
            if (!_maps.Lookup(at, out byte* pointer, out ulong available, out _))
            {
                return false;
            }

            int n = (int)Math.Min((ulong)(destination.Length - done), available);
            if (pointer != null)
            {
                new ReadOnlySpan<byte>(pointer, n).CopyTo(destination.Slice(done, n));
            }
            else if (!MessageDma(VfioUserCommand.DmaRead, at, destination.Slice(done, n)))
            {
                return false;
            }

            done += n;
        }

        return true;
    }

    public unsafe bool TryWrite(ulong address, ReadOnlySpan<byte> source)
    {
        int done = 0;
        while (done < source.Length)
        {
            ulong at = address + (ulong)done;
            if (!_maps.Lookup(at, out byte* pointer, out ulong available, out bool writable) || !writable)
            {
                return false;   // no map, or a read-only one (PAM-protected RAM, ROM)
            }

            int n = (int)Math.Min((ulong)(source.Length - done), available);
            if (pointer != null)
            {
                source.Slice(done, n).CopyTo(new Span<byte>(pointer, n));
            }
            else if (!MessageDma(VfioUserCommand.DmaWrite, at, MemoryMarshalHelper.AsWritable(source.Slice(done, n))))
            {
                return false;
            }

            done += n;
        }

        return true;
    }

    /// <summary>
    /// DMA_READ/DMA_WRITE to the client for memory it did not share, in pieces of at most 1 MiB. While waiting for the
    /// reply, client requests keep being served (the client cannot serve our request while one of its own waits):
    /// reads at once, writes and resets after the current device operation, in order.
    /// </summary>
    private bool MessageDma(VfioUserCommand command, ulong address, Span<byte> data)
    {
        if (_connection is not { IsOpen: true } connection)
        {
            return false;
        }

        const int chunk = 1 << 20;
        for (int done = 0; done < data.Length; done += chunk)
        {
            int n = Math.Min(chunk, data.Length - done);
            ushort id = _nextId++;
            int size = VfioUserHeader.Length + 16 + (command == VfioUserCommand.DmaWrite ? n : 0);
            byte[] request = new byte[size];
            new VfioUserHeader(id, command, (uint)size, VfioUserHeader.TypeRequest, 0).Write(request);
            BinaryPrimitives.WriteUInt64LittleEndian(request.AsSpan(16), address + (ulong)done);
            BinaryPrimitives.WriteUInt64LittleEndian(request.AsSpan(24), (ulong)n);
            if (command == VfioUserCommand.DmaWrite)
            {
                data.Slice(done, n).CopyTo(request.AsSpan(32));
            }

            DmaMessages++;
            if (!connection.Send(request))
            {
                return false;
            }

            VfioUserMessage? reply = WaitForReply(connection, id);
            if (reply is null || (reply.Header.Flags & VfioUserHeader.ErrorFlag) != 0)
            {
                Log.DmaFailed(_logger, command.ToString(), address + (ulong)done, reply is null ? "no reply" : $"errno {reply.Header.Error}");
                return false;
            }

            if (command == VfioUserCommand.DmaRead)
            {
                if (reply.Payload.Length != 16 + n)
                {
                    Log.DmaFailed(_logger, command.ToString(), address + (ulong)done, $"reply carries {reply.Payload.Length - 16} bytes, not {n}");
                    return false;
                }

                reply.Payload.AsSpan(16, n).CopyTo(data.Slice(done, n));
            }
        }

        return true;
    }

    private VfioUserMessage? WaitForReply(VfioUserConnection connection, ushort id)
    {
        _depth++;
        try
        {
            DateTime deadline = DateTime.UtcNow + DmaTimeout;
            while (DateTime.UtcNow < deadline)
            {
                VfioUserMessage? m = connection.Take(TimeSpan.FromMilliseconds(100));
                if (m is null)
                {
                    if (!connection.IsOpen)
                    {
                        return null;
                    }

                    continue;
                }

                if (m.Header.IsReply)
                {
                    if (m.Header.Id == id)
                    {
                        return m;
                    }

                    Log.UnexpectedReply(_logger, m.Header.Id, m.Header.Command.ToString());
                    continue;
                }

                HandleNested(m);
            }

            return null;
        }
        finally
        {
            _depth--;
        }
    }

    /// <summary>A client request while our DMA message waits: answered now, its device effect deferred where it has one.</summary>
    private void HandleNested(VfioUserMessage m)
    {
        switch (m.Header.Command)
        {
            case VfioUserCommand.RegionRead:
                Handle(m);
                break;
            case VfioUserCommand.RegionWrite:
            case VfioUserCommand.DeviceReset:
                // Answer now (a non-posted write's vCPU waits for it), act later in order.
                if (m.Header.WantsReply)
                {
                    Span<byte> ack = stackalloc byte[Math.Min(16, m.Payload.Length)];
                    m.Payload.AsSpan(0, ack.Length).CopyTo(ack);
                    Reply(m.Header, m.Header.Command == VfioUserCommand.RegionWrite ? ack : []);
                }

                _deferred.Enqueue(m with { Header = m.Header with { Flags = m.Header.Flags | VfioUserHeader.NoReply } });

                // The loop pumps once this device operation ends, even if the client sends nothing more.
                Wakeup?.Invoke();
                break;
            default:
                Handle(m);
                break;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6002, Level = LogLevel.Warning, Message = "vfio-user: unexpected reply id {Id} ({Command}) ignored")]
        public static partial void UnexpectedReply(ILogger logger, ushort id, string command);

        [LoggerMessage(EventId = 6003, Level = LogLevel.Warning, Message = "vfio-user: DMA_MAP [0x{Iova:x}, +0x{Size:x}) refused: {Reason}")]
        public static partial void DmaMapRefused(ILogger logger, ulong iova, ulong size, string reason);

        [LoggerMessage(EventId = 6004, Level = LogLevel.Warning, Message = "vfio-user: {Command} at 0x{Address:x} failed: {Reason}")]
        public static partial void DmaFailed(ILogger logger, string command, ulong address, string reason);
    }
}

/// <summary>DMA_WRITE only reads its data; the shared helper takes a Span.</summary>
internal static class MemoryMarshalHelper
{
    public static Span<byte> AsWritable(ReadOnlySpan<byte> span) => System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(span), span.Length);
}
