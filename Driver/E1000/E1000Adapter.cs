using System.Buffers.Binary;
using Emu.Driver.Kernel;
using Emu.Stack.Core;
using static Emu.Driver.E1000.E1000Regs;

namespace Emu.Driver.E1000;

/// <summary>
/// struct e1000_adapter and e1000_main.c for the 82540EM (Linux 6.1): open/close, transmit, the interrupt handler,
/// the NAPI poll (or, with napi=off, receive straight into netif_rx), the watchdog, reset, rx mode and MTU.
/// </summary>
public sealed partial class E1000Adapter : INetDeviceOps
{
    /// <summary>E1000_DEFAULT_TXD / E1000_DEFAULT_RXD.</summary>
    public const int DefaultDescriptors = 256;

    /// <summary>E1000_MAX_DATA_PER_TXD.</summary>
    private const int MaxDataPerTxd = 4096;

    /// <summary>MAX_SKB_FRAGS + 7: what xmit keeps free after queuing (e1000_maybe_stop_tx).</summary>
    private const int StopThreshold = 17 + 7;

    /// <summary>TX_WAKE_THRESHOLD.</summary>
    private const int WakeThreshold = 32;

    /// <summary>E1000_RX_BUFFER_WRITE: refill every 16 cleaned descriptors.</summary>
    private const int RxBufferWrite = 16;

    /// <summary>E1000_RXBUFFER_2048 and the receive buffer for a standard frame (MAXIMUM_ETHERNET_VLAN_SIZE).</summary>
    private const int RxBuffer2048 = 2048;

    private readonly GuestKernel _kernel;
    private readonly NetCore _net;
    private readonly IKernelTimer _watchdog;
    private readonly IKernelTimer _resetTask;
    private readonly byte[] _copyBuffer = new byte[16 * 1024];
    private E1000Ring _tx;
    private E1000Ring _rx;
    private bool _down = true;
    private bool _resetting;
    private int _rxBufferLength = 1522;
    private bool _detectTxHung;
    private int _txTimeoutFactor = 1;

    internal E1000Adapter(GuestKernel kernel, PciDev pdev, E1000Options options)
    {
        _kernel = kernel;
        _net = kernel.Net;
        Pdev = pdev;
        Options = options;
        _tx = new E1000Ring(options.TxDescriptors);
        _rx = new E1000Ring(options.RxDescriptors);
        _watchdog = kernel.CreateWork("e1000 watchdog", Watchdog);
        _resetTask = kernel.CreateWork("e1000 reset_task", ResetTask);
    }

    public PciDev Pdev { get; }

    public NetDevice Netdev { get; internal set; } = null!;

    public E1000Options Options { get; }

    internal E1000Hw Hw { get; set; } = null!;

    internal Napi Napi { get; set; } = null!;

    internal GuestKernel Kernel => _kernel;

    /// <summary>The hardware statistics accumulated from the clear-on-read counters (struct e1000_hw_stats).</summary>
    public E1000HwStats HwStats { get; } = new();

    public long TxTimeoutCount { get; private set; }

    public long RestartQueue { get; private set; }

    public long HwCsumErrors { get; private set; }

    public long HwCsumGood { get; private set; }

    public long RxCopybreak { get; private set; }

    public bool Testing { get; internal set; }

    public bool IsDown => _down;

    /// <summary>__E1000_RESETTING: a reinit (down + up) is under way.</summary>
    public bool Resetting => _resetting;

    internal int TxRingCount => _tx.Count;

    internal int RxRingCount => _rx.Count;

    internal string Name => Netdev?.Name ?? Pdev.Name;

    // ---- Open / close (e1000_open, e1000_close) ----

    public int Open(NetDevice dev)
    {
        if (Testing)
        {
            return NetCore.EBusy;
        }

        _net.NetifCarrierOff(dev);
        if (!SetupTxResources(_tx) || !SetupRxResources(_rx))
        {
            FreeRings();
            return -12;   // -ENOMEM
        }

        PowerUpPhy();
        Configure();
        int err = _kernel.RequestIrq(Pdev.Irq, Intr, shared: true, Name);
        if (err != 0)
        {
            Reset();
            FreeRings();
            return err;
        }

        _down = false;
        NetCore.NapiEnable(Napi);
        IrqEnable();
        _net.NetifStartQueue(dev);

        // "Fire a link status change interrupt to start the watchdog."
        Hw.Write(Ics, IcrLsc);
        return 0;
    }

    public int Stop(NetDevice dev)
    {
        Down();
        PowerDownPhy();
        _kernel.FreeIrq(Pdev.Irq, Name);
        FreeRings();
        return 0;
    }

    /// <summary>e1000_configure: rx mode, the rings' registers, and the receive buffers.</summary>
    private void Configure()
    {
        SetRxMode(Netdev);
        ConfigureTx();
        SetupRctl();
        ConfigureRx();
        AllocRxBuffers(_rx.Unused);
    }

    /// <summary>e1000_up (after a reset): configure and run.</summary>
    private void Up()
    {
        Configure();
        _down = false;
        NetCore.NapiEnable(Napi);
        IrqEnable();
        _net.NetifWakeQueue(Netdev);
        Hw.Write(Ics, IcrLsc);
    }

    /// <summary>e1000_down: stop receive and transmit, carrier off, NAPI off, reset, empty the rings.</summary>
    internal void Down()
    {
        _down = true;
        Hw.Write(Rctl, Hw.Read(Rctl) & ~RctlEn);
        _net.NetifStopQueue(Netdev);
        Hw.Write(Tctl, Hw.Read(Tctl) & ~TctlEn);
        Hw.WriteFlush();
        _kernel.Msleep(10);
        _net.NetifCarrierOff(Netdev);
        _net.NapiDisable(Napi);
        IrqDisable();
        _watchdog.Cancel();
        Reset();
        CleanTxRing();
        CleanRxRing();
    }

    private void ReinitLocked()
    {
        _resetting = true;
        Down();
        Up();
        _resetting = false;
    }

    /// <summary>e1000_reset: packet buffer split, hardware reset and init, VET, adaptive IFS.</summary>
    internal void Reset()
    {
        // PBA: 48 KB receive for standard frames (E1000_PBA_48K); the 82540's jumbo frames need more receive room.
        Hw.Write(Pba, _rxBufferLength > RxBuffer2048 ? 0x28u : 0x30u);
        Hw.ResetHw();
        Hw.Write(Wuc, 0);
        if (!Hw.InitHw(Netdev.DevAddr))
        {
            // e1000_reset: e1000_init_hw failed (a PHY access did; the link may still come later).
            _kernel.Log.Error($"e1000 {Pdev.Name}: Hardware Error");
        }

        Hw.Write(Vet, 0x8100);
        Hw.Write(Ait, 0);
        VlanMode();
    }

    /// <summary>e1000_vlan_mode: hardware tag stripping (CTRL.VME) while NETIF_F_HW_VLAN_CTAG_RX is on.</summary>
    private void VlanMode()
    {
        uint ctrl = Hw.Read(Ctrl);
        ctrl = (Netdev.Features & NetDeviceFeatures.HwVlanCtagRx) != 0 ? ctrl | CtrlVme : ctrl & ~CtrlVme;
        Hw.Write(Ctrl, ctrl);
        Hw.Write(Rctl, Hw.Read(Rctl) & ~RctlVfe);
    }

    internal void IrqDisable()
    {
        Hw.Write(Imc, 0xFFFF_FFFF);
        Hw.WriteFlush();
    }

    internal void IrqEnable()
    {
        Hw.Write(Ims, ImsEnableMask);
        Hw.WriteFlush();
    }

    private void PowerUpPhy()
    {
        if (Hw.ReadPhy(PhyCtrl, out ushort control))
        {
            Hw.WritePhy(PhyCtrl, (ushort)(control & ~MiiCrPowerDown));
        }
    }

    private void PowerDownPhy()
    {
        if (Hw.ReadPhy(PhyCtrl, out ushort control))
        {
            Hw.WritePhy(PhyCtrl, (ushort)(control | MiiCrPowerDown));
            _kernel.Msleep(1);
        }
    }

    /// <summary>Resizes the rings (ethtool -G): a running interface goes down and comes back up with them.</summary>
    internal int Resize(int rxCount, int txCount)
    {
        bool running = Netdev.IsUp;
        if (running)
        {
            Down();
            FreeRings();
        }

        _rx = new E1000Ring(rxCount);
        _tx = new E1000Ring(txCount);
        if (running)
        {
            if (!SetupTxResources(_tx) || !SetupRxResources(_rx))
            {
                return -12;
            }

            Up();
        }

        return 0;
    }

    // ---- Rings ----

    private bool SetupTxResources(E1000Ring ring)
    {
        // The ring rounded up to 4 KiB (ALIGN(count * 16, 4096)).
        ring.Descriptors = _kernel.Dma.AllocCoherent(AlignPage(ring.Count * 16));
        ring.NextToUse = ring.NextToClean = 0;
        return ring.Descriptors.IsValid;
    }

    private bool SetupRxResources(E1000Ring ring) => SetupTxResources(ring);

    private static int AlignPage(int size) => (size + 4095) & ~4095;

    internal void FreeRings()
    {
        CleanTxRing();
        CleanRxRing();
        _kernel.Dma.FreeCoherent(_tx.Descriptors);
        _kernel.Dma.FreeCoherent(_rx.Descriptors);
        _tx.Descriptors = default;
        _rx.Descriptors = default;
    }

    /// <summary>e1000_configure_tx: ring registers, TIPG for copper, TIDV/TADV, TCTL (not yet enabled).</summary>
    private void ConfigureTx()
    {
        ulong tdba = _tx.Descriptors.Address;
        Hw.Write(Tdlen, (uint)(_tx.Count * 16));   // the allocation is page-aligned; the ring length is not
        Hw.Write(Tdbah, (uint)(tdba >> 32));
        Hw.Write(Tdbal, (uint)tdba);
        Hw.Write(Tdt, 0);
        Hw.Write(Tdh, 0);
        Hw.Write(Tipg, 8 | (8 << 10) | (6 << 20));
        Hw.Write(Tidv, Options.TxIntDelay);
        Hw.Write(Tadv, Options.TxAbsIntDelay);
        uint tctl = Hw.Read(Tctl);
        tctl &= ~TctlCt;
        tctl |= TctlPsp | TctlRtlc | (CollisionThreshold << CtShift);
        tctl = (tctl & ~TctlCold) | (CollisionDistance << ColdShift);
        Hw.Write(Tctl, tctl);
    }

    /// <summary>e1000_setup_rctl: broadcasts, half-ring RXDMT0, 2 KB buffers (bigger for jumbo frames with LPE).</summary>
    private void SetupRctl()
    {
        uint rctl = Hw.Read(Rctl);
        rctl &= ~RctlMoMask;
        rctl |= RctlBam | RctlRdmtsHalf;
        rctl &= ~(RctlSbp | RctlSecrc | RctlLbmMask);
        rctl = Netdev.Mtu <= 1500 ? rctl & ~RctlLpe : rctl | RctlLpe;
        rctl &= ~(RctlSzMask | RctlBsex);
        rctl |= _rxBufferLength switch
        {
            <= RxBuffer2048 => RctlSz2048,
            <= 4096 => RctlSz4096 | RctlBsex,
            <= 8192 => RctlSz8192 | RctlBsex,
            _ => RctlSz16384 | RctlBsex,
        };
        Hw.Write(Rctl, rctl);
    }

    /// <summary>e1000_configure_rx: receiver off while the ring is set, delays, ITR, RXCSUM, then on.</summary>
    private void ConfigureRx()
    {
        uint rctl = Hw.Read(Rctl);
        Hw.Write(Rctl, rctl & ~RctlEn);
        Hw.Write(Rdtr, Options.RxIntDelay);
        Hw.Write(Radv, Options.RxAbsIntDelay);
        if (Options.InterruptThrottleRate != 0)
        {
            Hw.Write(Itr, (uint)(1_000_000_000 / (Options.InterruptThrottleRate * 256)));
        }

        ulong rdba = _rx.Descriptors.Address;
        Hw.Write(Rdlen, (uint)(_rx.Count * 16));
        Hw.Write(Rdbah, (uint)(rdba >> 32));
        Hw.Write(Rdbal, (uint)rdba);
        Hw.Write(Rdt, 0);
        Hw.Write(Rdh, 0);
        uint rxcsum = Hw.Read(Rxcsum);
        rxcsum = Options.RxChecksum ? rxcsum | RxcsumTuofl : rxcsum & ~RxcsumTuofl;
        Hw.Write(Rxcsum, rxcsum);
        Hw.Write(Rctl, rctl | RctlEn);
    }

    private int RxAllocationSize => Math.Max(_rxBufferLength, RxBuffer2048);

    /// <summary>e1000_alloc_rx_buffers: map buffers into the next <paramref name="count"/> descriptors, then RDT.</summary>
    private void AllocRxBuffers(int count)
    {
        int i = _rx.NextToUse;
        Span<byte> descriptor = stackalloc byte[16];
        while (count-- > 0)
        {
            ref BufferInfo info = ref _rx.BufferInfo[i];
            if (!info.Dma.IsValid)
            {
                info.Dma = _kernel.Dma.MapFromDevice(RxAllocationSize);
                if (!info.Dma.IsValid)
                {
                    break;   // alloc_rx_buff_failed
                }
            }

            descriptor.Clear();
            BinaryPrimitives.WriteUInt64LittleEndian(descriptor, info.Dma.Address);
            _kernel.Dma.Write(_rx.DescriptorAddress(i), descriptor);
            if (++i == _rx.Count)
            {
                i = 0;
            }
        }

        if (_rx.NextToUse != i)
        {
            _rx.NextToUse = i;
            Hw.Write(Rdt, (uint)(i == 0 ? _rx.Count - 1 : i - 1));
        }
    }

    private void CleanTxRing()
    {
        for (int i = 0; i < _tx.Count; i++)
        {
            ref BufferInfo info = ref _tx.BufferInfo[i];
            UnmapAndFreeTx(ref info);
        }

        if (_tx.Descriptors.IsValid)
        {
            _kernel.Dma.Fill(_tx.Descriptors, 0);
        }

        _tx.NextToUse = _tx.NextToClean = 0;
        if (Hw is not null)
        {
            Hw.Write(Tdh, 0);
            Hw.Write(Tdt, 0);
        }
    }

    private void CleanRxRing()
    {
        for (int i = 0; i < _rx.Count; i++)
        {
            ref BufferInfo info = ref _rx.BufferInfo[i];
            if (info.Dma.IsValid)
            {
                _kernel.Dma.Unmap(info.Dma);
                info.Dma = default;
            }
        }

        if (_rx.Descriptors.IsValid)
        {
            _kernel.Dma.Fill(_rx.Descriptors, 0);
        }

        _rx.NextToUse = _rx.NextToClean = 0;
        if (Hw is not null)
        {
            Hw.Write(Rdh, 0);
            Hw.Write(Rdt, 0);
        }
    }

    private void UnmapAndFreeTx(ref BufferInfo info)
    {
        if (info.Dma.IsValid)
        {
            _kernel.Dma.Unmap(info.Dma);
            info.Dma = default;
        }

        info.Skb?.Free();
        info.Skb = null;
        info.TimeStamp = 0;
    }
}
