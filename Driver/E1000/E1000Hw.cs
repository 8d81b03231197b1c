using Emu.Driver.Kernel;
using static Emu.Driver.E1000.E1000Regs;

namespace Emu.Driver.E1000;

/// <summary>
/// struct e1000_hw and the hardware routines of Linux's e1000_hw.c for the 82540: register access through the mapped
/// BAR (and the I/O BAR for the reset), the Microwire EEPROM, the M88 PHY over MDIC, link set-up, flow control, the
/// receive address and multicast tables.
/// </summary>
internal sealed class E1000Hw
{
    /// <summary>E1000_RAR_ENTRIES.</summary>
    public const int RarEntries = 15;

    /// <summary>E1000_MC_TBL_SIZE.</summary>
    public const int McTableSize = 128;

    private readonly IoMem _hwAddr;
    private readonly GuestKernel _kernel;

    public E1000Hw(GuestKernel kernel, IoMem hwAddr, ushort ioBase)
    {
        _kernel = kernel;
        _hwAddr = hwAddr;
        IoBase = ioBase;
    }

    public ushort IoBase { get; }

    public int EepromWordSize { get; private set; } = 64;

    public int EepromAddressBits { get; private set; } = 6;

    public byte[] MacAddr { get; } = new byte[6];

    public uint PhyId { get; private set; }

    /// <summary>hw->get_link_status: set by LSC, cleared by check_for_link once the link is up.</summary>
    public bool GetLinkStatus { get; set; } = true;

    public bool Autoneg { get; set; } = true;

    /// <summary>hw->autoneg_advertised (e1000_param.c AUTONEG_ADV_DEFAULT: 10/100 half and full, 1000 full).</summary>
    public ushort AutonegAdvertised { get; set; } = 0x2F;

    /// <summary>The flow control resolved after link-up (e1000_fc_*).</summary>
    public FlowControl Fc { get; private set; } = FlowControl.Full;

    public FlowControl RequestedFc { get; set; } = FlowControl.Full;

    public uint Read(uint register) => _hwAddr.Readl(register);

    public void Write(uint register, uint value) => _hwAddr.Writel(register, value);

    /// <summary>E1000_WRITE_FLUSH: a read of STATUS makes posted writes land.</summary>
    public void WriteFlush() => _hwAddr.Readl(Status);

    public void WriteArray(uint register, int index, uint value) => _hwAddr.Writel(register + (uint)(index * 4), value);

    // ---- Reset ----

    /// <summary>e1000_reset_hw for the 82540: interrupts masked, RX/TX stopped, CTRL.RST through the I/O BAR.</summary>
    public void ResetHw()
    {
        Write(Imc, 0xFFFF_FFFF);
        Write(Rctl, 0);
        Write(Tctl, TctlPsp);
        WriteFlush();
        _kernel.Msleep(10);
        uint ctrl = Read(Ctrl);

        // "These controllers can't ack the 64-bit write when issuing the reset, so we use IO-mapping as a workaround."
        _kernel.Bus.Out(IoBase, 4, Ctrl);
        _kernel.Bus.Out((ushort)(IoBase + 4), 4, ctrl | CtrlRst);
        _kernel.Msleep(5);

        // Force an EEPROM reload for the 82540 family, then wait for it.
        _kernel.Udelay(10);
        Write(CtrlExt, Read(CtrlExt) | CtrlExtEeRst);
        WriteFlush();
        _kernel.Msleep(2);

        // e1000_reset_hw, 82540 and later: disable hardware ARP replies (MANC.ARP_EN) after every reset.
        Write(Manc, Read(Manc) & ~0x2000u);
        Write(Imc, 0xFFFF_FFFF);
        Read(Icr);
    }

    // ---- EEPROM (Microwire) ----

    /// <summary>e1000_init_eeprom_params: EECD.SIZE picks 256 words (8 address bits) or 64 (6).</summary>
    public void InitEepromParams()
    {
        bool large = (Read(Eecd) & EecdSize) != 0;
        EepromWordSize = large ? 256 : 64;
        EepromAddressBits = large ? 8 : 6;
    }

    /// <summary>e1000_read_eeprom: bit-banged through EECD with REQ/GNT; false if the grant never comes.</summary>
    public bool ReadEeprom(int offset, Span<ushort> words)
    {
        if (offset < 0 || offset + words.Length > EepromWordSize)
        {
            return false;
        }

        // e1000_acquire_eeprom: request, wait for the grant (1000 × 5 µs), then CS.
        uint eecd = Read(Eecd) | EecdReq;
        Write(Eecd, eecd);
        int i = 0;
        for (; i < 1000 && (Read(Eecd) & EecdGnt) == 0; i++)
        {
            _kernel.Udelay(5);
        }

        if (i == 1000)
        {
            Write(Eecd, eecd & ~EecdReq);
            return false;
        }

        eecd = (Read(Eecd) & ~(EecdDi | EecdSk)) | EecdCs;
        Write(Eecd, eecd);
        for (int w = 0; w < words.Length; w++)
        {
            // Opcode 110 (start bit + READ), then the address, MSB first; then 16 data bits.
            ShiftOut(ref eecd, 0b110, 3);
            ShiftOut(ref eecd, (uint)(offset + w), EepromAddressBits);
            words[w] = ShiftIn(ref eecd);
            Standby(ref eecd);
        }

        // e1000_release_eeprom.
        eecd &= ~(EecdCs | EecdDi);
        Write(Eecd, eecd);
        Write(Eecd, eecd | EecdSk);
        Write(Eecd, eecd);
        Write(Eecd, eecd & ~EecdReq);
        return true;
    }

    /// <summary>e1000_validate_eeprom_checksum: words 0x00–0x3F must sum to 0xBABA.</summary>
    public bool ValidateEepromChecksum(out ushort sum)
    {
        Span<ushort> words = stackalloc ushort[64];
        sum = 0;
        if (!ReadEeprom(0, words))
        {
            return false;
        }

        foreach (ushort w in words)
        {
            sum += w;
        }

        return sum == EepromSum;
    }

    /// <summary>e1000_read_mac_addr: words 0–2, low byte first.</summary>
    public bool ReadMacAddr()
    {
        Span<ushort> words = stackalloc ushort[3];
        if (!ReadEeprom(0, words))
        {
            return false;
        }

        for (int i = 0; i < 3; i++)
        {
            MacAddr[2 * i] = (byte)words[i];
            MacAddr[(2 * i) + 1] = (byte)(words[i] >> 8);
        }

        return true;
    }

    private void RaiseClock(ref uint eecd)
    {
        eecd |= EecdSk;
        Write(Eecd, eecd);
        WriteFlush();
        _kernel.Udelay(50);
    }

    private void LowerClock(ref uint eecd)
    {
        eecd &= ~EecdSk;
        Write(Eecd, eecd);
        WriteFlush();
        _kernel.Udelay(50);
    }

    private void ShiftOut(ref uint eecd, uint data, int count)
    {
        for (int bit = count - 1; bit >= 0; bit--)
        {
            eecd = ((data >> bit) & 1) != 0 ? eecd | EecdDi : eecd & ~EecdDi;
            Write(Eecd, eecd);
            WriteFlush();
            _kernel.Udelay(50);
            RaiseClock(ref eecd);
            LowerClock(ref eecd);
        }

        eecd &= ~EecdDi;
        Write(Eecd, eecd);
    }

    private ushort ShiftIn(ref uint eecd)
    {
        ushort data = 0;
        for (int i = 0; i < 16; i++)
        {
            RaiseClock(ref eecd);
            data = (ushort)((data << 1) | ((Read(Eecd) & EecdDo) != 0 ? 1 : 0));
            LowerClock(ref eecd);
        }

        return data;
    }

    private void Standby(ref uint eecd)
    {
        eecd &= ~(EecdCs | EecdSk);
        Write(Eecd, eecd);
        WriteFlush();
        _kernel.Udelay(50);
        eecd |= EecdSk;
        Write(Eecd, eecd);
        WriteFlush();
        _kernel.Udelay(50);
        eecd |= EecdCs;
        Write(Eecd, eecd);
        WriteFlush();
        _kernel.Udelay(50);
        eecd &= ~EecdSk;
        Write(Eecd, eecd);
        WriteFlush();
        _kernel.Udelay(50);
    }

    // ---- PHY over MDIC ----

    /// <summary>e1000_read_phy_reg: MDIC read at PHY address 1, READY polled (64 × 50 µs); false on ERROR or timeout.</summary>
    public bool ReadPhy(int register, out ushort value)
    {
        Write(Mdic, ((uint)register << 16) | (1u << 21) | MdicOpRead);
        value = 0;
        for (int i = 0; i < 64; i++)
        {
            uint mdic = Read(Mdic);
            if ((mdic & MdicReady) != 0)
            {
                if ((mdic & MdicError) != 0)
                {
                    return false;
                }

                value = (ushort)mdic;
                return true;
            }

            _kernel.Udelay(50);
        }

        return false;
    }

    public bool WritePhy(int register, ushort value)
    {
        Write(Mdic, value | ((uint)register << 16) | (1u << 21) | MdicOpWrite);
        for (int i = 0; i < 641; i++)
        {
            uint mdic = Read(Mdic);
            if ((mdic & MdicReady) != 0)
            {
                return (mdic & MdicError) == 0;
            }

            _kernel.Udelay(5);
        }

        return false;
    }

    /// <summary>e1000_phy_hw_reset: CTRL.PHY_RST for 10 ms, then the PHY's own start-up.</summary>
    public void PhyHwReset()
    {
        uint ctrl = Read(Ctrl);
        Write(Ctrl, ctrl | CtrlPhyRst);
        WriteFlush();
        _kernel.Msleep(10);
        Write(Ctrl, ctrl);
        WriteFlush();
        _kernel.Udelay(150);
        _kernel.Msleep(10);
    }

    /// <summary>e1000_phy_reset for the M88: a software reset through the PHY control register.</summary>
    public void PhyReset()
    {
        if (ReadPhy(PhyCtrl, out ushort control))
        {
            WritePhy(PhyCtrl, (ushort)(control | MiiCrReset));
            _kernel.Udelay(1);
        }
    }

    // ---- Init and link ----

    /// <summary>e1000_init_hw: LED, VLAN table, receive addresses, MTA, link, flow control, TXDCTL, counters; false when link set-up failed.</summary>
    public bool InitHw(ReadOnlySpan<byte> macAddress)
    {
        Read(Ledctl);
        Write(Vet, 0);
        for (int i = 0; i < 128; i++)
        {
            WriteArray(Vfta, i, 0);
        }

        InitRxAddrs(macAddress);
        for (int i = 0; i < McTableSize; i++)
        {
            WriteArray(Mta, i, 0);
        }

        bool ok = SetupLink();

        // Flow control addresses and type (IEEE 802.3x PAUSE), and the pause time.
        Write(Fct, 0x8808);
        Write(Fcah, 0x0100);
        Write(Fcal, 0x00C2_8001);
        Write(Fcttv, 0xFFFF);
        Write(Txdctl, (Read(Txdctl) & ~0x003F_0000u) | 0x0101_0000);
        ClearHwCntrs();
        return ok;
    }

    /// <summary>e1000_init_rx_addrs: RAR0 is the station address; the others are cleared.</summary>
    public void InitRxAddrs(ReadOnlySpan<byte> mac)
    {
        RarSet(mac, 0);
        for (int i = 1; i < RarEntries + 1; i++)
        {
            WriteArray(Ra, i * 2, 0);
            WriteFlush();
            WriteArray(Ra, (i * 2) + 1, 0);
            WriteFlush();
        }
    }

    /// <summary>e1000_rar_set: low dword first, then the high one with AV (§13.5.2's write order).</summary>
    public void RarSet(ReadOnlySpan<byte> mac, int index)
    {
        uint low = mac[0] | ((uint)mac[1] << 8) | ((uint)mac[2] << 16) | ((uint)mac[3] << 24);
        uint high = mac[4] | ((uint)mac[5] << 8) | 0x8000_0000u;
        WriteArray(Ra, index * 2, low);
        WriteFlush();
        WriteArray(Ra, (index * 2) + 1, high);
        WriteFlush();
    }

    /// <summary>e1000_hash_mc_addr, filter type 0: 12 bits from address bytes 4 and 5.</summary>
    public static int HashMcAddr(ReadOnlySpan<byte> mac) => ((mac[4] >> 4) | (mac[5] << 4)) & 0xFFF;

    /// <summary>e1000_setup_link → e1000_setup_copper_link for the M88 PHY; false when a PHY access failed
    /// (Linux's -E1000_ERR_PHY), true otherwise, the link up or not yet.</summary>
    public bool SetupLink()
    {
        // e1000_copper_link_preconfig: the MAC follows the PHY (SLU), nothing forced.
        uint ctrl = Read(Ctrl);
        ctrl |= CtrlSlu;
        ctrl &= ~(CtrlFrcspd | CtrlFrcdpx);
        Write(Ctrl, ctrl);

        // e1000_detect_gig_phy.
        if (!ReadPhy(PhyId1, out ushort id1))
        {
            return false;
        }

        _kernel.Udelay(20);
        ReadPhy(PhyId2, out ushort id2);
        PhyId = ((uint)id1 << 16) | (uint)(id2 & 0xFFF0);
        if (PhyId != M88E1011IPhyId)
        {
            _kernel.Log.Error($"e1000: PHY ID 0x{PhyId:X8} is not the 82540EM's M88E1011");
            return false;
        }

        // e1000_copper_link_mgp_setup: CRS on transmit, automatic MDI/MDI-X, TX_CLK at 25 MHz, then a PHY reset.
        if (!ReadPhy(M88PhySpecCtrl, out ushort spec) || !WritePhy(M88PhySpecCtrl, (ushort)(spec | 0x0800 | 0x0060))
            || !ReadPhy(M88ExtPhySpecCtrl, out ushort ext) || !WritePhy(M88ExtPhySpecCtrl, (ushort)(ext | 0x0070)))
        {
            return false;
        }

        PhyReset();

        // e1000_copper_link_autoneg: advertise, then restart autonegotiation.
        ushort adv = 0x0001;   // IEEE 802.3 selector
        if ((AutonegAdvertised & 0x01) != 0)
        {
            adv |= 0x0020;
        }

        if ((AutonegAdvertised & 0x02) != 0)
        {
            adv |= 0x0040;
        }

        if ((AutonegAdvertised & 0x04) != 0)
        {
            adv |= 0x0080;
        }

        if ((AutonegAdvertised & 0x08) != 0)
        {
            adv |= 0x0100;
        }

        if (RequestedFc == FlowControl.Full)
        {
            adv |= NwayArPause | NwayArAsmDir;
        }

        if (!WritePhy(PhyAutonegAdv, adv) || !WritePhy(Phy1000tCtrl, (AutonegAdvertised & 0x20) != 0 ? (ushort)0x0200 : (ushort)0)
            || !ReadPhy(PhyCtrl, out ushort control) || !WritePhy(PhyCtrl, (ushort)(control | MiiCrAutoNegEn | MiiCrRestartAutoNeg)))
        {
            return false;
        }

        GetLinkStatus = true;

        // e1000_copper_link_postconfig: a short look for link (10 × 10 µs); usually autonegotiation is still running.
        for (int i = 0; i < 10; i++)
        {
            ReadPhy(PhyStatus, out _);
            ReadPhy(PhyStatus, out ushort status);
            if ((status & MiiSrLinkStatus) != 0)
            {
                CheckForLink();
                return true;
            }

            _kernel.Udelay(10);
        }

        return true;
    }

    /// <summary>
    /// e1000_check_for_link (copper): the PHY status (read twice: link is latched low); on link, collision distance
    /// and flow control; true when the link is up.
    /// </summary>
    public bool CheckForLink()
    {
        Read(Ctrl);
        Read(Status);
        if (!ReadPhy(PhyStatus, out _) || !ReadPhy(PhyStatus, out ushort status))
        {
            return false;
        }

        if ((status & MiiSrLinkStatus) == 0)
        {
            GetLinkStatus = true;
            return false;
        }

        GetLinkStatus = false;
        ConfigCollisionDistance();
        ConfigFcAfterLinkUp(status);
        return true;
    }

    public void ConfigCollisionDistance()
    {
        uint tctl = Read(Tctl);
        tctl = (tctl & ~TctlCold) | (CollisionDistance << ColdShift);
        Write(Tctl, tctl);
        WriteFlush();
    }

    /// <summary>e1000_config_fc_after_link_up: resolve PAUSE from our and the partner's advertisement (IEEE 802.3 Annex 28B).</summary>
    private void ConfigFcAfterLinkUp(ushort status)
    {
        if (Autoneg && (status & MiiSrAutonegComplete) != 0 && ReadPhy(PhyAutonegAdv, out ushort adv) && ReadPhy(PhyLpAbility, out ushort lp))
        {
            if ((adv & NwayArPause) != 0 && (lp & NwayLparPause) != 0)
            {
                Fc = RequestedFc == FlowControl.Full ? FlowControl.Full : FlowControl.RxPause;
            }
            else if ((adv & NwayArPause) == 0 && (adv & NwayArAsmDir) != 0 && (lp & NwayLparPause) != 0 && (lp & NwayLparAsmDir) != 0)
            {
                Fc = FlowControl.TxPause;
            }
            else if ((adv & NwayArPause) != 0 && (adv & NwayArAsmDir) != 0 && (lp & NwayLparPause) == 0 && (lp & NwayLparAsmDir) != 0)
            {
                Fc = FlowControl.RxPause;
            }
            else
            {
                Fc = FlowControl.None;
            }
        }

        // e1000_force_mac_fc.
        uint ctrl = Read(Ctrl) & ~(CtrlRfce | CtrlTfce);
        ctrl |= Fc switch
        {
            FlowControl.Full => CtrlRfce | CtrlTfce,
            FlowControl.RxPause => CtrlRfce,
            FlowControl.TxPause => CtrlTfce,
            _ => 0,
        };
        Write(Ctrl, ctrl);
    }

    /// <summary>e1000_get_speed_and_duplex from STATUS.</summary>
    public (int Speed, bool FullDuplex) GetSpeedAndDuplex()
    {
        uint status = Read(Status);
        int speed = (status & StatusSpeed1000) != 0 ? 1000 : (status & StatusSpeed100) != 0 ? 100 : 10;
        return (speed, (status & StatusFd) != 0);
    }

    /// <summary>e1000_clear_hw_cntrs: reading each statistics register clears it.</summary>
    public void ClearHwCntrs()
    {
        // Linux reads the named counters only: the offsets between them (0x4024, 0x402C, 0x4044, 0x4084, 0x4098,
        // 0x409C) are reserved (§13.7).
        for (uint offset = Crcerrs; offset <= Tsctfc; offset += 4)
        {
            if (offset is not (0x4024 or 0x402C or 0x4044 or 0x4084 or 0x4098 or 0x409C))
            {
                Read(offset);
            }
        }
    }
}

/// <summary>e1000_fc_type.</summary>
internal enum FlowControl
{
    None = 0,
    RxPause = 1,
    TxPause = 2,
    Full = 3,
}
