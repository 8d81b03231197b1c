using System.Diagnostics;
using Emu.Emulator.Platform;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Emu.Emulator.VfioUser;

/// <summary>
/// One client connection, read on the device's own thread: <see cref="ReceiveAvailable"/> takes what has arrived without
/// blocking (header with any SCM_RIGHTS descriptors, then the body; a message cut by the socket waits for its rest) and
/// queues whole messages; the loop sleeps on <see cref="Fd"/> in between. No reader thread to hand over from: each
/// round trip of a guest register read costs one wakeup on our side, not two. A malformed frame (a size below the
/// header or above <see cref="MaxMessage"/>, more descriptors than announced, a message cut short) closes the
/// connection with a log line — the device state stays.
/// </summary>
public sealed partial class VfioUserConnection : IDisposable
{
    /// <summary>The largest message taken: 1 MiB of data (max_data_xfer_size) plus headers.</summary>
    public const int MaxMessage = (1 << 20) + 64;

    /// <summary>Descriptors taken with one message (we announce it as max_msg_fds).</summary>
    public const int MaxFds = 8;

    private readonly int _fd;
    private readonly Queue<VfioUserMessage> _incoming = new();
    private readonly ILogger _logger;
    private readonly byte[] _header = new byte[VfioUserHeader.Length];
    private readonly int[] _fds = new int[MaxFds];
    private int _headerGot;
    private int _fdCount;
    private VfioUserHeader _current;
    private byte[]? _payload;
    private int _payloadGot;
    private int _closed;
    private int _disposed;

    public VfioUserConnection(int socketFd, ILogger? logger = null)
    {
        _fd = socketFd;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Raised once, on the thread that found it, when the connection ends (EOF, error or bad input).</summary>
    public Action<string>? Closed { get; set; }

    public bool IsOpen => Volatile.Read(ref _closed) == 0;

    /// <summary>The socket, for the loop to sleep on.</summary>
    public int Fd => _fd;

    /// <summary>Connections closed because the client sent something we refuse to parse.</summary>
    public long ProtocolErrors { get; private set; }

    /// <summary>The next message, if one has arrived (non-blocking).</summary>
    public bool TryTake(out VfioUserMessage? message)
    {
        if (_incoming.Count == 0)
        {
            ReceiveAvailable();
        }

        return _incoming.TryDequeue(out message);
    }

    /// <summary>The next message, waiting up to <paramref name="timeout"/>; null on timeout or once closed and drained.</summary>
    public VfioUserMessage? Take(TimeSpan timeout)
    {
        long end = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            if (TryTake(out VfioUserMessage? m))
            {
                return m;
            }

            long left = end - Stopwatch.GetTimestamp();
            if (!IsOpen || left <= 0)
            {
                return null;
            }

            Native.WaitReadable(_fd, -1, left * 1_000_000_000 / Stopwatch.Frequency);
        }
    }

    /// <summary>Reads whatever the client has sent so far, without blocking, and queues each whole message.</summary>
    public void ReceiveAvailable()
    {
        while (IsOpen)
        {
            if (_headerGot < VfioUserHeader.Length)
            {
                // The descriptors ride with the first bytes of a message: take the header with recvmsg.
                int n = Native.ReceiveWithFds(_fd, _header.AsSpan(_headerGot), _fds.AsSpan(_fdCount), out int more, out bool truncated, Native.MsgDontWait);
                _fdCount += more;
                if (truncated)
                {
                    Fail("more descriptors than max_msg_fds", protocol: true);
                    return;
                }

                if (n == -Native.Eagain)
                {
                    return;
                }

                if (n <= 0)
                {
                    Fail(n == 0 ? "end of stream" : $"receive error {-n}", protocol: false);
                    return;
                }

                _headerGot += n;
                if (_headerGot < VfioUserHeader.Length)
                {
                    continue;
                }

                _current = VfioUserHeader.Read(_header);
                if (_current.Size < VfioUserHeader.Length || _current.Size > MaxMessage)
                {
                    Fail($"message size {_current.Size} outside {VfioUserHeader.Length}..{MaxMessage}", protocol: true);
                    return;
                }

                _payload = new byte[_current.Size - VfioUserHeader.Length];
                _payloadGot = 0;
            }

            if (_payloadGot < _payload!.Length)
            {
                int n = Native.ReceiveSome(_fd, _payload.AsSpan(_payloadGot), Native.MsgDontWait);
                if (n == -Native.Eagain)
                {
                    return;
                }

                if (n <= 0)
                {
                    Fail("truncated message", protocol: true);
                    return;
                }

                _payloadGot += n;
                if (_payloadGot < _payload.Length)
                {
                    continue;
                }
            }

            _incoming.Enqueue(new VfioUserMessage(_current, _payload, _fds.AsSpan(0, _fdCount).ToArray(), Stopwatch.GetTimestamp()));
            _headerGot = 0;
            _fdCount = 0;
            _payload = null;
        }
    }

    /// <summary>Sends one whole message; false once the connection is gone.</summary>
    public bool Send(ReadOnlySpan<byte> message)
    {
        if (!IsOpen)
        {
            return false;
        }

        return Native.SendWithFds(_fd, message, ReadOnlySpan<int>.Empty);   // only the device's thread sends
    }

    private void Fail(string reason, bool protocol)
    {
        if (protocol)
        {
            ProtocolErrors++;
        }

        DropPartial();
        if (Interlocked.Exchange(ref _closed, 1) == 0)
        {
            Native.Shutdown(_fd, 2);
            Log.Closed(_logger, reason);
            Closed?.Invoke(reason);
        }
    }

    private void DropPartial()
    {
        for (int i = 0; i < _fdCount; i++)
        {
            Native.Close(_fds[i]);
        }

        _fdCount = 0;
        _headerGot = 0;
        _payload = null;
    }

    /// <summary>Closes the socket (on the device's thread, once it no longer serves this client) and any descriptors still queued.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Interlocked.Exchange(ref _closed, 1);
        Native.Close(_fd);
        DropPartial();
        while (_incoming.TryDequeue(out VfioUserMessage? m))
        {
            m.CloseFds();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "vfio-user: connection closed ({Reason})")]
        public static partial void Closed(ILogger logger, string reason);
    }
}
