using System.Globalization;
using System.Net.NetworkInformation;
using System.Reflection;

namespace Emu.Emulator.E1000;

/// <summary>
/// The contents of the 82540EM's 64-word Microwire EEPROM (8254x manual §5.6). Words 0–2 hold the MAC address low
/// byte first; word 0x3F makes words 0x00–0x3F sum to 0xBABA (§5.6.35), which software checks and the chip does not.
/// </summary>
public sealed class EepromImage
{
    public const int WordCount = 64;
    public const int ChecksumWord = 0x3F;

    /// <summary>§5.6.35: the 16-bit sum of words 0x00–0x3F.</summary>
    public const ushort ChecksumTarget = 0xBABA;

    /// <summary>The fixture this project ships as the default image (firmware-fixtures/eeprom/).</summary>
    public const string DefaultResourceName = "Emu.Emulator.eeprom.82540em-default.eeprom";

    private readonly ushort[] _words;

    private EepromImage(ushort[] words)
    {
        _words = words;
    }

    public ReadOnlySpan<ushort> Words => _words;

    public ushort this[int index] => _words[index];

    public bool ChecksumValid => Sum() == ChecksumTarget;

    /// <summary>The MAC address held in words 0–2.</summary>
    public PhysicalAddress MacAddress
    {
        get
        {
            var bytes = new byte[6];
            for (int i = 0; i < 3; i++)
            {
                bytes[2 * i] = (byte)_words[i];
                bytes[(2 * i) + 1] = (byte)(_words[i] >> 8);
            }

            return new PhysicalAddress(bytes);
        }
    }

    /// <summary>The default 82540EM image (as QEMU builds it), from the embedded fixture.</summary>
    public static EepromImage Default82540Em()
    {
        using Stream stream = typeof(EepromImage).Assembly.GetManifestResourceStream(DefaultResourceName)
            ?? throw new InvalidOperationException($"Embedded EEPROM image {DefaultResourceName} is missing from the build.");
        using var reader = new StreamReader(stream);
        if (!TryParse(reader.ReadToEnd(), out EepromImage? image, out string? error))
        {
            throw new InvalidOperationException($"Embedded EEPROM image is invalid: {error}");
        }

        return image;
    }

    /// <summary>Parses 64 hexadecimal words separated by white space; '#' starts a comment.</summary>
    public static bool TryParse(string text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out EepromImage? image, out string? error)
    {
        image = null;
        var words = new List<ushort>(WordCount);
        int lineNumber = 0;
        foreach (string rawLine in text.Split('\n'))
        {
            lineNumber++;
            string line = rawLine;
            int hash = line.IndexOf('#', StringComparison.Ordinal);
            if (hash >= 0)
            {
                line = line[..hash];
            }

            foreach (string token in line.Split([' ', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries))
            {
                string digits = token.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? token[2..] : token;
                if (digits.Length is 0 or > 4 || !ushort.TryParse(digits, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ushort word))
                {
                    error = $"line {lineNumber}: '{token}' is not a 16-bit hexadecimal word";
                    return false;
                }

                words.Add(word);
            }
        }

        if (words.Count != WordCount)
        {
            error = $"expected {WordCount} words, found {words.Count}";
            return false;
        }

        image = new EepromImage([.. words]);
        error = null;
        return true;
    }

    public static EepromImage Load(string path)
    {
        if (!TryParse(File.ReadAllText(path), out EepromImage? image, out string? error))
        {
            throw new FormatException($"{path}: {error}");
        }

        return image;
    }

    public static EepromImage FromWords(ReadOnlySpan<ushort> words)
    {
        if (words.Length != WordCount)
        {
            throw new ArgumentException($"An EEPROM image has {WordCount} words.", nameof(words));
        }

        return new EepromImage(words.ToArray());
    }

    /// <summary>This image with <paramref name="mac"/> in words 0–2 and the checksum word recomputed.</summary>
    public EepromImage WithMacAddress(PhysicalAddress mac)
    {
        byte[] bytes = mac.GetAddressBytes();
        if (bytes.Length != 6)
        {
            throw new ArgumentException("A MAC address has 6 bytes.", nameof(mac));
        }

        ushort[] words = (ushort[])_words.Clone();
        for (int i = 0; i < 3; i++)
        {
            words[i] = (ushort)(bytes[2 * i] | (bytes[(2 * i) + 1] << 8));
        }

        var patched = new EepromImage(words);
        patched.FixChecksum();
        return patched;
    }

    public ushort Sum()
    {
        ushort sum = 0;
        foreach (ushort w in _words)
        {
            sum += w;
        }

        return sum;
    }

    private void FixChecksum()
    {
        _words[ChecksumWord] = 0;
        _words[ChecksumWord] = (ushort)(ChecksumTarget - Sum());
    }
}
