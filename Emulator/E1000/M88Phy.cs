namespace Emu.Emulator.E1000;

/// <summary>
/// The 82540EM's internal copper PHY (M88E1011-compatible, PHY address 1; 8254x manual §13.4.8 and chapter 11),
/// reached through MDIC. Registers follow IEEE 802.3 clause 22 plus Marvell's vendor registers. Values the manual
/// leaves open follow QEMU's e1000; the registers QEMU leaves out but the 82540EM has (next page 7/8, extended status
/// 15, interrupt enable/status 18/19) are modelled. The link and autonegotiation state machine is driven by the device.
/// </summary>
public sealed class M88Phy
{
    public const int Address = 1;

    public const int Control = 0;
    public const int StatusReg = 1;
    public const int Id1 = 2;
    public const int Id2 = 3;
    public const int AutonegAdvertisement = 4;
    public const int LinkPartnerAbility = 5;
    public const int AutonegExpansion = 6;
    public const int NextPageTransmit = 7;
    public const int LinkPartnerNextPage = 8;
    public const int GigabitControl = 9;
    public const int GigabitStatus = 10;
    public const int ExtendedStatus = 15;
    public const int SpecificControl = 16;
    public const int SpecificStatus = 17;
    public const int InterruptEnable = 18;
    public const int InterruptStatus = 19;
    public const int ExtSpecificControl = 20;
    public const int ReceiveErrorCounter = 21;

    public const ushort ControlReset = 0x8000;
    public const ushort ControlLoopback = 0x4000;
    public const ushort ControlAutonegEnable = 0x1000;
    public const ushort ControlRestartAutoneg = 0x0200;

    public const ushort StatusLinkUp = 0x0004;
    public const ushort StatusAutonegComplete = 0x0020;
    public const ushort LinkPartnerAck = 0x4000;

    /// <summary>M88 PHY specific status: speed/duplex resolved (11) and real-time link (10).</summary>
    public const ushort SpecificStatusLinkBits = 0x0C00;

    private static readonly ushort[] s_reset = BuildReset();

    // Per register: readable, writable (IEEE 802.3 clause 22 and the M88E1011 register set the 82540EM documents).
    private static readonly bool[] s_readable = BuildMask(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 16, 17, 18, 19, 20, 21);
    private static readonly bool[] s_writable = BuildMask(0, 4, 7, 9, 16, 18, 20);

    public ushort[] Registers { get; } = new ushort[32];

    public M88Phy()
    {
        Reset();
    }

    public static bool IsReadable(int register) => register is >= 0 and < 32 && s_readable[register];

    public static bool IsWritable(int register) => register is >= 0 and < 32 && s_writable[register];

    public bool AutonegEnabled => (Registers[Control] & ControlAutonegEnable) != 0;

    public bool AutonegComplete => (Registers[StatusReg] & StatusAutonegComplete) != 0;

    public bool Loopback => (Registers[Control] & ControlLoopback) != 0;

    /// <summary>Power-on values: as QEMU's e1000 presents them (link up, autonegotiation not yet run).</summary>
    public void Reset() => s_reset.CopyTo(Registers, 0);

    /// <summary>Reads a register for MDIC; interrupt status (19) clears on read (M88E1011 register 19).</summary>
    public ushort Read(int register)
    {
        ushort value = Registers[register];
        if (register == InterruptStatus)
        {
            Registers[register] = 0;
        }

        return value;
    }

    /// <summary>
    /// Writes a register for MDIC. Returns true when the write starts autonegotiation: Control with AN enabled and
    /// either restart (bit 9) or a software reset (bit 15, §11.1.3: the reset applies the new settings).
    /// </summary>
    public bool Write(int register, ushort value)
    {
        if (register != Control)
        {
            Registers[register] = value;
            return false;
        }

        // Reset and restart self-clear; bits 5:0 are reserved and read 0 (as QEMU stores them).
        Registers[Control] = (ushort)(value & ~(ControlReset | ControlRestartAutoneg | 0x003F));
        return AutonegEnabled && (value & (ControlRestartAutoneg | ControlReset)) != 0;
    }

    public void SetLinkDown()
    {
        Registers[StatusReg] &= unchecked((ushort)~(StatusLinkUp | StatusAutonegComplete));
        Registers[LinkPartnerAbility] &= unchecked((ushort)~LinkPartnerAck);
        Registers[SpecificStatus] &= unchecked((ushort)~SpecificStatusLinkBits);
    }

    /// <summary>
    /// The base page a link partner like this one sends (an 8254x under Linux advertises 10/100 half and full,
    /// symmetric and asymmetric PAUSE, IEEE 802.3 selector: 0x0DE1), as received with ACK: IEEE 802.3 §28.2.4.1.
    /// </summary>
    public const ushort PartnerBasePage = 0x0DE1;

    public void SetAutonegComplete()
    {
        Registers[StatusReg] |= StatusLinkUp | StatusAutonegComplete;
        Registers[LinkPartnerAbility] = PartnerBasePage | LinkPartnerAck;
        Registers[SpecificStatus] |= SpecificStatusLinkBits;
    }

    public void SetLinkUp()
    {
        Registers[StatusReg] |= StatusLinkUp;
        Registers[SpecificStatus] |= SpecificStatusLinkBits;
    }

    private static ushort[] BuildReset()
    {
        var r = new ushort[32];
        r[Control] = 0x1140;               // AN enable, full duplex, 1000 Mb/s select
        r[StatusReg] = 0x794D;             // link up, AN not complete (QEMU's power-on view)
        r[Id1] = 0x0141;                   // Marvell OUI
        r[Id2] = 0x0C20;                   // M88E1011, as the 82540EM reports it (Linux M88E1011_I_PHY_ID)
        r[AutonegAdvertisement] = 0x0DE1;
        r[LinkPartnerAbility] = 0x01E0;
        r[NextPageTransmit] = 0x2001;      // IEEE 802.3 §28.2.4.1.7: message page, null message
        r[GigabitControl] = 0x0E00;
        r[GigabitStatus] = 0x3C00;
        r[ExtendedStatus] = 0x3000;        // 1000BASE-T full and half duplex capable
        r[SpecificControl] = 0x0360;
        r[SpecificStatus] = 0xAC00;        // 1000 Mb/s, full duplex, resolved, link
        r[ExtSpecificControl] = 0x0D60;
        return r;
    }

    private static bool[] BuildMask(params int[] registers)
    {
        var mask = new bool[32];
        foreach (int r in registers)
        {
            mask[r] = true;
        }

        return mask;
    }
}
