namespace Emu.Emulator.E1000;

/// <summary>How a register answers reads and writes (8254x manual §13.4 access column).</summary>
public enum RegisterAccess : byte
{
    /// <summary>Read/write: a write stores <c>value &amp; WriteMask</c>; bits outside the mask read 0.</summary>
    ReadWrite,

    /// <summary>Read-only: writes are ignored.</summary>
    ReadOnly,

    /// <summary>Write-only: reads return 0.</summary>
    WriteOnly,

    /// <summary>Write 1 to clear (WUS, §14.7).</summary>
    WriteOneToClear,

    /// <summary>A 32-bit statistics counter: read-only, cleared by the read (§13.7).</summary>
    Counter,

    /// <summary>The low half of a 64-bit counter: read-only; reading it does not clear it (§13.7).</summary>
    CounterLow,

    /// <summary>The high half of a 64-bit counter: reading it clears both halves (§13.7).</summary>
    CounterHigh,

    /// <summary>The device model handles the access itself.</summary>
    Special,
}
