using System.Text;
using Emu.Stack.Tcp;

namespace Emu.Host.Services;

/// <summary>Echo (RFC 862): everything received goes back.</summary>
public sealed class EchoService : TcpService
{
    public override string Name => "echo";

    protected override TcpConnection Open(TcpSocket socket) => new Connection(socket);

    private sealed class Connection(TcpSocket socket) : TcpConnection(socket)
    {
        protected override void OnData(ReadOnlySpan<byte> data) => Write(data);
    }
}

/// <summary>Discard (RFC 863): everything received is thrown away.</summary>
public sealed class DiscardService : TcpService
{
    public override string Name => "discard";

    protected override TcpConnection Open(TcpSocket socket) => new Connection(socket);

    private sealed class Connection(TcpSocket socket) : TcpConnection(socket)
    {
        protected override void OnData(ReadOnlySpan<byte> data)
        {
        }
    }
}

/// <summary>
/// Character generator (RFC 864): lines of 72 printable ASCII characters, each starting one character further, sent as
/// fast as the peer takes them until it closes; what it sends is discarded.
/// </summary>
public sealed class ChargenService : TcpService
{
    public const int LineLength = 72;

    private static readonly byte[] Pattern = BuildPattern();

    public override string Name => "chargen";

    /// <summary>The stream's first <paramref name="count"/> bytes (for tests).</summary>
    public static byte[] Expected(int count)
    {
        byte[] bytes = new byte[count];
        for (int i = 0; i < count; i++)
        {
            bytes[i] = Pattern[i % Pattern.Length];
        }

        return bytes;
    }

    protected override TcpConnection Open(TcpSocket socket) => new Connection(socket);

    private static byte[] BuildPattern()
    {
        // 95 lines (one per starting character), each 72 characters and CR LF.
        var text = new StringBuilder();
        for (int line = 0; line < 95; line++)
        {
            for (int i = 0; i < LineLength; i++)
            {
                text.Append((char)(' ' + ((line + i) % 95)));
            }

            text.Append("\r\n");
        }

        return Encoding.ASCII.GetBytes(text.ToString());
    }

    private sealed class Connection(TcpSocket socket) : TcpConnection(socket)
    {
        private int _offset;

        protected override void OnOpen() => Fill();

        protected override void OnData(ReadOnlySpan<byte> data)
        {
        }

        protected override void OnEndOfStream() => CloseWhenSent();

        protected override void OnWritable() => Fill();

        private void Fill()
        {
            // Keep the socket's buffer full; the backlog stays empty because we only write what fits.
            while (Socket.SendSpace > 0 && Backlog == 0 && !Socket.EndOfStream)
            {
                int n = Math.Min(Socket.SendSpace, Pattern.Length - _offset);
                Write(Pattern.AsSpan(_offset, n));
                _offset = (_offset + n) % Pattern.Length;
                if (n == 0)
                {
                    break;
                }
            }
        }
    }
}
