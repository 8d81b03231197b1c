using System.Diagnostics.CodeAnalysis;
using Emu.Emulator.E1000;

namespace Emu.Emulator.Faults;

/// <summary>What a device kind's own keys must say together (checked when a SPEC is parsed, so nothing arms half-configured).</summary>
internal static class DeviceFaultRules
{
    public static bool TryValidate(FaultSpec spec, [NotNullWhen(false)] out string? error)
    {
        error = null;
        FaultKind kind = spec.Kind;
        if ((spec.Has("frames") && spec.Number("frames", 1) < 1) || (spec.Has("descriptors") && spec.Number("descriptors", 1) < 1))
        {
            error = spec.Has("frames") ? "frames= is at least 1" : "descriptors= is at least 1";
        }
        else if (kind == FaultKind.RxBadWriteback)
        {
            if (!spec.Has("length") && !spec.Has("status"))
            {
                error = "give length=N or status=0xNN (what the write-back gets wrong)";
            }
            else if (spec.Number("length", 0) > 0xFFFF)
            {
                error = "length= is a descriptor's 16-bit length: at most 65535";
            }
            else if (spec.Number("status", 0) > 0xFF)
            {
                error = "status= is the descriptor's status byte: at most 0xFF";
            }
        }
        else if (kind == FaultKind.EepromCorrupt)
        {
            bool word = spec.Has("word") || spec.Has("value");
            if (spec.Has("checksum") == word)
            {
                error = "give word=N,value=0xNNNN or checksum (one of them)";
            }
            else if (word && !(spec.Has("word") && spec.Has("value")))
            {
                error = "word= and value= go together";
            }
            else if (spec.Number("word", 0) >= EepromImage.WordCount)
            {
                error = $"word= is an EEPROM word address: below {EepromImage.WordCount}";
            }
        }
        else if ((kind == FaultKind.IrqSpurious && spec.Has("every") && spec.Nanoseconds("every", 0) <= 0)
            || (kind == FaultKind.TxHang && spec.Has("for") && spec.Nanoseconds("for", 0) <= 0))
        {
            error = kind == FaultKind.TxHang ? "for= is a duration above 0" : "every= is a duration above 0";
        }

        return error is null;
    }
}
