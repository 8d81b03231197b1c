namespace Emu.Driver.Kernel;

/// <summary>irqreturn_t.</summary>
public enum IrqReturn
{
    /// <summary>IRQ_NONE: not this device's interrupt (the line is shared).</summary>
    None = 0,

    /// <summary>IRQ_HANDLED.</summary>
    Handled = 1,
}
