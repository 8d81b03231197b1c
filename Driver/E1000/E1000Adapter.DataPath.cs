using System.Buffers.Binary;
using Emu.Driver.Kernel;
using Emu.Stack.Core;
using static Emu.Driver.E1000.E1000Regs;

namespace Emu.Driver.E1000;

public sealed partial class E1000Adapter
{
    // ---- Transmit (e1000_xmit_frame) ----

    public NetdevTx StartXmit(SkBuff skb, NetDevice dev)
    {
        if (skb.Len <= 0)
        {
            skb.Free();
            return NetdevTx.Ok;
        }

        // eth_skb_pad: frames under ETH_ZLEN are padded in software.
        if (skb.Len < 60)
        {
            if (skb.Tailroom < 60 - skb.Len)
            {
                SkBuff bigger = SkBuff.NetdevAlloc(dev, 60);
                skb.DataSpan.CopyTo(bigger.Put(skb.Len));
                bigger.Priority = skb.Priority;
                bigger.IpSummed = skb.IpSummed;
                bigger.CsumStart = skb.CsumStart;
                bigger.CsumOffset = skb.CsumOffset;
                bigger.VlanPresent = skb.VlanPresent;
                bigger.VlanTci = skb.VlanTci;
                skb.Free();
                skb = bigger;
            }

            skb.Put(60 - skb.Len).Clear();
        }

        bool offload = skb.GsoSize > 0 || skb.IpSummed == ChecksumState.Partial;
        int count = (offload ? 1 : 0) + ((skb.Len + MaxDataPerTxd - 1) / MaxDataPerTxd);
        if (MaybeStopTx(dev, count + 2))
        {
            return NetdevTx.Busy;
        }

        int first = _tx.NextToUse;
        uint lower = TxdCmdIfcs;
        uint upper = 0;
        if (skb.GsoSize > 0)
        {
            WriteTsoContext(skb);
            lower |= TxdCmdDext | TxdDtypD | TxdCmdTse;
            upper |= (TxdPoptTxsm | (skb.GsoType == GsoType.TcpV4 ? TxdPoptIxsm : 0)) << 8;
        }
        else if (skb.IpSummed == ChecksumState.Partial)
        {
            WriteChecksumContext(skb);
            lower |= TxdCmdDext | TxdDtypD;
            upper |= TxdPoptTxsm << 8;
        }

        if (skb.VlanPresent)
        {
            lower |= TxdCmdVle;
            upper |= (uint)skb.VlanTci << 16;
        }

        // e1000_tx_map + e1000_tx_queue: ≤ 4 KiB per descriptor; the skb rides on the last one.
        Span<byte> descriptor = stackalloc byte[16];
        int offset = 0;
        int last = first;
        int index = _tx.NextToUse;
        while (offset < skb.Len)
        {
            int size = Math.Min(MaxDataPerTxd, skb.Len - offset);
            ref BufferInfo info = ref _tx.BufferInfo[index];
            info.Dma = _kernel.Dma.MapToDevice(skb.DataSpan.Slice(offset, size));
            if (!info.Dma.IsValid)
            {
                // dma_error: unwind what was mapped; the packet is dropped.
                UnwindTx(first, index);
                dev.Stats.TxDropped++;
                skb.Free();
                return NetdevTx.Ok;
            }

            info.Length = size;
            info.TimeStamp = _kernel.Clock.Now;
            info.NextToWatch = -1;
            offset += size;
            bool eop = offset >= skb.Len;
            uint cmd = lower | (uint)size | (eop ? TxdCmdEop | TxdCmdRs | (Options.TxIntDelay != 0 ? TxdCmdIde : 0) : 0);
            BinaryPrimitives.WriteUInt64LittleEndian(descriptor, info.Dma.Address);
            BinaryPrimitives.WriteUInt32LittleEndian(descriptor[8..], cmd);
            BinaryPrimitives.WriteUInt32LittleEndian(descriptor[12..], upper);
            _kernel.Dma.Write(_tx.DescriptorAddress(index), descriptor);
            last = index;
            index = (index + 1) % _tx.Count;
        }

        _tx.BufferInfo[last].Skb = skb;
        _tx.BufferInfo[last].Segments = skb.GsoSize > 0 ? Math.Max(1, (skb.Len - HeaderLength(skb) + skb.GsoSize - 1) / skb.GsoSize) : 1;
        _tx.BufferInfo[last].ByteCount = skb.Len;
        _tx.BufferInfo[first].NextToWatch = last;
        _tx.NextToUse = index;
        dev.TransStart = _kernel.Clock.Now;

        MaybeStopTx(dev, StopThreshold);
        Hw.Write(Tdt, (uint)_tx.NextToUse);
        return NetdevTx.Ok;
    }

    /// <summary>e1000_maybe_stop_tx: stop the queue when fewer than <paramref name="size"/> descriptors are free.</summary>
    private bool MaybeStopTx(NetDevice dev, int size)
    {
        if (_tx.Unused >= size)
        {
            return false;
        }

        _net.NetifStopQueue(dev);
        if (_tx.Unused < size)
        {
            return true;
        }

        // A clean freed room meanwhile.
        _net.NetifStartQueue(dev);
        RestartQueue++;
        return false;
    }

    private void UnwindTx(int first, int stop)
    {
        for (int i = first; i != stop; i = (i + 1) % _tx.Count)
        {
            ref BufferInfo info = ref _tx.BufferInfo[i];
            _kernel.Dma.Unmap(info.Dma);
            info.Dma = default;
        }

        _kernel.Dma.Unmap(_tx.BufferInfo[stop].Dma);
        _tx.BufferInfo[stop].Dma = default;
    }

    private static int HeaderLength(SkBuff skb)
        => skb.TransportHeader >= 0 ? skb.TransportHeader - skb.Data + ((skb.DataSpan[skb.TransportHeader - skb.Data + 12] >> 4) * 4) : 0;

    /// <summary>e1000_tso: a context descriptor with TSE for a GSO skb (TCP over IPv4; IPv6 when offered).</summary>
    private void WriteTsoContext(SkBuff skb)
    {
        int ipcss = skb.NetworkHeader - skb.Data;
        int tucss = skb.TransportHeader - skb.Data;
        int hdrLen = HeaderLength(skb);
        bool v4 = skb.GsoType == GsoType.TcpV4;
        Span<byte> d = stackalloc byte[16];
        d[0] = (byte)ipcss;
        d[1] = (byte)(v4 ? ipcss + 10 : 0);
        BinaryPrimitives.WriteUInt16LittleEndian(d[2..], (ushort)(v4 ? tucss - 1 : 0));
        d[4] = (byte)tucss;
        d[5] = (byte)(tucss + 16);
        uint cmdLength = TxdCmdDext | TxdCmdTse | TxdCmdTcp | (v4 ? TxdCmdIp : 0) | (uint)(skb.Len - hdrLen);
        BinaryPrimitives.WriteUInt32LittleEndian(d[8..], cmdLength);
        d[13] = (byte)hdrLen;
        BinaryPrimitives.WriteUInt16LittleEndian(d[14..], (ushort)skb.GsoSize);
        QueueContext(d);
    }

    /// <summary>e1000_tx_csum: a checksum context for CHECKSUM_PARTIAL (TCP or UDP).</summary>
    private void WriteChecksumContext(SkBuff skb)
    {
        Span<byte> d = stackalloc byte[16];
        d[4] = (byte)skb.CsumStart;
        d[5] = (byte)(skb.CsumStart + skb.CsumOffset);
        uint cmd = TxdCmdDext | (skb.CsumOffset == 16 ? TxdCmdTcp : 0);
        BinaryPrimitives.WriteUInt32LittleEndian(d[8..], cmd);
        QueueContext(d);
    }

    private void QueueContext(ReadOnlySpan<byte> descriptor)
    {
        int i = _tx.NextToUse;
        ref BufferInfo info = ref _tx.BufferInfo[i];
        info.TimeStamp = _kernel.Clock.Now;
        info.NextToWatch = i;
        info.Length = 0;
        _kernel.Dma.Write(_tx.DescriptorAddress(i), descriptor);
        _tx.NextToUse = (i + 1) % _tx.Count;
    }

    /// <summary>e1000_clean_tx_irq: reclaim every packet whose EOP descriptor has DD; wake the queue with room.</summary>
    private bool CleanTxIrq()
    {
        int i = _tx.NextToClean;
        int count = 0;
        Span<byte> status = stackalloc byte[4];
        while (i != _tx.NextToUse && count < _tx.Count)
        {
            int eop = _tx.BufferInfo[i].NextToWatch;
            if (eop < 0)
            {
                eop = i;
            }

            _kernel.Dma.Read(_tx.DescriptorAddress(eop) + 12, status);
            if ((status[0] & TxdStatDd) == 0)
            {
                break;
            }

            while (true)
            {
                ref BufferInfo info = ref _tx.BufferInfo[i];
                if (info.Skb is not null)
                {
                    Netdev.Stats.TxPackets += (ulong)info.Segments;
                    Netdev.Stats.TxBytes += (ulong)info.ByteCount;
                }

                UnmapAndFreeTx(ref info);
                info.NextToWatch = -1;
                _kernel.Dma.Write(_tx.DescriptorAddress(i) + 12, [0, 0, 0, 0]);
                bool done = i == eop;
                i = (i + 1) % _tx.Count;
                count++;
                if (done)
                {
                    break;
                }
            }
        }

        _tx.NextToClean = i;
        if (count > 0 && Netdev.Carrier && _tx.Unused >= WakeThreshold && Netdev.QueueStopped && !_down)
        {
            _net.NetifWakeQueue(Netdev);
            RestartQueue++;
        }

        if (_detectTxHung)
        {
            DetectTxHang(i);
        }

        return count < _tx.Count;
    }

    /// <summary>
    /// e1000_clean_tx_irq's check, armed by the watchdog every 2 s (detect_tx_hung): the oldest packet not yet done
    /// was queued more than tx_timeout_factor seconds ago and flow control is not pausing us (STATUS.TXOFF): the
    /// hardware is hung. Linux logs the ring state and stops the queue. The stop stamps trans_start, so while the hang
    /// lasts and this check repeats every 2 s, dev_watchdog's 5 s transmit timeout never fires (Linux 6.1.192 does
    /// the same); the adapter is reset only by something else (a link loss with Tx work queued, down/up).
    /// </summary>
    private void DetectTxHang(int nextToClean)
    {
        _detectTxHung = false;
        int eop = _tx.BufferInfo[nextToClean].NextToWatch;
        if (eop < 0)
        {
            eop = nextToClean;
        }

        long stamp = _tx.BufferInfo[eop].TimeStamp;
        long now = _kernel.Clock.Now;
        if (stamp == 0 || now - stamp <= _txTimeoutFactor * 1_000_000_000L || (Hw.Read(Status) & StatusTxoff) != 0)
        {
            return;
        }

        Span<byte> status = stackalloc byte[1];
        _kernel.Dma.Read(_tx.DescriptorAddress(eop) + 12, status);
        string prefix = $"e1000 {Pdev.Name} {Name}: ";
        _kernel.Log.Error(prefix + "Detected Tx Unit Hang");
        _kernel.Log.Error("  Tx Queue             <0>");
        _kernel.Log.Error($"  TDH                  <{Hw.Read(Tdh):x}>");
        _kernel.Log.Error($"  TDT                  <{Hw.Read(Tdt):x}>");
        _kernel.Log.Error($"  next_to_use          <{_tx.NextToUse:x}>");
        _kernel.Log.Error($"  next_to_clean        <{nextToClean:x}>");
        _kernel.Log.Error("buffer_info[next_to_clean]");
        _kernel.Log.Error($"  time_stamp           <{Jiffies(stamp):x}>");
        _kernel.Log.Error($"  next_to_watch        <{eop:x}>");
        _kernel.Log.Error($"  jiffies              <{Jiffies(now):x}>");
        _kernel.Log.Error($"  next_to_watch.status <{status[0]:x}>");
        _net.NetifStopQueue(Netdev);
    }

    /// <summary>jiffies at HZ=250 (4 ms a tick), as Linux prints them; INITIAL_JIFFIES starts 5 minutes before the wrap.</summary>
    private static ulong Jiffies(long ns) => unchecked((ulong)(uint)(-300 * 250) + (ulong)(ns / 4_000_000));

    // ---- Interrupt (e1000_intr) ----

    private IrqReturn Intr(int irq)
    {
        uint icr = Hw.Read(Icr);
        if (icr == 0)
        {
            return IrqReturn.None;   // not ours: the line is shared
        }

        if (_down)
        {
            return IrqReturn.Handled;
        }

        if ((icr & (IcrRxseq | IcrLsc)) != 0)
        {
            Hw.GetLinkStatus = true;
            _watchdog.ArmIn(4_000_000);   // one jiffy at HZ=250
        }

        if (!Options.Napi)
        {
            // The seed's path: clean here, hand frames to netif_rx, leave interrupts enabled.
            CleanTxIrq();
            CleanRxIrq(null, int.MaxValue);
            return IrqReturn.Handled;
        }

        IrqDisable();
        if (!_net.NapiSchedule(Napi))
        {
            IrqEnable();
        }

        return IrqReturn.Handled;
    }

    /// <summary>e1000_clean: the NAPI poll. Under budget, complete and unmask; otherwise stay scheduled.</summary>
    internal int Clean(Napi napi, int budget)
    {
        bool txDone = CleanTxIrq();
        int work = CleanRxIrq(napi, budget);
        if (!txDone || work >= budget)
        {
            return budget;
        }

        _net.NapiCompleteDone(napi, work);
        if (!_down)
        {
            IrqEnable();
        }

        return work;
    }

    /// <summary>
    /// e1000_clean_rx_irq: frames with DD, one buffer each (EOP required), errors dropped, FCS stripped, copybreak,
    /// checksum state, VLAN tag, then napi_gro_receive (or netif_rx without NAPI); buffers returned every 16.
    /// </summary>
    private int CleanRxIrq(Napi? napi, int budget)
    {
        int i = _rx.NextToClean;
        int work = 0;
        int cleaned = 0;
        bool discarding = false;
        Span<byte> d = stackalloc byte[16];
        while (work < budget)
        {
            ulong descriptorAddress = _rx.DescriptorAddress(i);
            _kernel.Dma.Read(descriptorAddress, d);
            byte status = d[12];
            if ((status & RxdStatDd) == 0)
            {
                break;
            }

            int length = BinaryPrimitives.ReadUInt16LittleEndian(d[8..]);
            byte errors = d[13];
            ushort special = BinaryPrimitives.ReadUInt16LittleEndian(d[14..]);
            ref BufferInfo info = ref _rx.BufferInfo[i];
            work++;
            if ((status & RxdStatEop) == 0 || discarding)
            {
                // "All receives must fit into a single buffer": drop through the next EOP.
                discarding = (status & RxdStatEop) == 0;
            }
            else if ((errors & RxdErrFrameMask) != 0)
            {
                // A bad frame stored under SBP is recycled. Linux counts nothing here: e1000_update_stats derives
                // rx_errors from the hardware's counters (CRCERRS, RXERRC, ...).
            }
            else
            {
                length = Math.Max(0, length - 4);   // the FCS (RXFCS is off)
                SkBuff skb = SkBuff.NetdevAlloc(Netdev, length);
                _kernel.Dma.SyncForCpu(info.Dma, skb.Put(length));
                if (length < Options.Copybreak)
                {
                    RxCopybreak++;
                }
                else
                {
                    // The buffer went up the stack: the slot gets a fresh one when refilled.
                    _kernel.Dma.Unmap(info.Dma);
                    info.Dma = default;
                }

                if ((status & RxdStatIxsm) == 0 && Options.RxChecksum)
                {
                    if ((errors & RxdErrTcpe) != 0)
                    {
                        HwCsumErrors++;
                    }
                    else if ((status & (RxdStatTcpcs | RxdStatIpcs)) != 0)
                    {
                        skb.IpSummed = ChecksumState.Unnecessary;
                        HwCsumGood++;
                    }
                }

                skb.Protocol = NetCore.EthTypeTrans(skb, Netdev);
                if ((status & RxdStatVp) != 0)
                {
                    skb.VlanPresent = true;
                    skb.VlanTci = special;
                }

                Netdev.Stats.RxPackets++;
                Netdev.Stats.RxBytes += (ulong)length;
                if (skb.PktType == PacketType.Multicast)
                {
                    Netdev.Stats.Multicast++;
                }

                if (napi is not null)
                {
                    _net.NapiGroReceive(napi, skb);
                }
                else
                {
                    _net.NetifRx(skb);
                }
            }

            d.Clear();
            _kernel.Dma.Write(descriptorAddress + 12, d[..4]);
            i = (i + 1) % _rx.Count;
            if (++cleaned >= RxBufferWrite)
            {
                _rx.NextToClean = i;
                AllocRxBuffers(cleaned);
                cleaned = 0;
            }
        }

        _rx.NextToClean = i;
        int unused = _rx.Unused;
        if (unused > 0)
        {
            AllocRxBuffers(unused);
        }

        return work;
    }

    // ---- Watchdog (e1000_watchdog, delayed work every 2 s) ----

    private void Watchdog()
    {
        if (_down)
        {
            return;
        }

        bool link = !Hw.GetLinkStatus || Hw.CheckForLink();
        if (link && !Netdev.Carrier)
        {
            (int speed, bool full) = Hw.GetSpeedAndDuplex();
            uint ctrl = Hw.Read(Ctrl);
            string fc = (ctrl & CtrlRfce) != 0 && (ctrl & CtrlTfce) != 0 ? "RX/TX" : (ctrl & CtrlRfce) != 0 ? "RX" : (ctrl & CtrlTfce) != 0 ? "TX" : "None";
            _kernel.Log.Info($"e1000 {Pdev.Name} {Name}: NIC Link is Up {speed} Mbps {(full ? "Full Duplex" : "Half Duplex")}, Flow Control: {fc}");

            // "adjust timeout factor according to speed/duplex": 16 at 10 Mb/s, else 1.
            _txTimeoutFactor = speed == 10 ? 16 : 1;
            Hw.Write(Tctl, Hw.Read(Tctl) | TctlEn);
            _net.NetifCarrierOn(Netdev);
        }
        else if (!link && Netdev.Carrier)
        {
            _kernel.Log.Info($"e1000 {Pdev.Name} {Name}: NIC Link is Down");
            _net.NetifCarrierOff(Netdev);
        }

        UpdateStats();
        if (!Netdev.Carrier && _tx.Unused + 1 < _tx.Count)
        {
            // Frames stuck with no link: a reset frees them.
            TxTimeoutCount++;
            _resetTask.ArmIn(0);
            return;
        }

        // "Cause software interrupt to ensure Rx ring is cleaned" (and with it the transmit ring: a lost interrupt's
        // work is found by the NAPI poll this one schedules).
        Hw.Write(Ics, IcrRxdmt0);

        // "Force detection of hung controller every watchdog period".
        _detectTxHung = true;
        _watchdog.ArmIn(2_000_000_000);
    }

    /// <summary>e1000_update_stats: read the clear-on-read counters into the accumulators and the netdev stats.</summary>
    internal void UpdateStats()
    {
        E1000HwStats s = HwStats;
        s.Crcerrs += Hw.Read(Crcerrs);
        s.Algnerrc += Hw.Read(Algnerrc);
        s.Symerrs += Hw.Read(Symerrs);
        s.Rxerrc += Hw.Read(Rxerrc);
        s.Mpc += Hw.Read(Mpc);
        s.Scc += Hw.Read(Scc);
        s.Ecol += Hw.Read(Ecol);
        s.Mcc += Hw.Read(Mcc);
        s.Latecol += Hw.Read(Latecol);
        s.Colc += Hw.Read(Colc);
        s.Dc += Hw.Read(Dc);
        s.Tncrs += Hw.Read(Tncrs);
        s.Sec += Hw.Read(Sec);
        s.Cexterr += Hw.Read(Cexterr);
        s.Rlec += Hw.Read(Rlec);
        s.Xonrxc += Hw.Read(Xonrxc);
        s.Xontxc += Hw.Read(Xontxc);
        s.Xoffrxc += Hw.Read(Xoffrxc);
        s.Xofftxc += Hw.Read(Xofftxc);
        s.Fcruc += Hw.Read(Fcruc);
        s.Prc64 += Hw.Read(Prc64);
        s.Prc127 += Hw.Read(Prc64 + 4);
        s.Prc255 += Hw.Read(Prc64 + 8);
        s.Prc511 += Hw.Read(Prc64 + 12);
        s.Prc1023 += Hw.Read(Prc64 + 16);
        s.Prc1522 += Hw.Read(Prc64 + 20);
        s.Gprc += Hw.Read(Gprc);
        s.Bprc += Hw.Read(Bprc);
        s.Mprc += Hw.Read(Mprc);
        s.Gptc += Hw.Read(Gptc);
        s.Gorc += Hw.Read(Gorcl) + ((ulong)Hw.Read(Gorcl + 4) << 32);
        s.Gotc += Hw.Read(Gotcl) + ((ulong)Hw.Read(Gotcl + 4) << 32);
        s.Rnbc += Hw.Read(Rnbc);
        s.Ruc += Hw.Read(Ruc);
        s.Rfc += Hw.Read(Rfc);
        s.Roc += Hw.Read(Roc);
        s.Rjc += Hw.Read(Rjc);
        s.Tor += Hw.Read(Torl) + ((ulong)Hw.Read(Torl + 4) << 32);
        s.Tot += Hw.Read(Totl) + ((ulong)Hw.Read(Totl + 4) << 32);
        s.Tpr += Hw.Read(Tpr);
        s.Tpt += Hw.Read(Tpt);
        s.Ptc64 += Hw.Read(Ptc64);
        s.Ptc127 += Hw.Read(Ptc64 + 4);
        s.Ptc255 += Hw.Read(Ptc64 + 8);
        s.Ptc511 += Hw.Read(Ptc64 + 12);
        s.Ptc1023 += Hw.Read(Ptc64 + 16);
        s.Ptc1522 += Hw.Read(Ptc64 + 20);
        s.Mptc += Hw.Read(Mptc);
        s.Bptc += Hw.Read(Bptc);
        s.Tsctc += Hw.Read(Tsctc);
        s.Tsctfc += Hw.Read(Tsctfc);

        NetDeviceStats n = Netdev.Stats;
        n.Multicast = s.Mprc;
        n.Collisions = s.Colc;
        // "RLEC on some newer hardware can be incorrect so build our own version based on RUC and ROC".
        n.RxErrors = s.Rxerrc + s.Crcerrs + s.Algnerrc + s.Ruc + s.Roc + s.Cexterr;
        n.RxLengthErrors = s.Ruc + s.Roc;
        n.RxCrcErrors = s.Crcerrs;
        n.RxFrameErrors = s.Algnerrc;
        n.RxMissedErrors = s.Mpc;
        n.RxFifoErrors = s.Mpc;
        n.TxAbortedErrors = s.Ecol;
        n.TxWindowErrors = s.Latecol;
        n.TxCarrierErrors = s.Tncrs;
    }

    private void ResetTask()
    {
        _kernel.Log.Warn($"e1000 {Pdev.Name} {Name}: Reset adapter");
        if (Netdev.IsUp)
        {
            ReinitLocked();
        }
    }

    // ---- Other netdev ops ----

    /// <summary>e1000_tx_timeout: count it and reset from process context.</summary>
    public void TxTimeout(NetDevice dev, int queue)
    {
        TxTimeoutCount++;
        _resetTask.ArmIn(0);
    }

    /// <summary>
    /// e1000_set_rx_mode: UPE/MPE for promisc and allmulti, RAR[1..14] for extra unicast then multicast addresses,
    /// the rest of the multicast addresses hashed into the MTA (written from the top down).
    /// </summary>
    public void SetRxMode(NetDevice dev)
    {
        uint rctl = Hw.Read(Rctl);
        if ((dev.Flags & NetDeviceFlags.Promisc) != 0)
        {
            rctl |= RctlUpe | RctlMpe;
            rctl &= ~RctlVfe;
        }
        else
        {
            rctl = (dev.Flags & NetDeviceFlags.AllMulti) != 0 ? (rctl | RctlMpe) & ~RctlUpe : rctl & ~(RctlMpe | RctlUpe);
        }

        bool useUc = dev.UcList.Count > E1000Hw.RarEntries - 1;
        if (useUc)
        {
            rctl |= RctlUpe;
        }

        Hw.Write(Rctl, rctl);
        Span<uint> mta = stackalloc uint[E1000Hw.McTableSize];
        int rar = 1;
        if (!useUc)
        {
            foreach (byte[] address in dev.UcList)
            {
                Hw.RarSet(address, rar++);
            }
        }

        foreach (byte[] address in dev.McList)
        {
            if (rar < E1000Hw.RarEntries)
            {
                Hw.RarSet(address, rar++);
            }
            else
            {
                int hash = E1000Hw.HashMcAddr(address);
                mta[(hash >> 5) & 0x7F] |= 1u << (hash & 0x1F);
            }
        }

        for (; rar < E1000Hw.RarEntries; rar++)
        {
            Hw.WriteArray(Ra, rar * 2, 0);
            Hw.WriteFlush();
            Hw.WriteArray(Ra, (rar * 2) + 1, 0);
            Hw.WriteFlush();
        }

        for (int i = E1000Hw.McTableSize - 1; i >= 0; i--)
        {
            Hw.WriteArray(Mta, i, mta[i]);
        }

        Hw.WriteFlush();
    }

    /// <summary>
    /// e1000_change_mtu: up to the 82540EM's jumbo limit (16128-byte frames); bigger frames need bigger receive buffers
    /// (and LPE); a running interface is reinitialised.
    /// </summary>
    public int ChangeMtu(NetDevice dev, int mtu)
    {
        int maxFrame = mtu + 14 + 4;
        if (maxFrame > 16128)
        {
            return NetCore.EInval;
        }

        _kernel.Log.Info($"e1000 {Pdev.Name} {Name}: changing MTU from {dev.Mtu} to {mtu}");
        _rxBufferLength = maxFrame <= 1522 ? 1522 : maxFrame <= 2048 ? 2048 : maxFrame <= 4096 ? 4096 : maxFrame <= 8192 ? 8192 : 16384;
        dev.Mtu = mtu;
        if (dev.IsUp)
        {
            ReinitLocked();
        }

        return 0;
    }

    public int SetMacAddress(NetDevice dev, ReadOnlySpan<byte> address)
    {
        address.CopyTo(Hw.MacAddr);
        Hw.RarSet(address, 0);
        return 0;
    }

    public void GetStats64(NetDevice dev, NetDeviceStats stats)
    {
    }
}
