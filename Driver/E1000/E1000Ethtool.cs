using System.Buffers.Binary;
using Emu.Driver.Kernel;
using Emu.Stack.Core;
using static Emu.Driver.E1000.E1000Regs;

namespace Emu.Driver.E1000;

/// <summary>
/// e1000_ethtool.c: driver info, link settings, ring sizes, register and EEPROM dumps, statistics with Linux's names,
/// and the offline self-test (register, EEPROM, interrupt, PHY loopback and link tests), as Linux runs them.
/// </summary>
public sealed class E1000Ethtool : IEthtoolOps
{
    public static readonly string[] TestNames =
    [
        "Register test  (offline)", "Eeprom test    (offline)", "Interrupt test (offline)", "Loopback test  (offline)",
        "Link test   (on/offline)",
    ];

    private readonly E1000Adapter _a;
    private uint _testIcr;

    internal E1000Ethtool(E1000Adapter adapter)
    {
        _a = adapter;
    }

    private E1000Hw Hw => _a.Hw;

    private GuestKernel Kernel => _a.Kernel;

    public EthtoolDriverInfo GetDrvInfo(NetDevice dev)
        => new("e1000", "7.3.21-k8-NAPI", _a.Pdev.Name, Hw.EepromWordSize * 2, 32 * 4, TestNames.Length, Stats(dev).Count);

    public EthtoolLinkSettings GetLinkSettings(NetDevice dev)
    {
        bool link = (Hw.Read(Status) & StatusLu) != 0;
        (int speed, bool full) = link ? Hw.GetSpeedAndDuplex() : (-1, false);
        return new EthtoolLinkSettings(speed, full, Hw.Autoneg, "Twisted Pair", Hw.AutonegAdvertised, 1);
    }

    public bool GetLink(NetDevice dev) => !Hw.GetLinkStatus || Hw.CheckForLink();

    public (int RxPending, int TxPending, int RxMax, int TxMax) GetRingParam(NetDevice dev) => (_a.RxRingCount, _a.TxRingCount, 4096, 4096);

    /// <summary>e1000_set_ringparam: 48 to 4096 descriptors, rounded up to a multiple of 8; a running device restarts.</summary>
    public int SetRingParam(NetDevice dev, int rxPending, int txPending)
    {
        if (rxPending < 48 || txPending < 48 || rxPending > 4096 || txPending > 4096)
        {
            return NetCore.EInval;
        }

        _ = dev;
        return _a.Resize((rxPending + 7) & ~7, (txPending + 7) & ~7);
    }

    /// <summary>e1000_get_regs: the first words of Linux's dump (CTRL, STATUS, RCTL, ring registers, TIDV).</summary>
    public uint[] GetRegs(NetDevice dev)
    {
        uint[] regs = new uint[32];
        uint[] offsets = [Ctrl, Status, Rctl, Rdlen, Rdh, Rdt, Rdtr, Tctl, Tdlen, Tdh, Tdt, Tidv];
        for (int i = 0; i < offsets.Length; i++)
        {
            regs[i] = Hw.Read(offsets[i]);
        }

        regs[12] = 1;   // phy_type: e1000_phy_m88
        for (int i = 0; i < 6 && Hw.ReadPhy(M88PhySpecStatus, out ushort v); i++)
        {
            regs[13 + i] = v;
        }

        return regs;
    }

    public byte[] GetEeprom(NetDevice dev)
    {
        ushort[] words = new ushort[Hw.EepromWordSize];
        Hw.ReadEeprom(0, words);
        byte[] bytes = new byte[words.Length * 2];
        for (int i = 0; i < words.Length; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2 * i), words[i]);
        }

        return bytes;
    }

    public IReadOnlyList<(string Name, ulong Value)> GetStats(NetDevice dev)
    {
        _a.UpdateStats();
        return Stats(dev);
    }

    /// <summary>
    /// The statistics as of the driver's last e1000_update_stats (its watchdog, every 2 s), without reading the device's
    /// clear-on-read counters: for status displays that must not disturb the driver.
    /// </summary>
    public IReadOnlyList<(string Name, ulong Value)> PeekStats(NetDevice dev) => Stats(dev);

    private List<(string, ulong)> Stats(NetDevice dev)
    {
        E1000HwStats s = _a.HwStats;
        NetDeviceStats n = dev.Stats;
        return
        [
            ("rx_packets", s.Gprc), ("tx_packets", s.Gptc), ("rx_bytes", s.Gorc), ("tx_bytes", s.Gotc),
            ("rx_broadcast", s.Bprc), ("tx_broadcast", s.Bptc), ("rx_multicast", s.Mprc), ("tx_multicast", s.Mptc),
            ("rx_errors", n.RxErrors), ("tx_errors", n.TxErrors), ("tx_dropped", n.TxDropped), ("multicast", s.Mprc),
            ("collisions", s.Colc), ("rx_length_errors", n.RxLengthErrors), ("rx_over_errors", n.RxOverErrors),
            ("rx_crc_errors", s.Crcerrs), ("rx_frame_errors", n.RxFrameErrors), ("rx_no_buffer_count", s.Rnbc),
            ("rx_missed_errors", s.Mpc), ("tx_aborted_errors", s.Ecol), ("tx_carrier_errors", s.Tncrs),
            ("tx_fifo_errors", n.TxFifoErrors), ("tx_heartbeat_errors", n.TxHeartbeatErrors), ("tx_window_errors", s.Latecol),
            ("tx_abort_late_coll", s.Latecol), ("tx_deferred_ok", s.Dc), ("tx_single_coll_ok", s.Scc),
            ("tx_multi_coll_ok", s.Mcc), ("tx_timeout_count", (ulong)_a.TxTimeoutCount), ("tx_restart_queue", (ulong)_a.RestartQueue),
            ("rx_long_length_errors", s.Roc), ("rx_short_length_errors", s.Ruc), ("rx_align_errors", s.Algnerrc),
            ("tx_tcp_seg_good", s.Tsctc), ("tx_tcp_seg_failed", s.Tsctfc), ("rx_flow_control_xon", s.Xonrxc),
            ("rx_flow_control_xoff", s.Xoffrxc), ("tx_flow_control_xon", s.Xontxc), ("tx_flow_control_xoff", s.Xofftxc),
            ("rx_long_byte_count", s.Gorc), ("rx_csum_offload_good", (ulong)_a.HwCsumGood),
            ("rx_csum_offload_errors", (ulong)_a.HwCsumErrors), ("alloc_rx_buff_failed", (ulong)Kernel.Dma.Failures),
            ("tx_smbus", 0), ("rx_smbus", 0), ("dropped_smbus", 0),
        ];
    }

    /// <summary>
    /// e1000_diag_test. Offline: the link test first, then with the interface closed (as e1000_close leaves it) the
    /// register, EEPROM, interrupt and loopback tests, each after a reset; the interface reopens afterwards.
    /// </summary>
    public IReadOnlyList<(string Name, ulong Result)> SelfTest(NetDevice dev, bool offline)
    {
        ulong[] data = new ulong[5];
        if (offline)
        {
            bool running = dev.IsUp;
            data[4] = LinkTest();
            _a.Testing = true;
            if (running)
            {
                _a.Stop(dev);
            }
            else
            {
                _a.Reset();
            }

            data[0] = RegTest();
            _a.Reset();
            data[1] = EepromTest();
            _a.Reset();
            data[2] = IntrTest();
            _a.Reset();
            if (Hw.ReadPhy(PhyCtrl, out ushort control))
            {
                Hw.WritePhy(PhyCtrl, (ushort)(control & ~MiiCrPowerDown));
            }

            data[3] = LoopbackTest();
            Hw.Autoneg = true;
            _a.Reset();
            _a.Testing = false;
            if (running)
            {
                _a.Open(dev);
            }
        }
        else
        {
            data[4] = LinkTest();
        }

        var results = new List<(string, ulong)>();
        for (int i = 0; i < data.Length; i++)
        {
            results.Add((TestNames[i], data[i]));
        }

        return results;
    }

    // ---- e1000_reg_test ----

    private ulong RegTest()
    {
        // STATUS is read-only: the toggled bits must not change.
        const uint toggle = 0xFFFF_F833;
        uint before = Hw.Read(Status);
        uint value = Hw.Read(Status) & toggle;
        Hw.Write(Status, toggle);
        uint after = Hw.Read(Status) & toggle;
        if (value != after)
        {
            Kernel.Log.Error($"e1000: failed STATUS register test got: 0x{after:X8} expected: 0x{value:X8}");
            return 1;
        }

        Hw.Write(Status, before);
        (uint Reg, uint Mask, uint Write)[] patterns =
        [
            (Fcal, 0xFFFF_FFFF, 0xFFFF_FFFF), (Fcah, 0x0000_FFFF, 0xFFFF_FFFF), (Fct, 0x0000_FFFF, 0xFFFF_FFFF),
            (Vet, 0x0000_FFFF, 0xFFFF_FFFF), (Rdtr, 0x0000_FFFF, 0xFFFF_FFFF), (Rdbah, 0xFFFF_FFFF, 0xFFFF_FFFF),
            (Rdlen, 0x000F_FF80, 0x000F_FFFF), (Rdh, 0x0000_FFFF, 0x0000_FFFF), (Rdt, 0x0000_FFFF, 0x0000_FFFF),
            (Fcrth, 0x0000_FFF8, 0x0000_FFF8), (Fcttv, 0x0000_FFFF, 0x0000_FFFF), (Tipg, 0x3FFF_FFFF, 0x3FFF_FFFF),
            (Tdbah, 0xFFFF_FFFF, 0xFFFF_FFFF), (Tdlen, 0x000F_FF80, 0x000F_FFFF),
        ];
        foreach ((uint reg, uint mask, uint write) in patterns)
        {
            if (PatternTest(reg, mask, write))
            {
                return reg;
            }
        }

        const uint rctlMask = 0x06DF_B3FE;
        if (SetAndCheck(Rctl, 0xFFFF_FFFF, 0) || SetAndCheck(Rctl, rctlMask, 0x003F_FFFB) || SetAndCheck(Tctl, 0xFFFF_FFFF, 0) ||
            SetAndCheck(Rctl, rctlMask, 0xFFFF_FFFF))
        {
            return Rctl;
        }

        (uint Reg, uint Mask, uint Write)[] more = [(0x2800, 0xFFFF_FFF0, 0xFFFF_FFFF), (0x0178, 0xC000_FFFF, 0x0000_FFFF), (Tdbal, 0xFFFF_FFF0, 0xFFFF_FFFF), (Tidv, 0x0000_FFFF, 0x0000_FFFF)];
        foreach ((uint reg, uint mask, uint write) in more)
        {
            if (PatternTest(reg, mask, write))
            {
                return reg;
            }
        }

        for (uint i = 0; i < E1000Hw.RarEntries; i++)
        {
            uint reg = Ra + (((i << 1) + 1) << 2);
            if (PatternTest(reg, 0x8003_FFFF, 0xFFFF_FFFF))
            {
                return reg;
            }
        }

        for (uint i = 0; i < E1000Hw.McTableSize; i++)
        {
            if (PatternTest(Mta + (i << 2), 0xFFFF_FFFF, 0xFFFF_FFFF))
            {
                return Mta + (i << 2);
            }
        }

        return 0;
    }

    private bool PatternTest(uint reg, uint mask, uint write)
    {
        foreach (uint pattern in new uint[] { 0x5A5A_5A5A, 0xA5A5_A5A5, 0x0000_0000, 0xFFFF_FFFF })
        {
            Hw.Write(reg, write & pattern);
            uint read = Hw.Read(reg);
            if (read != (write & pattern & mask))
            {
                Kernel.Log.Error($"e1000: pattern test reg {reg:X4} failed: got 0x{read:X8} expected 0x{write & pattern & mask:X8}");
                return true;
            }
        }

        return false;
    }

    private bool SetAndCheck(uint reg, uint mask, uint write)
    {
        Hw.Write(reg, write & mask);
        uint read = Hw.Read(reg);
        if ((read & mask) != (write & mask))
        {
            Kernel.Log.Error($"e1000: set/check reg {reg:X4} test failed: got 0x{read & mask:X8} expected 0x{write & mask:X8}");
            return true;
        }

        return false;
    }

    // ---- e1000_eeprom_test ----

    private ulong EepromTest()
    {
        Span<ushort> words = stackalloc ushort[64];
        if (!Hw.ReadEeprom(0, words))
        {
            return 1;
        }

        ushort sum = 0;
        foreach (ushort w in words)
        {
            sum += w;
        }

        return sum == EepromSum ? 0u : 2u;
    }

    // ---- e1000_intr_test ----

    private ulong IntrTest()
    {
        int irq = _a.Pdev.Irq;
        const string name = "e1000 selftest";
        bool sharedInt = true;
        if (Kernel.RequestIrq(irq, TestIntr, shared: false, name) == 0)
        {
            sharedInt = false;
        }
        else if (Kernel.RequestIrq(irq, TestIntr, shared: true, name) != 0)
        {
            return 1;
        }

        Kernel.Log.Info($"e1000 {_a.Pdev.Name} {_a.Name}: testing {(sharedInt ? "shared" : "unshared")} interrupt");
        ulong data = 0;
        Hw.Write(Imc, 0xFFFF_FFFF);
        Hw.WriteFlush();
        Kernel.Msleep(10);
        for (int i = 0; i < 10; i++)
        {
            uint mask = 1u << i;
            if (!sharedInt)
            {
                // Masked: forcing the cause must not interrupt.
                _testIcr = 0;
                Hw.Write(Imc, mask);
                Hw.Write(Ics, mask);
                Hw.WriteFlush();
                Kernel.Msleep(10);
                if ((_testIcr & mask) != 0)
                {
                    data = 3;
                    break;
                }
            }

            // Unmasked: forcing it must.
            _testIcr = 0;
            Hw.Write(Ims, mask);
            Hw.Write(Ics, mask);
            Hw.WriteFlush();
            Kernel.Msleep(10);
            if ((_testIcr & mask) == 0)
            {
                data = 4;
                break;
            }

            if (!sharedInt)
            {
                // The other causes, masked, must not.
                _testIcr = 0;
                Hw.Write(Imc, ~mask & 0x7FFF);
                Hw.Write(Ics, ~mask & 0x7FFF);
                Hw.WriteFlush();
                Kernel.Msleep(10);
                if (_testIcr != 0)
                {
                    data = 5;
                    break;
                }
            }
        }

        Hw.Write(Imc, 0xFFFF_FFFF);
        Hw.WriteFlush();
        Kernel.Msleep(10);
        Kernel.FreeIrq(irq, name);
        return data;
    }

    private IrqReturn TestIntr(int irq)
    {
        _testIcr |= Hw.Read(Icr);
        return IrqReturn.Handled;
    }

    // ---- e1000_loopback_test (integrated PHY loopback, as for the copper 82540) ----

    private ulong LoopbackTest()
    {
        const int count = 256;
        const int frameSize = 1024;
        DmaAllocator dma = Kernel.Dma;
        DmaBuffer txRing = dma.AllocCoherent(count * 16);
        DmaBuffer rxRing = dma.AllocCoherent(count * 16);
        var txBuffers = new DmaBuffer[count];
        var rxBuffers = new DmaBuffer[count];
        try
        {
            // e1000_setup_desc_rings.
            Hw.Write(Tdbal, (uint)txRing.Address);
            Hw.Write(Tdbah, (uint)(txRing.Address >> 32));
            Hw.Write(Tdlen, count * 16);
            Hw.Write(Tdh, 0);
            Hw.Write(Tdt, 0);
            Hw.Write(Tctl, TctlPsp | TctlEn | (CollisionThreshold << CtShift) | (CollisionDistance << ColdShift));
            Span<byte> d = stackalloc byte[16];
            byte[] frame = new byte[frameSize];
            for (int i = 0; i < count; i++)
            {
                txBuffers[i] = dma.MapToDevice(frame);
                d.Clear();
                BinaryPrimitives.WriteUInt64LittleEndian(d, txBuffers[i].Address);
                BinaryPrimitives.WriteUInt32LittleEndian(d[8..], frameSize | TxdCmdEop | TxdCmdIfcs | 0x1000_0000);   // RPS
                dma.Write(txRing.Address + (ulong)(16 * i), d);
            }

            uint rctl = Hw.Read(Rctl);
            Hw.Write(Rctl, rctl & ~RctlEn);
            Hw.Write(Rdbal, (uint)rxRing.Address);
            Hw.Write(Rdbah, (uint)(rxRing.Address >> 32));
            Hw.Write(Rdlen, count * 16);
            Hw.Write(Rdh, 0);
            Hw.Write(Rdt, 0);
            Hw.Write(Rctl, RctlEn | RctlBam | RctlSz2048 | RctlRdmtsHalf);
            for (int i = 0; i < count; i++)
            {
                rxBuffers[i] = dma.MapFromDevice(2048);
                d.Clear();
                BinaryPrimitives.WriteUInt64LittleEndian(d, rxBuffers[i].Address);
                dma.Write(rxRing.Address + (ulong)(16 * i), d);
            }

            SetupPhyLoopback();
            ulong result = RunLoopback(txBuffers, rxBuffers, count, frameSize);
            LoopbackCleanup();
            return result;
        }
        finally
        {
            foreach (DmaBuffer b in txBuffers)
            {
                dma.Unmap(b);
            }

            foreach (DmaBuffer b in rxBuffers)
            {
                dma.Unmap(b);
            }

            dma.FreeCoherent(txRing);
            dma.FreeCoherent(rxRing);
        }
    }

    /// <summary>e1000_integrated_phy_loopback for the M88: MDI-X off, autonegotiation off, 1000 FD forced, loopback.</summary>
    private void SetupPhyLoopback()
    {
        Hw.Autoneg = false;
        Hw.WritePhy(M88PhySpecCtrl, 0x0808);
        Hw.WritePhy(PhyCtrl, 0x9140);
        Hw.WritePhy(PhyCtrl, 0x8140);
        Hw.WritePhy(PhyCtrl, 0x4140);
        uint ctrl = Hw.Read(Ctrl);
        ctrl &= ~CtrlSpdSel;
        ctrl |= CtrlFrcspd | CtrlFrcdpx | CtrlSpd1000 | CtrlFd | CtrlIlos;
        Hw.Write(Ctrl, ctrl);

        // e1000_phy_disable_receiver: registers 29/30 (the model's PHY answers ERROR; Linux ignores the result).
        Hw.WritePhy(29, 0x001F);
        Hw.WritePhy(30, 0x8FFC);
        Hw.WritePhy(29, 0x001A);
        Hw.WritePhy(30, 0x8FF0);
        Kernel.Udelay(500);
    }

    /// <summary>e1000_run_loopback_test: rounds of 64 frames sent, then received and compared.</summary>
    private ulong RunLoopback(DmaBuffer[] tx, DmaBuffer[] rx, int count, int frameSize)
    {
        Hw.Write(Rdt, (uint)(count - 1));
        int loops = ((count / 64) * 2) + 1;
        int k = 0;
        int l = 0;
        byte[] frame = new byte[frameSize];
        CreateLbtestFrame(frame);
        byte[] received = new byte[frameSize];
        for (int j = 0; j <= loops; j++)
        {
            for (int i = 0; i < 64; i++)
            {
                Kernel.Dma.Write(tx[k].Address, frame);
                if (++k == count)
                {
                    k = 0;
                }
            }

            Hw.Write(Tdt, (uint)k);
            Hw.WriteFlush();
            Kernel.Msleep(200);
            long start = Kernel.Clock.Now;
            int good = 0;
            do
            {
                Kernel.Dma.SyncForCpu(rx[l], received);
                if (CheckLbtestFrame(received))
                {
                    good++;
                }

                if (++l == count)
                {
                    l = 0;
                }
            }
            while (good < 64 && Kernel.Clock.Now - start <= 20_000_000);

            if (good != 64)
            {
                return 13;
            }

            if (Kernel.Clock.Now - start >= 20_000_000)
            {
                return 14;
            }
        }

        return 0;
    }

    private static void CreateLbtestFrame(byte[] frame)
    {
        int size = frame.Length & ~1;
        frame.AsSpan().Fill(0xFF);
        frame.AsSpan(size / 2, (size / 2) - 1).Fill(0xAA);
        frame[(size / 2) + 10] = 0xBE;
        frame[(size / 2) + 12] = 0xAF;
    }

    private static bool CheckLbtestFrame(byte[] data)
    {
        int size = data.Length & ~1;
        return data[3] == 0xFF && data[(size / 2) + 10] == 0xBE && data[(size / 2) + 12] == 0xAF;
    }

    private void LoopbackCleanup()
    {
        Hw.Write(Rctl, Hw.Read(Rctl) & ~RctlLbmMask);
        Hw.Autoneg = true;
        if (Hw.ReadPhy(PhyCtrl, out ushort control) && (control & MiiCrLoopback) != 0)
        {
            Hw.WritePhy(PhyCtrl, (ushort)(control & ~MiiCrLoopback));
            Hw.PhyReset();
        }
    }

    // ---- e1000_link_test ----

    private ulong LinkTest()
    {
        Hw.CheckForLink();
        if (Hw.Autoneg)
        {
            // "if auto_neg is set wait for it"
            Kernel.Msleep(4000);
        }

        return (Hw.Read(Status) & StatusLu) == 0 ? 1u : 0u;
    }
}
