using Emu.Emulator.Machine;
using Microsoft.Extensions.Logging;

namespace Emu.Emulator.E1000;

/// <summary>
/// Defence in depth (issue 19). Every way a guest or a peer reaches the device — register reads and writes (BAR0 and
/// the I/O window), the PCI COMMAND write that restarts DMA, frames from the wire and the device's own timers — passes
/// one guard. The device is written so that no input makes it throw; should an exception escape anyway, the device
/// stops as a chip that hit an internal error: a Critical log line names the access that caused it, no further DMA
/// happens, writes are ignored and frames are dropped under <see cref="E1000DropReason.RxDeviceHalted"/>, while
/// register reads (the statistics) keep working and the process, its other connections and any capture live on.
/// The hosts (`emu run`, `emu device`, `emu qtest`) exit non-zero when <see cref="Halted"/> at the end.
/// </summary>
public sealed partial class E1000Device
{
    /// <summary>What stopped the device, or null while it runs.</summary>
    public string? InternalError { get; private set; }

    /// <summary>True once an internal error stopped the device; only a new device (a new process) clears it.</summary>
    public bool Halted => InternalError is not null;

    private VirtualTimer CreateDeviceTimer(string name, Action callback) => Scheduler.CreateTimer(name, () =>
    {
        if (Halted)
        {
            return;
        }

        try
        {
            callback();
        }
        catch (Exception e) when (Halt(e, $"the {name} timer"))
        {
        }
    });

    /// <summary>Records the error and stops the device; an exception filter, so it returns true to catch.</summary>
    private bool Halt(Exception e, string access, uint offset, uint value = 0) =>
        Halt(e, $"{access} of {RegisterName(offset)} (offset 0x{offset:x5}{(access == "read" ? "" : $", value 0x{value:x8}")}), TDH {_regs[E1000Reg.Tdh >> 2]}, RDH {_regs[E1000Reg.Rdh >> 2]}");

    private bool Halt(Exception e, string cause)
    {
        if (InternalError is null)
        {
            InternalError = $"{cause}: {e.GetType().Name}: {e.Message}";
            _tx = default;
            GuardLog.InternalError(_logger, cause, e);
        }

        return true;
    }

    private static string RegisterName(uint offset)
    {
        RegisterInfo? row = E1000RegisterMap.At((offset & (E1000Reg.WindowSize - 1)) >> 2);
        return row?.NameAt(offset & ~3u) ?? "an unassigned offset";
    }

    private static partial class GuardLog
    {
        [LoggerMessage(EventId = 2010, Level = LogLevel.Critical, Message = "e1000: internal error on {Cause}; the device is stopped (no further DMA, writes ignored, frames dropped). Please report this with the trace.")]
        public static partial void InternalError(ILogger logger, string cause, Exception exception);
    }
}
