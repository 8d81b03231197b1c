using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Emu.Emulator.VfioUser;

/// <summary>
/// One client connection: a dedicated thread receives whole messages (header with any SCM_RIGHTS descriptors, then the
/// body) into a queue and tells the device's loop through <see cref="MessageArrived"/>; sends come from the loop. A
/// malformed frame (a size below the header or above <see cref="MaxMessage"/>, truncated descriptors) closes the
/// connection with a log line — the device state stays.
/// </summary>
public sealed partial class VfioUserConnection : IDisposable
{
    /// <summary>The largest message taken: 1 MiB of data (max_data_xfer_size) plus headers.</summary>
    public const int MaxMessage = (1 << 20) + 64;

    /// <summary>Descriptors taken with one message (we announce it as max_msg_fds).</summary>
    public const int MaxFds = 8;

    private readonly int _fd;
    private readonly BlockingCollection<VfioUserMessage> _incoming = new();
    private readonly ILogger _logger;
    private readonly Thread _reader;
    private readonly object _sendLock = new();
    private int _closed;

    public VfioUserConnection(int socketFd, ILogger? logger = null)
    {
        _fd = socketFd;
        _logger = logger ?? NullLogger.Instance;
        _reader = new Thread(ReadLoop) { IsBackground = true, Name = "vfio-user reader" };
    }

    /// <summary>Raised on the reader thread after each message is queued (the loop should call <see cref="TryTake"/>).</summary>
    public Action? MessageArrived { get; set; }

    /// <summary>Raised on the reader thread once, when the connection ends (EOF, error or bad input).</summary>
    public Action<string>? Closed { get; set; }

    public bool IsOpen => Volatile.Read(ref _closed) == 0;

    /// <summary>Connections closed because the client sent something we refuse to parse.</summary>
    public long ProtocolErrors { get; private set; }

    public void Start() => _reader.Start();

    /// <summary>The next queued message, if any (non-blocking).</summary>
    public bool TryTake(out VfioUserMessage? message) => _incoming.TryTake(out message);

    /// <summary>The next message, waiting up to <paramref name="timeout"/>; null on timeout or once closed and drained.</summary>
    public VfioUserMessage? Take(TimeSpan timeout)
    {
        try
        {
            return _incoming.TryTake(out VfioUserMessage? m, timeout) ? m : null;
        }
        catch (ObjectDisposedException)
        {
            return null;
        }
    }

    /// <summary>Sends one whole message; false once the connection is gone.</summary>
    public bool Send(ReadOnlySpan<byte> message)
    {
        if (!IsOpen)
        {
            return false;
        }

        lock (_sendLock)
        {
            return Native.SendWithFds(_fd, message, ReadOnlySpan<int>.Empty);
        }
    }

    private void ReadLoop()
    {
        string reason = "end of stream";
        Span<byte> header = stackalloc byte[VfioUserHeader.Length];
        Span<int> fds = stackalloc int[MaxFds];
        try
        {
            while (IsOpen)
            {
                // The descriptors ride with the first bytes of a message: take the header with recvmsg.
                int got = 0;
                int fdCount = 0;
                while (got < VfioUserHeader.Length)
                {
                    int n = Native.ReceiveWithFds(_fd, header[got..], fds[fdCount..], out int more, out bool truncated);
                    fdCount += more;
                    if (truncated)
                    {
                        reason = "more descriptors than max_msg_fds";
                        ProtocolErrors++;
                        CloseAll(fds[..fdCount]);
                        return;
                    }

                    if (n <= 0)
                    {
                        reason = n == 0 ? "end of stream" : $"receive error {-n}";
                        CloseAll(fds[..fdCount]);
                        return;
                    }

                    got += n;
                }

                VfioUserHeader h = VfioUserHeader.Read(header);
                if (h.Size < VfioUserHeader.Length || h.Size > MaxMessage)
                {
                    reason = $"message size {h.Size} outside {VfioUserHeader.Length}..{MaxMessage}";
                    ProtocolErrors++;
                    CloseAll(fds[..fdCount]);
                    return;
                }

                byte[] payload = new byte[h.Size - VfioUserHeader.Length];
                if (!Native.ReceiveExactly(_fd, payload))
                {
                    reason = "truncated message";
                    ProtocolErrors++;
                    CloseAll(fds[..fdCount]);
                    return;
                }

                _incoming.Add(new VfioUserMessage(h, payload, fds[..fdCount].ToArray(), System.Diagnostics.Stopwatch.GetTimestamp()));
                MessageArrived?.Invoke();
            }
        }
        finally
        {
            Interlocked.Exchange(ref _closed, 1);
            Log.Closed(_logger, reason);
            _incoming.CompleteAdding();
            Closed?.Invoke(reason);
        }
    }

    private static void CloseAll(Span<int> fds)
    {
        foreach (int fd in fds)
        {
            Native.Close(fd);
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _closed, 1) == 0)
        {
            Native.Shutdown(_fd, 2);
        }

        if (_reader.IsAlive && Thread.CurrentThread != _reader)
        {
            _reader.Join(TimeSpan.FromSeconds(5));
        }

        Native.Close(_fd);
        while (_incoming.TryTake(out VfioUserMessage? m))
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
