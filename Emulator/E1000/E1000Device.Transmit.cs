using System.Buffers.Binary;
using Emu.Emulator.Faults;
using Emu.Emulator.Machine;
using static Emu.Emulator.E1000.E1000Bits;
using static Emu.Emulator.E1000.E1000Reg;

namespace Emu.Emulator.E1000;

/// <summary>
/// The transmit path (8254x manual §3.3–3.5): legacy, context and data descriptors fetched by DMA from TDH to TDT,
/// packets gathered up to EOP, checksum insertion (legacy CSO/CSS/IC; POPTS IXSM/TXSM with the context), TCP
/// segmentation for IPv4 and IPv6 (TCP or UDP), VLAN insertion, short-packet padding, write-back, TXDW with
/// TIDV/TADV, TXQE and TXD_LOW, and MAC/PHY loopback.
/// </summary>
public sealed partial class E1000Device
{
    private const int TxDescriptorSize = 16;

    /// <summary>§3.5: the header buffer the TSO engine replicates into every segment.</summary>
    private const int TsoHeaderMax = 240;

    /// <summary>§3.3.7: a non-TSO packet must be at least 80 bytes shorter than the transmit FIFO.</summary>
    private const int TxFifoSlack = 80;

    private readonly byte[] _txPacket = new byte[64 * 1024 + 256];
    private readonly byte[] _txHeader = new byte[TsoHeaderMax];
    private TxPacketState _tx;
    private TxContext _context;
    private VirtualTimer? _tidvTimer;
    private VirtualTimer? _tadvTimer;
    private bool _transmitting;

    /// <summary>Gathering state of the packet in progress (plain data: a snapshot carries it).</summary>
    public struct TxPacketState
    {
        public int Length;
        public bool Started;
        public byte Popts;
        public bool Tso;
        public bool Oversize;
        public bool LegacyChecksum;
        public byte LegacyCss;
        public byte LegacyCso;
        public bool Vlan;
        public ushort Special;
        public int HeaderFilled;
        public int TsoPayloadSent;
        public int TsoSegments;
        public uint TsoFirstSequence;
        public ushort TsoFirstIpId;

        /// <summary>
        /// The offload context captured at the packet's first data descriptor. §3.3.5 says a context descriptor
        /// should not arrive in the middle of a packet but not what the chip then does; we choose that the packet in
        /// progress keeps the context it started with and a mid-packet context applies from the next packet on.
        /// Capturing once means a length validated at the start is the length used to the end.
        /// </summary>
        public TxContext Context;
    }

    /// <summary>The offload context set by the last context descriptor (§3.3.6); it persists across packets.</summary>
    public struct TxContext
    {
        public byte Ipcss;
        public byte Ipcso;
        public ushort Ipcse;
        public byte Tucss;
        public byte Tucso;
        public ushort Tucse;
        public int PayloadLength;
        public byte Tucmd;
        public byte HeaderLength;
        public ushort Mss;
    }

    /// <summary>Processes descriptors from TDH up to TDT (a TDT write, or TCTL.EN set); at most one ring per kick.</summary>
    private void ProcessTransmitRing()
    {
        if ((_regs[Tctl >> 2] & TctlEn) == 0 || _transmitting || !DmaAllowed)
        {
            return;
        }

        uint count = _regs[Tdlen >> 2] / TxDescriptorSize;
        uint head = _regs[Tdh >> 2];
        uint tail = _regs[Tdt >> 2];
        if (head == tail)
        {
            return;
        }

        if (count == 0 || head >= count || tail >= count)
        {
            Statistics.Drop(E1000DropReason.RingInvalid);
            return;
        }

        if (_faults is { } faults && faults.TransmitHung())
        {
            return;   // tx-hang: TDH stays, nothing is written back, no TXDW, until CTRL.RST
        }

        _transmitting = true;
        uint pendingBefore = (tail + count - head) % count;
        ulong ringBase = ((ulong)_regs[Tdbah >> 2] << 32) | (_regs[Tdbal >> 2] & ~0xFu);
        bool reported = false;
        bool delayed = false;
        int processed = 0;
        Span<byte> descriptor = stackalloc byte[TxDescriptorSize];
        while (head != tail && processed < count)
        {
            ulong address = ringBase + ((ulong)head * TxDescriptorSize);
            if (!DmaRead(address, descriptor, DmaTarget.TxDescriptor))
            {
                DmaError(E1000DropReason.TxDmaError, address);
                break;
            }

            uint lower = BinaryPrimitives.ReadUInt32LittleEndian(descriptor[8..]);
            ProcessTxDescriptor(descriptor, lower);
            if ((lower & (TxdCmdRs | TxdCmdRps)) != 0)
            {
                // §3.3.3.2: status written back with DD; for IDE descriptors TXDW waits for TIDV.
                byte sta = (byte)((descriptor[12] & 0xF0) | TxStatusDd);
                if (_faults is { } f && f.WithholdDescriptorDone(FaultDirection.Tx))
                {
                    // dd-withheld: done, but the status write-back (and with it DD) never lands.
                }
                else if (!DmaWrite(address + 12, new ReadOnlySpan<byte>(in sta), DmaTarget.TxDescriptor))
                {
                    DmaError(E1000DropReason.TxDmaError, address + 12);
                }

                bool ide = (lower & TxdCmdIde) != 0 && (_regs[Tidv >> 2] & 0xFFFF) != 0;
                delayed |= ide;
                reported |= !ide;
            }

            Probe?.TxDescriptor(head, descriptor, (lower & (TxdCmdRs | TxdCmdRps)) != 0);
            head = (head + 1) % count;
            _regs[Tdh >> 2] = head;
            processed++;
        }

        _transmitting = false;
        uint causes = reported ? IcrTxdw : 0;
        if (delayed)
        {
            TxTimers();
            _tidvTimer!.ArmIn((_regs[Tidv >> 2] & 0xFFFF) * 1024L);
            uint tadv = _regs[Tadv >> 2] & 0xFFFF;
            if (tadv != 0 && !_tadvTimer!.IsPending)
            {
                _tadvTimer.ArmIn(tadv * 1024L);
            }
        }

        if (processed > 0)
        {
            uint pendingAfter = (_regs[Tdt >> 2] + count - head) % count;
            if (pendingAfter == 0)
            {
                // §13.4.17 TXQE: the last descriptor of the queue has been used.
                causes |= IcrTxqe;
            }

            // §13.4.42 LWTHRESH: TXD_LOW when the descriptors left drop to 8 × LWTHRESH.
            uint low = 8 * (_regs[Txdctl >> 2] >> 25);
            if (pendingBefore > low && pendingAfter <= low)
            {
                causes |= IcrTxdLow;
            }
        }

        if (causes != 0)
        {
            RaiseInterrupt(causes);
        }
    }

    private void TxTimers()
    {
        _tidvTimer ??= CreateDeviceTimer("e1000 TIDV", OnTransmitDelayTimer);
        _tadvTimer ??= CreateDeviceTimer("e1000 TADV", OnTransmitDelayTimer);
    }

    private void OnTransmitDelayTimer()
    {
        // §13.4.41/44: either timer's expiry writes back what accumulated and raises TXDW; the other stops.
        _tidvTimer?.Cancel();
        _tadvTimer?.Cancel();
        RaiseInterrupt(IcrTxdw);
    }

    private void ProcessTxDescriptor(ReadOnlySpan<byte> d, uint lower)
    {
        if ((lower & TxdCmdDext) == 0)
        {
            ProcessLegacyDescriptor(d, lower);
        }
        else if ((lower & TxdDtypData) == 0 && ((lower >> 20) & 0xF) == 0)
        {
            ReadContext(d, lower);
        }
        else if (((lower >> 20) & 0xF) == 1)
        {
            ProcessDataDescriptor(d, lower);
        }

        // Other DTYP values are reserved: consumed and written back, nothing sent.
    }

    private void ReadContext(ReadOnlySpan<byte> d, uint lower)
    {
        _context = new TxContext
        {
            Ipcss = d[0],
            Ipcso = d[1],
            Ipcse = BinaryPrimitives.ReadUInt16LittleEndian(d[2..]),
            Tucss = d[4],
            Tucso = d[5],
            Tucse = BinaryPrimitives.ReadUInt16LittleEndian(d[6..]),
            PayloadLength = (int)(lower & 0xF_FFFF),
            Tucmd = (byte)(lower >> 24),
            HeaderLength = d[13],
            Mss = BinaryPrimitives.ReadUInt16LittleEndian(d[14..]),
        };
    }

    private void ProcessLegacyDescriptor(ReadOnlySpan<byte> d, uint lower)
    {
        // §3.3.3: length 15:0, CSO byte 10, CMD byte 11, CSS byte 13, special bytes 14–15.
        bool first = !_tx.Started;
        _tx.Started = true;
        if (first)
        {
            _tx.LegacyCss = d[13];
        }

        Gather(BinaryPrimitives.ReadUInt64LittleEndian(d), (int)(lower & 0xFFFF));
        if ((lower & TxdCmdEop) != 0)
        {
            _tx.LegacyChecksum = (lower & TxdCmdIc) != 0;
            _tx.LegacyCso = d[10];
            _tx.Vlan = (lower & TxdCmdVle) != 0;
            _tx.Special = BinaryPrimitives.ReadUInt16LittleEndian(d[14..]);
            FinishPacket();
        }
    }

    private void ProcessDataDescriptor(ReadOnlySpan<byte> d, uint lower)
    {
        // §3.3.7: DTALEN 19:0, DCMD byte 11, POPTS byte 13 (first descriptor of a packet), special bytes 14–15.
        bool first = !_tx.Started;
        _tx.Started = true;
        if (first)
        {
            _tx.Popts = d[13];
            _tx.Tso = (lower & TxdCmdTse) != 0;
            _tx.Vlan = (lower & TxdCmdVle) != 0;
            _tx.Special = BinaryPrimitives.ReadUInt16LittleEndian(d[14..]);
            _tx.Context = _context;
            if (_tx.Tso)
            {
                StartTso();
            }
        }

        ulong address = BinaryPrimitives.ReadUInt64LittleEndian(d);
        int length = (int)(lower & 0xF_FFFF);
        if (_tx.Tso)
        {
            GatherTso(address, length);
        }
        else
        {
            Gather(address, length);
        }

        if ((lower & TxdCmdEop) != 0)
        {
            if (!_tx.Tso)
            {
                // §3.3.7.1: for non-TSO packets VLE and special come from the EOP descriptor.
                _tx.Vlan = (lower & TxdCmdVle) != 0;
                _tx.Special = BinaryPrimitives.ReadUInt16LittleEndian(d[14..]);
                FinishPacket();
            }
            else
            {
                FinishTso();
            }
        }
    }

    private int TxPacketLimit() => Math.Max(0, ((int)((_regs[Pba >> 2] >> 16) & 0xFFFF) * 1024) - TxFifoSlack);

    /// <summary>Appends a buffer to the packet; bytes past the transmit FIFO's limit mark it oversize.</summary>
    private void Gather(ulong address, int length)
    {
        if (length == 0 || address == 0)
        {
            return;   // §3.3.3: a null address or zero length transfers nothing.
        }

        int limit = Math.Min(TxPacketLimit(), _txPacket.Length);
        if (_tx.Oversize || _tx.Length + length > limit)
        {
            _tx.Oversize = true;
            return;
        }

        if (!DmaRead(address, _txPacket.AsSpan(_tx.Length, length), DmaTarget.TxBuffer))
        {
            DmaError(E1000DropReason.TxDmaError, address);
            _tx.Oversize = true;
            return;
        }

        _tx.Length += length;
    }

    private void FinishPacket()
    {
        TxPacketState packet = _tx;
        _tx = default;
        if (packet.Oversize)
        {
            Statistics.Drop(E1000DropReason.TxOversize);
            return;
        }

        Span<byte> frame = _txPacket.AsSpan(0, packet.Length);
        if (packet.LegacyChecksum && packet.LegacyCso + 1 < frame.Length && packet.LegacyCss < frame.Length)
        {
            // §3.3.3.1 legacy checksum: from CSS to the end of the packet, stored at CSO.
            InsertChecksum(frame, packet.LegacyCss, 0, packet.LegacyCso);
        }

        if ((packet.Popts & TxPoptsTxsm) != 0)
        {
            InsertChecksum(frame, packet.Context.Tucss, packet.Context.Tucse, packet.Context.Tucso);
        }

        if ((packet.Popts & TxPoptsIxsm) != 0)
        {
            InsertChecksum(frame, packet.Context.Ipcss, packet.Context.Ipcse, packet.Context.Ipcso);
        }

        SendFrame(frame, packet.Vlan, packet.Special);
    }

    /// <summary>
    /// One's-complement sum from <paramref name="start"/> to <paramref name="end"/> inclusive (0: the end of the
    /// packet), including the field's seed, stored complemented at <paramref name="offset"/> (§3.3.6).
    /// </summary>
    private static void InsertChecksum(Span<byte> frame, int start, int end, int offset)
    {
        int stop = end == 0 || end >= frame.Length ? frame.Length : end + 1;
        if (start >= stop || offset + 2 > frame.Length)
        {
            return;
        }

        ushort sum = InternetChecksum.Finish(InternetChecksum.Add(0, frame[start..stop]));

        // A computed 0 leaves as 0xFFFF, the same value in one's complement: for UDP a 0 would mean "no checksum"
        // (RFC 768). QEMU does the same.
        BinaryPrimitives.WriteUInt16BigEndian(frame[offset..], sum == 0 ? (ushort)0xFFFF : sum);
    }

    // ---- TCP segmentation (§3.5) ----

    private void StartTso()
    {
        _tx.HeaderFilled = 0;
        _tx.TsoPayloadSent = 0;
        _tx.TsoSegments = 0;
        // §3.5.5: the header the engine replicates is at most 240 bytes; §3.3.6: MSS + HDRLEN must leave 80 bytes of
        // the transmit FIFO (so an MSS of 65535 is never usable). An unusable context fails the packet (TSCTFC).
        ref readonly TxContext context = ref _tx.Context;
        int segmentLimit = Math.Min(TxPacketLimit(), _txPacket.Length - TsoHeaderMax);
        string? refused = context.HeaderLength == 0 ? "HDRLEN is 0"
            : context.HeaderLength > TsoHeaderMax ? $"HDRLEN {context.HeaderLength} is over {TsoHeaderMax} (§3.5.5)"
            : context.Mss == 0 ? "MSS is 0"
            : context.Mss + context.HeaderLength > segmentLimit ? $"MSS {context.Mss} + HDRLEN {context.HeaderLength} is over {segmentLimit}, the transmit FIFO less 80 bytes (§3.3.6)"
            : (context.Tucmd & (TxdCmdTse >> 24)) == 0 ? "the context descriptor did not set TSE"
            : null;
        if (refused is not null)
        {
            _tx.Oversize = true;
            Probe?.TsoContextRejected(context, refused);
        }
    }

    private void GatherTso(ulong address, int length)
    {
        if (_tx.Oversize || length == 0 || address == 0)
        {
            return;
        }

        int offset = 0;
        int headerLength = _tx.Context.HeaderLength;
        while (offset < length)
        {
            if (_tx.HeaderFilled < headerLength)
            {
                int take = Math.Min(headerLength - _tx.HeaderFilled, length - offset);
                if (!DmaRead(address + (ulong)offset, _txHeader.AsSpan(_tx.HeaderFilled, take), DmaTarget.TxBuffer))
                {
                    DmaError(E1000DropReason.TxDmaError, address);
                    _tx.Oversize = true;
                    return;
                }

                _tx.HeaderFilled += take;
                offset += take;
                if (_tx.HeaderFilled == headerLength)
                {
                    _tx.TsoFirstSequence = (_tx.Context.Tucmd & (TxdTucmdTcp >> 24)) != 0 && _tx.Context.Tucss + 8 <= headerLength
                        ? BinaryPrimitives.ReadUInt32BigEndian(_txHeader.AsSpan(_tx.Context.Tucss + 4))
                        : 0;
                    _tx.TsoFirstIpId = (_tx.Context.Tucmd & (TxdTucmdIp >> 24)) != 0 && _tx.Context.Ipcss + 6 <= headerLength
                        ? BinaryPrimitives.ReadUInt16BigEndian(_txHeader.AsSpan(_tx.Context.Ipcss + 4))
                        : (ushort)0;
                    _tx.Length = 0;
                }

                continue;
            }

            // This segment holds min(MSS, what PAYLEN has left) bytes; it may be gathered from several descriptors.
            int segmentTarget = Math.Min(_tx.Context.Mss, _tx.Context.PayloadLength - _tx.TsoPayloadSent);
            int room = segmentTarget - _tx.Length;
            if (room <= 0)
            {
                // More data than PAYLEN: the context ends abnormally at EOP.
                _tx.Oversize = true;
                return;
            }

            int chunk = Math.Min(room, length - offset);
            if (!DmaRead(address + (ulong)offset, _txPacket.AsSpan(TsoHeaderMax + _tx.Length, chunk), DmaTarget.TxBuffer))
            {
                DmaError(E1000DropReason.TxDmaError, address);
                _tx.Oversize = true;
                return;
            }

            _tx.Length += chunk;
            offset += chunk;
            if (_tx.Length == segmentTarget)
            {
                EmitSegment(last: _tx.TsoPayloadSent + _tx.Length == _tx.Context.PayloadLength);
            }
        }
    }

    private void FinishTso()
    {
        bool complete = !_tx.Oversize && _tx.HeaderFilled == _tx.Context.HeaderLength && _tx.Length == 0 && _tx.TsoPayloadSent == _tx.Context.PayloadLength;
        _tx = default;
        if (complete)
        {
            IncrementCounter(Tsctc);
        }
        else
        {
            // §3.5: a context that ends before (or after) its PAYLEN fails.
            IncrementCounter(Tsctfc);
            Statistics.Drop(E1000DropReason.TxTsoContextFailed);
        }
    }

    /// <summary>Builds segment k: the header with its per-segment edits (§3.5.9), then the payload, then checksums.</summary>
    private void EmitSegment(bool last)
    {
        int headerLength = _tx.Context.HeaderLength;
        int payload = _tx.Length;
        int total = headerLength + payload;
        // The payload was gathered at TsoHeaderMax in _txPacket: the header goes right in front of it, no copy of the payload.
        Span<byte> segment = _txPacket.AsSpan(TsoHeaderMax - headerLength, total);
        _txHeader.AsSpan(0, headerLength).CopyTo(segment);
        int k = _tx.TsoSegments;
        int ipcss = _tx.Context.Ipcss;
        int tucss = _tx.Context.Tucss;
        bool ipv4 = (_tx.Context.Tucmd & (TxdTucmdIp >> 24)) != 0;
        bool tcp = (_tx.Context.Tucmd & (TxdTucmdTcp >> 24)) != 0;
        if (ipv4 && ipcss + 20 <= headerLength)
        {
            BinaryPrimitives.WriteUInt16BigEndian(segment[(ipcss + 2)..], (ushort)(total - ipcss));
            BinaryPrimitives.WriteUInt16BigEndian(segment[(ipcss + 4)..], (ushort)(_tx.TsoFirstIpId + k));
        }
        else if (!ipv4 && ipcss + 40 <= headerLength)
        {
            // RFC 8200 §3: the payload length excludes the 40-byte fixed header.
            BinaryPrimitives.WriteUInt16BigEndian(segment[(ipcss + 4)..], (ushort)(total - ipcss - 40));
        }

        if (tcp && tucss + 20 <= headerLength)
        {
            BinaryPrimitives.WriteUInt32BigEndian(segment[(tucss + 4)..], _tx.TsoFirstSequence + (uint)(k * _tx.Context.Mss));
            if (!last)
            {
                segment[tucss + 13] &= unchecked((byte)~0x09);   // FIN and PSH only on the last segment
            }
        }
        else if (!tcp && tucss + 8 <= headerLength)
        {
            BinaryPrimitives.WriteUInt16BigEndian(segment[(tucss + 4)..], (ushort)(total - tucss));
        }

        if ((_tx.Popts & TxPoptsTxsm) != 0 && _tx.Context.Tucso + 2 <= total)
        {
            // The seed is the pseudo-header sum without the length (§3.5.4); add this segment's L4 length.
            uint seed = BinaryPrimitives.ReadUInt16BigEndian(segment[_tx.Context.Tucso..]);
            BinaryPrimitives.WriteUInt16BigEndian(segment[_tx.Context.Tucso..], (ushort)InternetChecksum.Fold(seed + (uint)(total - tucss)));
            InsertChecksum(segment, tucss, _tx.Context.Tucse, _tx.Context.Tucso);
        }

        if ((_tx.Popts & TxPoptsIxsm) != 0 && ipv4 && _tx.Context.Ipcso + 2 <= total)
        {
            segment[_tx.Context.Ipcso] = 0;
            segment[_tx.Context.Ipcso + 1] = 0;
            InsertChecksum(segment, ipcss, _tx.Context.Ipcse, _tx.Context.Ipcso);
        }

        _tx.TsoSegments++;
        _tx.TsoPayloadSent += payload;
        _tx.Length = 0;
        SendFrame(segment, _tx.Vlan, _tx.Special);
    }

    // ---- Out onto the wire ----

    private void SendFrame(Span<byte> frame, bool vlan, ushort special)
    {
        Span<byte> tagged = frame;
        if (vlan && (_regs[Ctrl >> 2] & CtrlVme) != 0 && frame.Length >= 12)
        {
            // §3.3.3 / §3.4: insert VET and the descriptor's special field after the addresses.
            Span<byte> scratch = _txVlanScratch.AsSpan(0, frame.Length + 4);
            frame[..12].CopyTo(scratch);
            BinaryPrimitives.WriteUInt16BigEndian(scratch[12..], (ushort)_regs[Vet >> 2]);
            BinaryPrimitives.WriteUInt16BigEndian(scratch[14..], special);
            frame[12..].CopyTo(scratch[16..]);
            tagged = scratch;
        }

        int length = tagged.Length;
        if ((_regs[Tctl >> 2] & TctlPsp) != 0 && length < MinimumFrame)
        {
            // §13.4.33 PSP: pad to 64 bytes with the FCS.
            Span<byte> padded = _txPadScratch.AsSpan(0, MinimumFrame);
            tagged.CopyTo(padded);
            padded[length..].Clear();
            tagged = padded;
            length = MinimumFrame;
        }

        CountTransmitted(tagged);
        if (IsLoopback)
        {
            // Straight into the receive path: the receive FIFO (PBA.RXA) is the only place a looped-back frame can
            // wait, and one that finds no room is lost under MPC with RXO (§3.2.7.4), as a wire frame would be. The
            // device never holds more looped-back bytes than the chip's FIFO, whatever the ring asks for.
            ReceiveFrameInternal(tagged, loopback: true);
            return;
        }

        if (Faults is { } faults && faults.WireTransmit(tagged))
        {
            return;   // the fault layer took it (issue 21); what it sends goes out through SendToWire
        }

        SendToWire(tagged);
    }

    /// <summary>A frame onto the wire, past the fault layer: captured, traced and counted, or dropped with no wire.</summary>
    /// <param name="faultNote">The faults that changed, delayed or duplicated the frame, for the capture's comment.</param>
    public void SendToWire(ReadOnlySpan<byte> tagged, string? faultNote = null)
    {
        if (Wire is null)
        {
            Statistics.Drop(E1000DropReason.TxNoWire);
            Tap?.Tap(tagged, outbound: true, DropCounterName(E1000DropReason.TxNoWire), faultNote);
            Probe?.Frame(tagged, outbound: true, DropCounterName(E1000DropReason.TxNoWire));
            return;
        }

        Tap?.Tap(tagged, outbound: true, dropReason: null, faultNote);
        Probe?.Frame(tagged, outbound: true, drop: null);
        Statistics.TxSent++;
        Statistics.TxBytes += tagged.Length;
        Wire.ReceiveFrame(tagged);
    }

    private readonly byte[] _txVlanScratch = new byte[64 * 1024 + 256 + 4];
    private readonly byte[] _txPadScratch = new byte[MinimumFrame];

    /// <summary>MAC loopback (RCTL.LBM = 01, §13.4.22) or PHY loopback (PHY control bit 14): TX comes back to RX.</summary>
    private bool IsLoopback => (_regs[Rctl >> 2] & RctlLbmMask) == RctlLbmMac || Phy.Loopback;

    private void CountTransmitted(ReadOnlySpan<byte> frame)
    {
        int wireLength = frame.Length + FcsLength;
        IncrementCounter(Tpt);
        IncrementCounter(Gptc);
        AddCounter64(Totl, (ulong)wireLength);
        AddCounter64(Gotcl, (ulong)wireLength);
        IncrementCounter(SizeBucket(Ptc64, wireLength));
        if (frame.Length < 6)
        {
            return;   // a runt shorter than its destination address (PSP off): neither broadcast nor multicast
        }

        if (IsBroadcast(frame))
        {
            IncrementCounter(Bptc);
        }
        else if ((frame[0] & 1) != 0)
        {
            IncrementCounter(Mptc);
        }
    }
}
