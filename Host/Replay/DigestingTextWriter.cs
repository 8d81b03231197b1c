using System.Text;
using Emu.Emulator.Replay;

namespace Emu.Host.Replay;

/// <summary>
/// The qtest protocol's output with a digest in front: each line written (a reply, an <c>IRQ raise</c> or
/// <c>IRQ lower</c>) goes into <see cref="OutputDigest"/> as an 'R' text, and everything on to <paramref name="inner"/>
/// unchanged. Lines gather in a reused buffer. <paramref name="inner"/> is not disposed.
/// </summary>
public sealed class DigestingTextWriter(TextWriter inner, OutputDigest digest) : TextWriter
{
    private char[] _line = new char[256];
    private int _length;

    public override Encoding Encoding => inner.Encoding;

    public override void Write(char value)
    {
        inner.Write(value);
        Gather(new ReadOnlySpan<char>(in value));
    }

    public override void Write(string? value)
    {
        inner.Write(value);
        Gather(value);
    }

    public override void Write(char[] buffer, int index, int count)
    {
        inner.Write(buffer, index, count);
        Gather(buffer.AsSpan(index, count));
    }

    public override void Write(ReadOnlySpan<char> buffer)
    {
        inner.Write(buffer);
        Gather(buffer);
    }

    public override void Flush() => inner.Flush();

    private void Gather(ReadOnlySpan<char> text)
    {
        while (!text.IsEmpty)
        {
            int end = text.IndexOf('\n');
            ReadOnlySpan<char> part = end < 0 ? text : text[..end];
            if (_length + part.Length > _line.Length)
            {
                Array.Resize(ref _line, Math.Max(_line.Length * 2, _length + part.Length));
            }

            part.CopyTo(_line.AsSpan(_length));
            _length += part.Length;
            if (end < 0)
            {
                return;
            }

            digest.AddText('R', _line.AsSpan(0, _length));
            _length = 0;
            text = text[(end + 1)..];
        }
    }
}
