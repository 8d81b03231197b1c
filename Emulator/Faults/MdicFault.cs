namespace Emu.Emulator.Faults;

/// <summary>What a device fault does to one MDIC PHY access (§13.4.7).</summary>
public enum MdicFault
{
    None,

    /// <summary>MDIC.E (ERROR) with READY: the PHY did not answer.</summary>
    Error,

    /// <summary>MDIC.READY never sets.</summary>
    Timeout,
}
