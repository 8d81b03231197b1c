namespace Emu.Host.Status;

/// <summary>
/// A write-only stream over a pipe whose reader may go away (Wireshark closed on <c>--pcap -</c>): the first failed
/// write or flush ends the capture quietly instead of throwing into the device's transmit or receive path, where the
/// device's guard would take it for an internal error. It never disposes the stream under it.
/// </summary>
public sealed class ReaderGoneStream(Stream inner) : Stream
{
    /// <summary>Set once a write failed; nothing is written after it.</summary>
    public bool ReaderGone { get; private set; }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (ReaderGone)
        {
            return;
        }

        try
        {
            inner.Write(buffer);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            ReaderGone = true;
        }
    }

    public override void Flush()
    {
        if (ReaderGone)
        {
            return;
        }

        try
        {
            inner.Flush();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            ReaderGone = true;
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
