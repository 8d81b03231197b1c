using System.Buffers;
using System.Buffers.Binary;
using Emu.Emulator.Faults;
using Emu.Emulator.Machine;
using Emu.Emulator.Wire;
using static Emu.Emulator.E1000.E1000Bits;
using static Emu.Emulator.E1000.E1000Reg;

namespace Emu.Emulator.E1000;

/// <summary>
/// The receive path (8254x manual §3.2): address/VLAN filtering, the receive FIFO sized by PBA.RXA, legacy descriptors
/// written by DMA with the FCS, checksum offload (RXCSUM), and the RDTR/RADV/RDMTS/SRPD interrupt causes.
/// </summary>
public sealed partial class E1000Device : IFrameSink
{
    /// <summary>§3.2.1: frames shorter than this (without FCS) never reach the host; Ethernet pads to 60 + 4.</summary>
    public const int MinimumFrame = 60;

    /// <summary>Frames longer than QEMU's netdev limit (69,632 bytes) cannot arrive; the FIFO bounds us well below.</summary>
    public const int MaximumWireFrame = 69_632;

    private const int FcsLength = 4;
    private const int RxDescriptorSize = 16;

    private readonly Queue<(byte[] Buffer, int Length, byte Errors)> _rxFifo = new();
    private readonly byte[] _rxScratch = new byte[MaximumWireFrame + FcsLength];
    private int _rxFifoBytes;
    private bool _rxHeadCountedRnbc;
    private VirtualTimer? _rdtrTimer;
    private VirtualTimer? _radvTimer;

    /// <summary>Guest memory as the device reaches it by DMA (null: no bus to master).</summary>
    public IDmaMemory? Dma { get; set; }

    /// <summary>Where transmitted frames go (the wire port); null drops them under TxNoWire.</summary>
    public IFrameSink? Wire { get; set; }

    /// <summary>What the device dropped and why, beside the manual's statistics.</summary>
    public E1000Statistics Statistics { get; } = new();

    /// <summary>Sees every frame at the port (a capture), with the counter that dropped it, if one did.</summary>
    public IPacketTap? Tap { get; set; }

    /// <summary>Frames waiting in the receive FIFO for descriptors.</summary>
    public int RxFifoFrames => _rxFifo.Count;

    private bool DmaAllowed => BusMasterEnabled && Dma is not null && !Halted;

    /// <summary>A frame from the wire (no FCS). It is stored in the receive FIFO, delivered to the host, or counted.</summary>
    public void ReceiveFrame(ReadOnlySpan<byte> frame)
    {
        if (Faults is { } faults && !Halted && faults.WireReceive(frame))
        {
            return;   // the fault layer took it (issue 21); what it delivers comes back through ReceiveFromWire
        }

        ReceiveFromWire(frame);
    }

    /// <summary>A frame from the wire, past the fault layer: what <see cref="ReceiveFrame"/> does with no fault armed.</summary>
    /// <param name="faultNote">The faults that changed, delayed or duplicated the frame, for the capture's comment.</param>
    public void ReceiveFromWire(ReadOnlySpan<byte> frame, string? faultNote = null)
    {
        _tapNote = faultNote;
        try
        {
            if (Halted)
            {
                DropReceived(frame, E1000DropReason.RxDeviceHalted);
                return;
            }

            ReceiveFrameInternal(frame, loopback: false);
        }
        catch (Exception e) when (Halt(e, $"a {frame.Length}-byte frame from the wire"))
        {
        }
        finally
        {
            _tapNote = null;
        }
    }

    /// <summary>The fault note of the frame being received (null for almost every frame).</summary>
    private string? _tapNote;

    private void ReceiveFrameInternal(ReadOnlySpan<byte> frame, bool loopback)
    {
        uint rctl = _regs[Rctl >> 2];
        if (!loopback && (_regs[Status >> 2] & StatusLu) == 0)
        {
            DropReceived(frame, E1000DropReason.RxLinkDown);
            return;
        }

        if ((rctl & RctlEn) == 0)
        {
            DropReceived(frame, E1000DropReason.RxDisabled);
            return;
        }

        // §3.2.1 / IEEE 802.3 §4.2.3.3: a wire frame is at least 64 bytes with the FCS; a netdev frame shorter than
        // 60 bytes is what a padding sender would have put on a real wire (QEMU 11 leaves it short).
        int length = Math.Max(frame.Length, MinimumFrame);
        int wireLength = length + FcsLength;
        int limit = (rctl & RctlLpe) != 0 ? 16384 : 1522;
        if (wireLength > limit && (rctl & RctlSbp) == 0)
        {
            IncrementCounter(Roc);
            IncrementCounter(0x4040);   // RLEC
            DropReceived(frame, E1000DropReason.RxOversize);
            return;
        }

        ReadOnlySpan<byte> padded = frame;
        if (frame.Length < MinimumFrame)
        {
            Span<byte> scratch = _rxScratch.AsSpan(0, length);
            frame.CopyTo(scratch);
            scratch[frame.Length..].Clear();
            padded = scratch;
        }

        if (!PassesFilters(padded))
        {
            DropReceived(frame, E1000DropReason.RxFiltered);
            return;
        }

        // §13.7: a frame counts as received once it passes the filters and reaches the packet buffer.
        IncrementCounter(Tpr);
        AddCounter64(Torl, (ulong)wireLength);
        ReceiveFault fault = !loopback && _faults is { } faults ? faults.Receive(frame) : ReceiveFault.None;
        int capacity = (int)(_regs[Pba >> 2] & 0x7F) * 1024;
        if (_rxFifoBytes + wireLength > capacity || fault == ReceiveFault.Overrun)
        {
            // §3.2.7.4: no room in the FIFO: the frame is lost, MPC counts it and RXO is raised.
            IncrementCounter(Mpc);
            DropReceived(frame, E1000DropReason.RxFifoOverrun);
            RaiseInterrupt(IcrRxo);
            return;
        }

        byte errors = 0;
        if (fault is ReceiveFault.CrcError or ReceiveFault.RxError)
        {
            // §13.7.1 CRCERRS / §13.7.4 RXERRC count a frame that passed the address filters; §13.4.22 SBP: a bad
            // frame is stored (with RDESC.ERRORS.CE or RXE, §3.2.3.2) only when software asked for bad packets.
            bool crc = fault == ReceiveFault.CrcError;
            IncrementCounter(crc ? Crcerrs : Rxerrc);
            if ((rctl & RctlSbp) == 0)
            {
                DropReceived(frame, crc ? E1000DropReason.RxCrcError : E1000DropReason.RxPhyError);
                return;
            }

            errors = crc ? RxErrorCe : RxErrorRxe;
        }

        if (!loopback)
        {
            Tap?.Tap(frame, outbound: false, dropReason: null, _tapNote);
            Probe?.Frame(frame, outbound: false, drop: null);
        }

        if (fault == ReceiveFault.NoBuffer)
        {
            // The descriptors look used (head = tail): §13.7.33 RNBC counts the frame, which is still received into
            // the FIFO and waits there (until the next frame or RDT write finds the descriptors); §13.4.17 RXDMT0
            // asks software for more.
            IncrementCounter(Rnbc);
            _rxHeadCountedRnbc |= _rxFifo.Count == 0;
            EnqueueReceived(padded, length, wireLength, errors);
            RaiseInterrupt(IcrRxdmt0);
            return;
        }

        // Nothing waiting and descriptors free: straight through the FIFO to host memory (no staging copy).
        if (_rxFifo.Count == 0 && (rctl & RctlEn) != 0 && DmaAllowed && TryFreeRxDescriptors(out int free))
        {
            int needed = DescriptorsNeeded(padded);
            if (free >= needed && needed < _regs[Rdlen >> 2] / RxDescriptorSize)
            {
                WriteToHost(padded, free, errors);
                return;
            }
        }

        EnqueueReceived(padded, length, wireLength, errors);
        DrainReceiveFifo();
    }

    private void EnqueueReceived(ReadOnlySpan<byte> padded, int length, int wireLength, byte errors)
    {
        byte[] stored = FramePool.Rent(length);
        padded.CopyTo(stored);
        _rxFifo.Enqueue((stored, length, errors));
        _rxFifoBytes += wireLength;
    }

    /// <summary>Moves frames from the FIFO to host memory while descriptors are free (after an RDT or RCTL write too).</summary>
    private void DrainReceiveFifo()
    {
        while (_rxFifo.Count > 0)
        {
            if ((_regs[Rctl >> 2] & RctlEn) == 0 || !DmaAllowed)
            {
                return;
            }

            (byte[] buffer, int length, byte errors) = _rxFifo.Peek();
            int needed = DescriptorsNeeded(buffer.AsSpan(0, length));
            bool ringValid = TryFreeRxDescriptors(out int free);
            if (ringValid && needed >= _regs[Rdlen >> 2] / RxDescriptorSize)
            {
                // More descriptors than the ring can ever offer (§3.2.6 keeps one unused): it would block the FIFO for good.
                _rxFifo.Dequeue();
                _rxFifoBytes -= length + FcsLength;
                _rxHeadCountedRnbc = false;
                FramePool.Return(buffer);
                Statistics.Drop(E1000DropReason.RingInvalid);
                continue;
            }

            if (!ringValid || free < needed)
            {
                if (!_rxHeadCountedRnbc)
                {
                    // §13.7.33: a frame arrived and found no buffers in host memory (it waits in the FIFO).
                    IncrementCounter(Rnbc);
                    _rxHeadCountedRnbc = true;
                }

                return;
            }

            _rxFifo.Dequeue();
            _rxFifoBytes -= length + FcsLength;
            _rxHeadCountedRnbc = false;
            WriteToHost(buffer.AsSpan(0, length), free, errors);
            FramePool.Return(buffer);
        }
    }

    private void DropReceived(ReadOnlySpan<byte> frame, E1000DropReason reason)
    {
        Statistics.Drop(reason);
        Tap?.Tap(frame, outbound: false, DropCounterName(reason), _tapNote);
        Probe?.Frame(frame, outbound: false, DropCounterName(reason));
    }

    /// <summary>The hardware statistic a drop shows in, where the manual has one, and Emu's own counter name.</summary>
    public static string DropCounterName(E1000DropReason reason) => reason switch
    {
        E1000DropReason.RxFifoOverrun => "MPC (RxFifoOverrun)",
        E1000DropReason.RxOversize => "ROC (RxOversize)",
        E1000DropReason.TxTsoContextFailed => "TSCTFC (TxTsoContextFailed)",
        E1000DropReason.RxCrcError => "CRCERRS (RxCrcError)",
        E1000DropReason.RxPhyError => "RXERRC (RxPhyError)",
        _ => reason.ToString(),
    };

    private void FlushReceiveFifo(bool countDrops = true)
    {
        while (_rxFifo.TryDequeue(out (byte[] Buffer, int Length, byte Errors) entry))
        {
            FramePool.Return(entry.Buffer);
            if (countDrops)
            {
                Statistics.Drop(E1000DropReason.RxFlushedByReset);
            }
        }

        _rxFifoBytes = 0;
        _rxHeadCountedRnbc = false;
    }

    /// <summary>§13.4.22 BSIZE/BSEX: 2048, 1024, 512, 256; with BSEX 16384, 8192, 4096.</summary>
    private int ReceiveBufferSize()
    {
        uint rctl = _regs[Rctl >> 2];
        uint bsize = (rctl >> RctlBsizeShift) & 3;
        if ((rctl & RctlBsex) != 0 && bsize != 0)
        {
            return 16384 >> (int)(bsize - 1);
        }

        return 2048 >> (int)bsize;
    }

    private int StoredLength(int frameLength, bool stripped)
        => frameLength - (stripped ? 4 : 0) + ((_regs[Rctl >> 2] & RctlSecrc) != 0 ? 0 : FcsLength);

    private int DescriptorsNeeded(ReadOnlySpan<byte> frame)
    {
        int size = ReceiveBufferSize();
        return DescriptorsUsed(StoredLength(frame.Length, ShouldStripVlan(frame)), size);
    }

    /// <summary>§3.2.3.3: with CTRL.VME, a frame whose EtherType equals VET loses its 4-byte tag to the descriptor.</summary>
    private bool ShouldStripVlan(ReadOnlySpan<byte> frame)
        => (_regs[Ctrl >> 2] & CtrlVme) != 0 && frame.Length >= 18 && BinaryPrimitives.ReadUInt16BigEndian(frame[12..]) == (ushort)_regs[Vet >> 2];

    /// <summary>Ring geometry check (§3.2.6): false when RDLEN is 0 or RDH/RDT lie outside the ring.</summary>
    private bool TryFreeRxDescriptors(out int free)
    {
        uint count = _regs[Rdlen >> 2] / RxDescriptorSize;
        uint head = _regs[Rdh >> 2];
        uint tail = _regs[Rdt >> 2];
        free = 0;
        if (count == 0 || head >= count || tail >= count)
        {
            return false;
        }

        // Hardware owns head up to, not including, tail (§3.2.6); RDH == RDT means none.
        free = (int)((tail + count - head) % count);
        return true;
    }

    /// <param name="injectedErrors">RDESC.ERRORS bits of a bad frame stored under RCTL.SBP (a device fault).</param>
    private void WriteToHost(ReadOnlySpan<byte> frame, int freeBefore, byte injectedErrors = 0)
    {
        uint rctl = _regs[Rctl >> 2];
        ushort special = 0;
        byte status = 0;
        int wireLength = frame.Length + FcsLength;
        uint fcs = EthernetCrc.Compute(frame);
        if ((injectedErrors & RxErrorCe) != 0)
        {
            fcs = ~fcs;   // the FCS the wire carried did not match
        }

        // §3.2.3.3 VLAN: with CTRL.VME and the EtherType equal to VET, the tag leaves the data for the descriptor.
        Span<byte> data = _rxScratch.AsSpan(0, frame.Length + FcsLength);
        int dataLength;
        if (ShouldStripVlan(frame))
        {
            special = BinaryPrimitives.ReadUInt16BigEndian(frame[14..]);
            status |= RxStatusVp;
            frame[..12].CopyTo(data);
            frame[16..].CopyTo(data[12..]);
            dataLength = frame.Length - 4;
        }
        else
        {
            frame.CopyTo(data);
            dataLength = frame.Length;
        }

        if ((rctl & RctlSecrc) == 0)
        {
            // The FCS as the wire carried it, least significant byte first.
            BinaryPrimitives.WriteUInt32LittleEndian(data[dataLength..], fcs);
            dataLength += FcsLength;
        }

        ReadOnlySpan<byte> stored = data[..dataLength];
        (byte checksumStatus, byte errors, ushort packetChecksum) = ReceiveChecksums(stored, (rctl & RctlSecrc) != 0 ? dataLength : dataLength - FcsLength);
        status |= checksumStatus;
        errors |= injectedErrors;

        uint count = _regs[Rdlen >> 2] / RxDescriptorSize;
        ulong ringBase = ((ulong)_regs[Rdbah >> 2] << 32) | (_regs[Rdbal >> 2] & ~0xFu);
        int bufferSize = ReceiveBufferSize();
        int offset = 0;
        bool first = true;
        Span<byte> descriptor = stackalloc byte[RxDescriptorSize];
        while (true)
        {
            uint head = _regs[Rdh >> 2];
            ulong descriptorAddress = ringBase + ((ulong)head * RxDescriptorSize);
            if (!DmaRead(descriptorAddress, descriptor, DmaTarget.RxDescriptor))
            {
                DmaError(E1000DropReason.RxDmaError, descriptorAddress);
                return;
            }

            ulong bufferAddress = BinaryPrimitives.ReadUInt64LittleEndian(descriptor);
            int slice = Math.Min(bufferSize, stored.Length - offset);
            if (slice > 0 && !DmaWrite(bufferAddress, stored.Slice(offset, slice), DmaTarget.RxBuffer))
            {
                DmaError(E1000DropReason.RxDmaError, bufferAddress);
                slice = stored.Length - offset;   // the rest of the frame is lost; close it in this descriptor
            }

            offset += slice;
            bool last = offset >= stored.Length;
            BinaryPrimitives.WriteUInt16LittleEndian(descriptor[8..], (ushort)slice);
            BinaryPrimitives.WriteUInt16LittleEndian(descriptor[10..], first ? packetChecksum : (ushort)0);
            // §3.2.3: status and errors are valid in the EOP descriptor only; the earlier ones carry DD and, as QEMU
            // writes them, VP and the VLAN tag (the manual leaves their contents open).
            descriptor[12] = (byte)(RxStatusDd | (last ? RxStatusEop | status : status & RxStatusVp));
            descriptor[13] = last ? errors : (byte)0;
            BinaryPrimitives.WriteUInt16LittleEndian(descriptor[14..], special);
            if (_faults is { } faults)
            {
                ushort writtenLength = (ushort)slice;
                if (last && faults.ReceiveWriteback(frame, ref writtenLength, ref descriptor[12]))
                {
                    BinaryPrimitives.WriteUInt16LittleEndian(descriptor[8..], writtenLength);
                }

                if (faults.WithholdDescriptorDone(FaultDirection.Rx))
                {
                    descriptor[12] &= unchecked((byte)~RxStatusDd);
                }
            }

            if (!DmaWrite(descriptorAddress, descriptor, DmaTarget.RxDescriptor))
            {
                DmaError(E1000DropReason.RxDmaError, descriptorAddress);
            }

            Probe?.RxDescriptor(head, descriptor);

            _regs[Rdh >> 2] = (head + 1) % count;
            first = false;
            if (last)
            {
                break;
            }
        }

        if (injectedErrors == 0)
        {
            CountReceived(frame, wireLength);   // §13.7: GPRC and the size buckets count good packets
        }

        int freeAfter = freeBefore - DescriptorsUsed(stored.Length, bufferSize);
        ReceiveInterrupts(wireLength, freeBefore, freeAfter, count);
    }

    private static int DescriptorsUsed(int storedLength, int bufferSize) => Math.Max(1, (storedLength + bufferSize - 1) / bufferSize);

    private void CountReceived(ReadOnlySpan<byte> frame, int wireLength)
    {
        Statistics.RxDelivered++;
        Statistics.RxBytes += frame.Length;
        IncrementCounter(Gprc);
        AddCounter64(Gorcl, (ulong)wireLength);
        if (IsBroadcast(frame))
        {
            IncrementCounter(Bprc);
        }
        else if ((frame[0] & 1) != 0)
        {
            IncrementCounter(Mprc);
        }

        IncrementCounter(SizeBucket(Prc64, wireLength));
    }

    /// <summary>§13.7.21–26 / 45–50: the 64, 65–127, 128–255, 256–511, 512–1023 and 1024–1522 byte buckets.</summary>
    private static uint SizeBucket(uint bucket64, int wireLength) => wireLength switch
    {
        <= 64 => bucket64,
        <= 127 => bucket64 + 4,
        <= 255 => bucket64 + 8,
        <= 511 => bucket64 + 12,
        <= 1023 => bucket64 + 16,
        _ => bucket64 + 20,
    };

    private void ReceiveInterrupts(int wireLength, int freeBefore, int freeAfter, uint ringSize)
    {
        // §3.2.7.3: RXDMT0 when the free descriptors become equal to RCTL.RDMTS's fraction of the ring.
        uint threshold = ringSize >> (int)(((_regs[Rctl >> 2] >> RctlRdmtsShift) & 3) + 1);
        uint causes = 0;
        if (freeBefore > threshold && freeAfter <= threshold)
        {
            causes |= IcrRxdmt0;
        }

        // §3.2.7.2: small packets interrupt at once (SRPD with RXT0).
        uint rsrpd = _regs[Rsrpd >> 2] & 0xFFF;
        uint rdtr = _regs[Rdtr >> 2] & 0xFFFF;
        if (rsrpd != 0 && wireLength <= rsrpd)
        {
            causes |= IcrSrpd | IcrRxt0;
            _rdtrTimer?.Cancel();
            _radvTimer?.Cancel();
        }
        else if (rdtr == 0)
        {
            // §13.4.30: RDTR = 0 means no delay: RXT0 for every frame.
            causes |= IcrRxt0;
        }
        else
        {
            // §3.2.7.1: the packet timer restarts on every frame; the absolute timer starts with the first.
            RxTimers();
            _rdtrTimer!.ArmIn(rdtr * 1024L);
            uint radv = _regs[Radv >> 2] & 0xFFFF;
            if (radv != 0 && !_radvTimer!.IsPending)
            {
                _radvTimer.ArmIn(radv * 1024L);
            }
        }

        if (causes != 0)
        {
            RaiseInterrupt(causes);
        }
    }

    private void RxTimers()
    {
        _rdtrTimer ??= CreateDeviceTimer("e1000 RDTR", OnReceiveDelayTimer);
        _radvTimer ??= CreateDeviceTimer("e1000 RADV", OnReceiveDelayTimer);
    }

    private void OnReceiveDelayTimer()
    {
        // Either timer expiring flushes the write-backs and raises RXT0; the other stops (§13.4.30–31).
        _rdtrTimer?.Cancel();
        _radvTimer?.Cancel();
        RaiseInterrupt(IcrRxt0);
    }

    /// <summary>RDTR.FPD (§13.4.30): expire the packet timer now.</summary>
    private void FlushPacketDelay()
    {
        if (_rdtrTimer?.IsPending == true || _radvTimer?.IsPending == true)
        {
            OnReceiveDelayTimer();
        }
    }

    // ---- Filters (§3.2.1 address filtering, §3.2.3 VLAN filtering) ----

    private bool PassesFilters(ReadOnlySpan<byte> frame)
    {
        uint rctl = _regs[Rctl >> 2];
        ushort etherType = BinaryPrimitives.ReadUInt16BigEndian(frame[12..]);
        if ((rctl & RctlVfe) != 0 && etherType == (ushort)_regs[Vet >> 2])
        {
            int vlan = BinaryPrimitives.ReadUInt16BigEndian(frame[14..]) & 0xFFF;
            if ((_regs[(Vfta >> 2) + (vlan >> 5)] & (1u << (vlan & 31))) == 0)
            {
                return false;
            }
        }

        if (IsBroadcast(frame))
        {
            if ((rctl & RctlBam) != 0)
            {
                return true;
            }
        }
        else if ((frame[0] & 1) != 0)
        {
            if ((rctl & RctlMpe) != 0)
            {
                return true;
            }
        }
        else if ((rctl & RctlUpe) != 0)
        {
            return true;
        }

        return MatchesReceiveAddress(frame) || MatchesMulticastTable(frame, rctl);
    }

    private bool MatchesReceiveAddress(ReadOnlySpan<byte> frame)
    {
        uint low = BinaryPrimitives.ReadUInt32LittleEndian(frame);
        uint high = BinaryPrimitives.ReadUInt16LittleEndian(frame[4..]);
        for (uint i = 0; i < 16; i++)
        {
            uint rah = _regs[(Rah0 >> 2) + (2 * i)];
            if ((rah & 0x8000_0000) != 0 && _regs[(Ral0 >> 2) + (2 * i)] == low && (rah & 0xFFFF) == high)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>§13.5.1: 12 bits of the destination address, chosen by RCTL.MO, index the 4096-bit MTA.</summary>
    private bool MatchesMulticastTable(ReadOnlySpan<byte> frame, uint rctl)
    {
        int shift = ((rctl >> RctlMoShift) & 3) switch
        {
            0 => 4,
            1 => 3,
            2 => 2,
            _ => 0,
        };
        int hash = ((frame[4] | (frame[5] << 8)) >> shift) & 0xFFF;
        return (_regs[(Mta >> 2) + (hash >> 5)] & (1u << (hash & 31))) != 0;
    }

    private static bool IsBroadcast(ReadOnlySpan<byte> frame)
        => frame[0] == 0xFF && frame[1] == 0xFF && frame[2] == 0xFF && frame[3] == 0xFF && frame[4] == 0xFF && frame[5] == 0xFF;

    // ---- Receive checksum offload (§3.2.9) ----

    /// <summary>
    /// The packet checksum from RXCSUM.PCSS over the stored bytes, and with IPOFLD/TUOFLD the IPv4 header and TCP/UDP
    /// (over IPv4 or IPv6) checks. <paramref name="ipLength"/> is the stored length without the FCS.
    /// </summary>
    private (byte Status, byte Errors, ushort PacketChecksum) ReceiveChecksums(ReadOnlySpan<byte> stored, int ipLength)
    {
        uint rxcsum = _regs[Rxcsum >> 2];
        int pcss = (int)(rxcsum & RxcsumPcssMask);
        ushort packetChecksum = pcss < stored.Length ? (ushort)InternetChecksum.Add(0, stored[pcss..]) : (ushort)0;
        byte status = 0;
        byte errors = 0;
        ReadOnlySpan<byte> frame = stored[..ipLength];
        if ((rxcsum & (RxcsumIpofld | RxcsumTuofld)) != 0 && frame.Length >= 14)
        {
            ushort etherType = BinaryPrimitives.ReadUInt16BigEndian(frame[12..]);
            ReadOnlySpan<byte> packet = frame[14..];
            if (etherType == 0x0800 && ReceiveChecksumIpv4(packet, rxcsum, ref status, ref errors))
            {
                // done
            }
            else if (etherType == 0x86DD && (rxcsum & RxcsumTuofld) != 0)
            {
                ReceiveChecksumIpv6(packet, ref status, ref errors);
            }
        }

        if ((status & (RxStatusIpcs | RxStatusTcpcs)) == 0)
        {
            status |= RxStatusIxsm;
        }

        return (status, errors, packetChecksum);
    }

    private static bool ReceiveChecksumIpv4(ReadOnlySpan<byte> packet, uint rxcsum, ref byte status, ref byte errors)
    {
        if (packet.Length < 20 || packet[0] >> 4 != 4)
        {
            return false;
        }

        int headerLength = (packet[0] & 0xF) * 4;
        int totalLength = BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);
        if (headerLength < 20 || headerLength > packet.Length || totalLength < headerLength || totalLength > packet.Length)
        {
            return false;
        }

        if ((rxcsum & RxcsumIpofld) != 0)
        {
            status |= RxStatusIpcs;
            if (InternetChecksum.Add(0, packet[..headerLength]) != 0xFFFF)
            {
                errors |= RxErrorIpe;
            }
        }

        bool fragment = (BinaryPrimitives.ReadUInt16BigEndian(packet[6..]) & 0x3FFF) != 0;
        byte protocol = packet[9];
        if ((rxcsum & RxcsumTuofld) != 0 && !fragment && (protocol == 6 || protocol == 17))
        {
            ReadOnlySpan<byte> segment = packet[headerLength..totalLength];
            if (protocol == 17 && segment.Length >= 8 && BinaryPrimitives.ReadUInt16BigEndian(segment[6..]) == 0)
            {
                // RFC 768: a zero UDP checksum over IPv4 means none was sent.
                status |= RxStatusTcpcs;
                return true;
            }

            uint sum = InternetChecksum.Add(0, packet.Slice(12, 8));
            sum += protocol + (uint)segment.Length;
            status |= RxStatusTcpcs;
            if (InternetChecksum.Add(sum, segment) != 0xFFFF)
            {
                errors |= RxErrorTcpe;
            }
        }

        return true;
    }

    private static void ReceiveChecksumIpv6(ReadOnlySpan<byte> packet, ref byte status, ref byte errors)
    {
        if (packet.Length < 40 || packet[0] >> 4 != 6)
        {
            return;
        }

        int payloadLength = BinaryPrimitives.ReadUInt16BigEndian(packet[4..]);
        if (40 + payloadLength > packet.Length)
        {
            return;
        }

        byte next = packet[6];
        int offset = 40;
        // Hop-by-hop (0), routing (43) and destination options (60) are walked; a fragment (44) is not checked.
        for (int hops = 0; hops < 8 && next is 0 or 43 or 60; hops++)
        {
            if (offset + 8 > 40 + payloadLength)
            {
                return;
            }

            next = packet[offset];
            offset += (packet[offset + 1] + 1) * 8;
        }

        if ((next != 6 && next != 17) || offset > 40 + payloadLength)
        {
            return;
        }

        ReadOnlySpan<byte> segment = packet[offset..(40 + payloadLength)];
        uint sum = InternetChecksum.Add(0, packet.Slice(8, 32));
        sum += next + (uint)segment.Length;
        status |= RxStatusTcpcs;
        if (InternetChecksum.Add(sum, segment) != 0xFFFF)
        {
            errors |= RxErrorTcpe;
        }
    }

    private void DmaError(E1000DropReason reason, ulong address)
    {
        Statistics.Drop(reason);
        if (_dmaFaultInjected)
        {
            _dmaFaultInjected = false;   // a dma-error fault, logged where it fired
            return;
        }

        if (!_dmaErrorLogged[(int)reason])
        {
            _dmaErrorLogged[(int)reason] = true;
            Log.DmaOutsideMemory(_logger, reason.ToString(), address);
        }
    }
}
