using System.Buffers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Emu.Emulator.Wire;

/// <summary>
/// A QEMU-compatible netdev backend: the device's wire port on a socket. Frames from the socket are posted to the node
/// loop and handed to <see cref="Port"/> there; frames from the device are written from the loop thread.
/// </summary>
public abstract partial class Netdev : IFrameSink, IDisposable
{
    /// <summary>QEMU's NET_BUFSIZE: the largest frame its netdevs carry.</summary>
    public const int MaxFrame = 69_632;

    /// <summary>
    /// Frames a reader may have posted to the loop and not yet delivered. Past this the reader stops reading its
    /// socket, so a peer that sends faster than the node takes is back-pressured (as QEMU's netdevs stop reading
    /// while the NIC cannot receive) instead of filling an unbounded inbox.
    /// </summary>
    public const int InboundLimit = 256;

    private readonly SemaphoreSlim _inboundRoom = new(InboundLimit, InboundLimit);

    protected Netdev(NetdevSpec spec, NodeLoop loop, ILogger? logger)
    {
        Spec = spec;
        Loop = loop;
        Logger = logger ?? NullLogger.Instance;
    }

    public NetdevSpec Spec { get; }

    public NetdevCounters Counters { get; } = new();

    /// <summary>The device side: frames from the socket go here (on the loop thread).</summary>
    public IFrameSink? Port { get; set; }

    /// <summary>Called on the loop thread when the peer connects (true) or goes away (false).</summary>
    public Action<bool>? CarrierChanged { get; set; }

    protected NodeLoop Loop { get; }

    protected ILogger Logger { get; }

    /// <summary>Cancelled when the netdev closes: a reader waiting for room in the loop gives up.</summary>
    protected CancellationTokenSource Closing { get; } = new();

    /// <summary>Frames posted to the loop and not yet delivered (at most <see cref="InboundLimit"/>).</summary>
    public int InboundPending => InboundLimit - _inboundRoom.CurrentCount;

    /// <summary>Creates the backend a spec names and starts it (listening, connecting or binding).</summary>
    public static Netdev Start(NetdevSpec spec, NodeLoop loop, ILogger? logger = null)
    {
        Netdev netdev = spec.Kind == NetdevKind.Stream ? new StreamNetdev(spec, loop, logger) : new DatagramNetdev(spec, loop, logger);
        netdev.Open();
        return netdev;
    }

    /// <summary>A frame from the device, on the loop thread.</summary>
    public abstract void ReceiveFrame(ReadOnlySpan<byte> frame);

    /// <summary>Runs a posted item on the loop thread: hands a frame to the port, or reports a carrier change.</summary>
    public void Deliver(in LoopItem item)
    {
        switch (item.Kind)
        {
            case LoopItemKind.Frame:
                try
                {
                    Port?.ReceiveFrame(item.Buffer.AsSpan(0, item.Length));
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(item.Buffer!);
                    _inboundRoom.Release();
                }

                break;
            case LoopItemKind.CarrierUp:
                CarrierChanged?.Invoke(true);
                break;
            case LoopItemKind.CarrierDown:
                CarrierChanged?.Invoke(false);
                break;
        }
    }

    public abstract void Dispose();

    protected abstract void Open();

    /// <summary>
    /// Posts a received frame (copied into a pooled buffer) to the loop, on the reader thread. It waits while
    /// <see cref="InboundLimit"/> frames are in flight; false when the netdev closed meanwhile.
    /// </summary>
    protected bool PostFrame(ReadOnlySpan<byte> frame)
    {
        try
        {
            _inboundRoom.Wait(Closing.Token);
        }
        catch (OperationCanceledException)
        {
            return false;
        }

        byte[] buffer = ArrayPool<byte>.Shared.Rent(Math.Max(frame.Length, 1));
        frame.CopyTo(buffer);
        Counters.FrameIn();
        if (!Loop.Post(new LoopItem(LoopItemKind.Frame, this, buffer, frame.Length, null)))
        {
            ArrayPool<byte>.Shared.Return(buffer);   // the node is shutting down
            _inboundRoom.Release();
            return false;
        }

        return true;
    }

    protected void PostCarrier(bool up) => Loop.Post(new LoopItem(up ? LoopItemKind.CarrierUp : LoopItemKind.CarrierDown, this, null, 0, null));

    protected static partial class Log
    {
        [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "netdev {Spec}: peer {Peer} connected")]
        public static partial void Connected(ILogger logger, string spec, string peer);

        [LoggerMessage(EventId = 3002, Level = LogLevel.Information, Message = "netdev {Spec}: peer disconnected ({Reason}); link down")]
        public static partial void Disconnected(ILogger logger, string spec, string reason);

        [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "netdev {Spec}: frame length {Length} is not in 1..69632; connection closed")]
        public static partial void BadLength(ILogger logger, string spec, long length);

        [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "netdev {Spec}: {Message}")]
        public static partial void Problem(ILogger logger, string spec, string message);

        [LoggerMessage(EventId = 3005, Level = LogLevel.Information, Message = "netdev {Spec}: listening on {Address}")]
        public static partial void Listening(ILogger logger, string spec, string address);
    }
}
