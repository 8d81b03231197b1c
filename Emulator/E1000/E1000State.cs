namespace Emu.Emulator.E1000;

/// <summary>
/// Everything an 82540EM holds, as plain data: what a snapshot saves and a restore puts back. Timers are kept as their
/// absolute virtual deadlines (-1 when idle).
/// </summary>
public sealed class E1000State
{
    public uint[] Registers { get; init; } = new uint[E1000Reg.WindowSize / 4];

    public ushort[] PhyRegisters { get; init; } = new ushort[32];

    public ushort[] EepromWords { get; init; } = new ushort[EepromImage.WordCount];

    public byte[] PciConfig { get; init; } = new byte[Pci.PciConfigSpace.Size];

    public uint EecdLatched { get; set; }

    public uint EecdShiftIn { get; set; }

    public int EecdBitsIn { get; set; }

    public ushort EecdOutputPosition { get; set; }

    public bool EecdReading { get; set; }

    public uint IoAddr { get; set; }

    public bool Carrier { get; set; }

    public bool IntxLevel { get; set; }

    public long ThrottleDeadline { get; set; } = -1;

    public long AutonegDeadline { get; set; } = -1;

    /// <summary>RDTR, RADV, TIDV and TADV deadlines (-1 when idle).</summary>
    public long[] DelayDeadlines { get; init; } = [-1, -1, -1, -1];

    /// <summary>Frames waiting in the receive FIFO, oldest first.</summary>
    public List<byte[]> RxFifo { get; init; } = [];

    public bool RxHeadCountedRnbc { get; set; }

    /// <summary>The transmit packet being gathered, its bytes, and the TSO header buffer.</summary>
    public E1000Device.TxPacketState TxPacket { get; set; }

    public byte[] TxPacketBytes { get; set; } = [];

    public byte[] TsoHeader { get; set; } = [];

    public E1000Device.TxContext TxContext { get; set; }
}
