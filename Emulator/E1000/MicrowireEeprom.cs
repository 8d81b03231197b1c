namespace Emu.Emulator.E1000;

/// <summary>
/// The EECD bit-bang interface to a 93C46-style Microwire EEPROM (8254x manual §5.3.1, §13.4.3): software drives SK,
/// CS and DI and samples DO. A read is the start bit and READ opcode (1,1,0) then six address bits, MSB first, each
/// latched on a rising SK edge; each falling edge afterwards moves DO to the next data bit, MSB first, and a read runs
/// on into the following words. The clocking details the manual leaves open follow QEMU's model, which Linux's
/// e1000_read_eeprom accepts. The state is plain data so that a snapshot can carry it.
/// </summary>
public sealed class MicrowireEeprom
{
    private const uint LatchedBits = E1000Bits.EecdSk | E1000Bits.EecdCs | E1000Bits.EecdDi | E1000Bits.EecdFwe | E1000Bits.EecdReq;
    private const uint ReadOpcode = 0b110;

    private EepromImage _image;

    public MicrowireEeprom(EepromImage image)
    {
        _image = image;
    }

    public EepromImage Image
    {
        get => _image;
        set
        {
            _image = value;
            _wordAddress = -1;
        }
    }

    /// <summary>The SK, CS, DI, FWE and REQ bits last written to EECD.</summary>
    public uint Latched { get; set; }

    public uint ShiftIn { get; set; }

    public int BitsIn { get; set; }

    /// <summary>Index of the data bit on DO: word = (pos &gt;&gt; 4) &amp; 0x3F, bit = 15 − (pos &amp; 15).</summary>
    public ushort OutputPosition { get; set; }

    public bool Reading { get; set; }

    /// <summary>Told the word address and its contents when a READ command has been clocked in (for the trace).</summary>
    public Action<int, ushort>? ReadStarted { get; set; }

    /// <summary>The device's fault hooks (eeprom-corrupt, eeprom-timeout), or null.</summary>
    internal Faults.DeviceFaults? Faults { get; set; }

    // The word on DO, fetched through the fault hooks once per word and command (so a read is one event).
    private int _wordAddress = -1;
    private ushort _word;

    // eeprom-timeout: this EE_REQ is never granted.
    private bool _grantWithheld;

    /// <summary>A word as the device reads it: the image's, or what a fault makes of it.</summary>
    public ushort Word(int address) => Faults is { } f ? f.EepromWord(address, Image[address]) : Image[address];

    private ushort OutputWord(int address)
    {
        if (Faults is null)
        {
            return Image[address];
        }

        if (address != _wordAddress)
        {
            _wordAddress = address;
            _word = Word(address);
        }

        return _word;
    }

    /// <summary>EECD as software reads it: EEPROM present, access granted, the latched bits and DO.</summary>
    public uint ReadEecd()
    {
        uint value = E1000Bits.EecdPres | (_grantWithheld ? 0 : E1000Bits.EecdGnt) | Latched;
        if (!Reading || ((OutputWord((OutputPosition >> 4) & 0x3F) >> (15 - (OutputPosition & 0xF))) & 1) != 0)
        {
            value |= E1000Bits.EecdDo;
        }

        return value;
    }

    public void WriteEecd(uint value)
    {
        uint old = Latched;
        Latched = value & LatchedBits;
        if (((value ^ old) & E1000Bits.EecdReq) != 0)
        {
            // §5.3.1: software requests the EEPROM with EE_REQ and waits for EE_GNT; an eeprom-timeout fault never grants it.
            _grantWithheld = (value & E1000Bits.EecdReq) != 0 && Faults is { } f && f.EepromRequestHangs(eerd: false);
        }
        if ((value & E1000Bits.EecdCs) == 0)
        {
            return;
        }

        if (((value ^ old) & E1000Bits.EecdCs) != 0)
        {
            // Chip select rising: a new command starts.
            ShiftIn = 0;
            BitsIn = 0;
            OutputPosition = 0;
            Reading = false;
            _wordAddress = -1;
        }

        if (((value ^ old) & E1000Bits.EecdSk) == 0)
        {
            return;
        }

        if ((value & E1000Bits.EecdSk) == 0)
        {
            OutputPosition++;
            return;
        }

        ShiftIn = (ShiftIn << 1) | ((value & E1000Bits.EecdDi) != 0 ? 1u : 0u);
        if (++BitsIn == 9 && !Reading)
        {
            OutputPosition = (ushort)(((ShiftIn & 0x3F) << 4) - 1);
            Reading = ((ShiftIn >> 6) & 7) == ReadOpcode;
            if (Reading)
            {
                ReadStarted?.Invoke((int)(ShiftIn & 0x3F), OutputWord((int)(ShiftIn & 0x3F)));
            }
        }
    }
}
