using System.Globalization;
using Emu.Emulator.Machine;
using Emu.Emulator.Wire;

namespace Emu.Emulator.Qtest;

/// <summary>
/// QEMU's qtest text protocol (QEMU system/qtest.c) served for a <see cref="PcMachine"/>: one command per line, one
/// reply line each (OK/FAIL/ERR), with asynchronous "IRQ raise N" / "IRQ lower N" lines before the reply of the command
/// that caused them. Answers are formatted exactly as QEMU 11's. Where QEMU aborts on malformed input (a bad number, a
/// missing argument, a double space), this server answers "ERR" with the reason and keeps serving.
/// </summary>
public sealed class QtestServer
{
    private const string IoApicPath = "ioapic";

    // Objects that exist on QEMU's pc machine but have no GPIO inputs to intercept.
    private static readonly HashSet<string> s_objectsWithoutGpios = new(StringComparer.Ordinal)
    {
        "i440fx",
        "/machine/i440fx",
        "/machine/peripheral-anon/device[0]",
        "/machine/unattached/device[0]",
    };

    private readonly PcMachine _machine;
    private readonly TextWriter _output;
    private readonly bool[] _reportedLevels = new bool[InterruptController.GsiCount];
    private string? _interceptDevice;
    private bool _interceptIn;
    private volatile bool _stopRequested;

    public QtestServer(PcMachine machine, TextWriter output)
    {
        _machine = machine;
        _output = output;
        _machine.Interrupts.GsiChanged += OnGsiChanged;
    }

    /// <summary>Runs after each command's reply (and each frame from the wire), on the serving thread: periodic instruments.</summary>
    public Action? AfterCommand { get; set; }

    /// <summary>Runs before each command line is processed, on the serving thread: <c>--record</c> writes it down.</summary>
    public Action<string>? BeforeLine { get; set; }

    /// <summary>Ends <see cref="Run(TextReader)"/> or <see cref="Run(TextReader, NodeLoop, Netdev)"/> before the next command (a trace that cannot be written).</summary>
    public void Stop() => _stopRequested = true;

    /// <summary>Serves commands until end of input.</summary>
    public void Run(TextReader input)
    {
        while (!_stopRequested && input.ReadLine() is { } line)
        {
            BeforeLine?.Invoke(line);
            if (_stopRequested)
            {
                break;
            }

            ProcessLine(line);
            _output.Flush();
            AfterCommand?.Invoke();
        }
    }

    /// <summary>
    /// Serves commands read by another thread while a netdev posts frames and carrier changes to the same
    /// <paramref name="loop"/>: everything runs on this thread, in arrival order, as QEMU's main loop does.
    /// </summary>
    public void Run(TextReader input, NodeLoop loop, Netdev netdev)
    {
        var reader = new Thread(() =>
        {
            while (input.ReadLine() is { } line)
            {
                loop.Post(new LoopItem(LoopItemKind.Line, null, null, 0, line));
            }

            loop.Post(new LoopItem(LoopItemKind.EndOfInput, null, null, 0, null));
        })
        {
            IsBackground = true,
            Name = "qtest stdin",
        };
        reader.Start();
        while (true)
        {
            if (!loop.TryTake(Timeout.InfiniteTimeSpan, out LoopItem item))
            {
                continue;
            }

            switch (item.Kind)
            {
                case LoopItemKind.Line:
                    BeforeLine?.Invoke(item.Text!);
                    if (!_stopRequested)
                    {
                        ProcessLine(item.Text!);
                    }

                    break;
                case LoopItemKind.EndOfInput:
                    _output.Flush();
                    return;
                default:
                    netdev.Deliver(item);
                    _machine.SyncInterrupts();
                    break;
            }

            _output.Flush();
            if (_stopRequested)
            {
                return;
            }

            AfterCommand?.Invoke();
        }
    }

    /// <summary>Processes one line (without its newline); an empty line gets no answer, as in QEMU 11.</summary>
    public void ProcessLine(string line)
    {
        if (line.Length == 0)
        {
            return;
        }

        string[] words = line.Split(' ');
        string reply;
        try
        {
            reply = Execute(words);
        }
        catch (QtestArgumentException e)
        {
            reply = "ERR " + e.Message;
        }

        _output.Write(reply);
        _output.Write('\n');
    }

    private string Execute(string[] w)
    {
        switch (w[0])
        {
            case "outb":
            case "outw":
            case "outl":
                {
                    ushort port = Port(w, 1);
                    ulong value = U64(w, 2);
                    int size = Width(w[0][^1]);
                    _machine.WriteIo(port, size, (uint)(value & SizeMask(size)));
                    return "OK";
                }

            case "inb":
            case "inw":
            case "inl":
                {
                    ushort port = Port(w, 1);
                    uint value = _machine.ReadIo(port, Width(w[0][^1]));
                    return "OK 0x" + value.ToString("x4", CultureInfo.InvariantCulture);
                }

            case "writeb":
            case "writew":
            case "writel":
            case "writeq":
                {
                    ulong address = U64(w, 1);
                    ulong value = U64(w, 2);
                    int size = Width(w[0][^1]);
                    _machine.WriteMemory(address, size, value & SizeMask(size));
                    return "OK";
                }

            case "readb":
            case "readw":
            case "readl":
            case "readq":
                {
                    ulong address = U64(w, 1);
                    ulong value = _machine.ReadMemory(address, Width(w[0][^1]));
                    return "OK 0x" + value.ToString("x16", CultureInfo.InvariantCulture);
                }

            case "read":
                {
                    ulong address = U64(w, 1);
                    int size = Length(w, 2, allowZero: false);
                    byte[] data = new byte[size];
                    _machine.ReadMemory(address, data);
                    return "OK 0x" + Convert.ToHexStringLower(data);
                }

            case "b64read":
                {
                    ulong address = U64(w, 1);
                    int size = Length(w, 2, allowZero: true);
                    byte[] data = new byte[size];
                    _machine.ReadMemory(address, data);
                    return "OK " + Convert.ToBase64String(data);
                }

            case "write":
                return Write(w);
            case "b64write":
                return Base64Write(w);
            case "memset":
                {
                    ulong address = U64(w, 1);
                    int size = Length(w, 2, allowZero: true);
                    byte pattern = (byte)U64(w, 3);
                    byte[] data = new byte[size];
                    data.AsSpan().Fill(pattern);
                    _machine.WriteMemory(address, data);
                    return "OK";
                }

            case "endianness":
                return "OK little";
            case "clock_step":
                return ClockStep(w);
            case "clock_set":
                {
                    long target = I64(w, 1);
                    long now = _machine.Scheduler.Now;
                    if (target < now)
                    {
                        return "FAIL " + now.ToString(CultureInfo.InvariantCulture);
                    }

                    _machine.Scheduler.RunUntil(target);
                    return "OK " + _machine.Scheduler.Now.ToString(CultureInfo.InvariantCulture);
                }

            case "irq_intercept_in":
            case "irq_intercept_out":
                return Intercept(w);
            case "set_irq_in":
                return SetIrqIn(w);
            case "module_load":
                Require(w, 2);
                return "FAIL";
            default:
                return $"FAIL Unknown command '{w[0]}'";
        }
    }

    private string ClockStep(string[] w)
    {
        EventScheduler scheduler = _machine.Scheduler;
        if (w.Length < 2)
        {
            long? next = scheduler.NextDeadline;
            if (next is null)
            {
                return "FAIL cannot advance clock to the next deadline because there is no pending deadline";
            }

            scheduler.RunUntil(next.Value);
        }
        else
        {
            long step = I64(w, 1);
            if (step <= 0)
            {
                return "FAIL could not advance time";
            }

            long target = step > long.MaxValue - scheduler.Now ? long.MaxValue : scheduler.Now + step;
            scheduler.RunUntil(target);
        }

        return "OK " + scheduler.Now.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>write ADDR SIZE 0xHEX: the first two characters are skipped; missing bytes are 0 (as QEMU).</summary>
    private string Write(string[] w)
    {
        ulong address = U64(w, 1);
        int size = Length(w, 2, allowZero: false);
        string hex = Arg(w, 3);
        if (hex.Length < 3)
        {
            return "ERR invalid argument size";
        }

        byte[] data = new byte[size];
        for (int i = 0; i < size; i++)
        {
            if ((i * 2) + 4 <= hex.Length)
            {
                data[i] = (byte)((HexNibble(hex[(i * 2) + 2]) << 4) | HexNibble(hex[(i * 2) + 3]));
            }
        }

        _machine.WriteMemory(address, data);
        return "OK";
    }

    private string Base64Write(string[] w)
    {
        ulong address = U64(w, 1);
        int size = Length(w, 2, allowZero: true);
        string text = Arg(w, 3);
        if (text.Length < 3)
        {
            return "ERR invalid argument size";
        }

        byte[] decoded = DecodeBase64Leniently(text);
        byte[] data = new byte[size];
        decoded.AsSpan(0, Math.Min(size, decoded.Length)).CopyTo(data);
        _machine.WriteMemory(address, data);
        return "OK";
    }

    private string Intercept(string[] w)
    {
        string path = Arg(w, 1);
        bool isIn = w[0] == "irq_intercept_in";
        if (path != IoApicPath)
        {
            return s_objectsWithoutGpios.Contains(path) ? "FAIL No intercepts installed" : "FAIL Unknown device";
        }

        if (isIn && w.Length > 2)
        {
            return "FAIL Interception of named in-GPIOs not yet supported";
        }

        if (_interceptDevice is not null && _interceptDevice != path)
        {
            return "FAIL IRQ intercept already enabled";
        }

        _interceptDevice = path;
        if (isIn)
        {
            _interceptIn = true;
        }

        return "OK";
    }

    private string SetIrqIn(string[] w)
    {
        string path = Arg(w, 1);
        string name = Arg(w, 2);
        long number = I64(w, 3);
        long level = I64(w, 4);
        if (path != IoApicPath)
        {
            return "FAIL Unknown device";
        }

        if (name != "unnamed-gpio-in" || number is < 0 or >= InterruptController.GsiCount)
        {
            throw new QtestArgumentException($"{path} has no input {name} {number}");
        }

        _machine.SetExternalIrq((int)number, level != 0);
        return "OK";
    }

    private void OnGsiChanged(int gsi, bool level)
    {
        if (!_interceptIn || _reportedLevels[gsi] == level)
        {
            return;
        }

        _reportedLevels[gsi] = level;
        _output.Write(level ? "IRQ raise " : "IRQ lower ");
        _output.Write(gsi.ToString(CultureInfo.InvariantCulture));
        _output.Write('\n');
    }

    // ---- Argument parsing: strict, as QEMU's qemu_strtou64/qemu_strtoi64 with base 0 ----

    private static string Arg(string[] w, int index)
    {
        Require(w, index + 1);
        return w[index];
    }

    private static void Require(string[] w, int count)
    {
        if (w.Length < count)
        {
            throw new QtestArgumentException($"{w[0]}: missing argument {count - 1}");
        }
    }

    private static ushort Port(string[] w, int index)
    {
        ulong value = U64(w, index);
        if (value > 0xFFFF)
        {
            throw new QtestArgumentException($"{w[0]}: port 0x{value:x} is above 0xffff");
        }

        return (ushort)value;
    }

    private static int Length(string[] w, int index, bool allowZero)
    {
        ulong value = U64(w, index);
        if (value == 0 && !allowZero)
        {
            throw new QtestArgumentException($"{w[0]}: size must not be 0");
        }

        if (value > 16 * 1024 * 1024)
        {
            throw new QtestArgumentException($"{w[0]}: size {value} is above the 16 MiB this server accepts in one command");
        }

        return (int)value;
    }

    internal static ulong U64(string[] w, int index)
    {
        string text = Arg(w, index);
        if (!TryParseU64(text, out ulong value))
        {
            throw new QtestArgumentException($"{w[0]}: '{text}' is not a number");
        }

        return value;
    }

    private static long I64(string[] w, int index) => unchecked((long)U64(w, index));

    /// <summary>strtoull with base 0: 0x hex, leading 0 octal, else decimal; an optional sign (minus wraps).</summary>
    internal static bool TryParseU64(string text, out ulong value)
    {
        value = 0;
        int i = 0;
        bool negative = false;
        if (i < text.Length && (text[i] == '-' || text[i] == '+'))
        {
            negative = text[i] == '-';
            i++;
        }

        int radix = 10;
        if (i + 1 < text.Length && text[i] == '0' && (text[i + 1] == 'x' || text[i + 1] == 'X'))
        {
            radix = 16;
            i += 2;
        }
        else if (i < text.Length && text[i] == '0')
        {
            radix = 8;
        }

        if (i >= text.Length)
        {
            return false;
        }

        ulong result = 0;
        for (; i < text.Length; i++)
        {
            int digit = DigitValue(text[i]);
            if (digit < 0 || digit >= radix)
            {
                return false;
            }

            ulong next = unchecked((result * (ulong)radix) + (ulong)digit);
            if (result > (ulong.MaxValue - (ulong)digit) / (ulong)radix)
            {
                return false;
            }

            result = next;
        }

        value = negative ? unchecked(0UL - result) : result;
        return true;
    }

    private static int DigitValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };

    /// <summary>QEMU's hex2nib: a non-hex character counts as -1, which shifts into a garbage byte.</summary>
    private static int HexNibble(char c) => DigitValue(c) is var d && d is >= 0 and < 16 ? d : -1;

    private static int Width(char suffix) => suffix switch
    {
        'b' => 1,
        'w' => 2,
        'l' => 4,
        _ => 8,
    };

    private static ulong SizeMask(int size) => size >= 8 ? ulong.MaxValue : (1UL << (8 * size)) - 1;

    /// <summary>glib's g_base64_decode: characters outside the alphabet are skipped; decoding stops at '='.</summary>
    private static byte[] DecodeBase64Leniently(string text)
    {
        var bytes = new List<byte>(text.Length * 3 / 4);
        int buffer = 0;
        int bits = 0;
        foreach (char c in text)
        {
            int v = c switch
            {
                >= 'A' and <= 'Z' => c - 'A',
                >= 'a' and <= 'z' => c - 'a' + 26,
                >= '0' and <= '9' => c - '0' + 52,
                '+' => 62,
                '/' => 63,
                _ => -1,
            };
            if (c == '=')
            {
                break;
            }

            if (v < 0)
            {
                continue;
            }

            buffer = (buffer << 6) | v;
            bits += 6;
            if (bits >= 8)
            {
                bits -= 8;
                bytes.Add((byte)(buffer >> bits));
                buffer &= (1 << bits) - 1;
            }
        }

        return [.. bytes];
    }
}
