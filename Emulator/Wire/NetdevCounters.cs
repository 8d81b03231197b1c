namespace Emu.Emulator.Wire;

/// <summary>What a netdev moved and refused; updated on the loop thread and by its reader thread (Interlocked).</summary>
public sealed class NetdevCounters
{
    private long _framesIn;
    private long _framesOut;
    private long _droppedNotConnected;
    private long _droppedSendError;
    private long _badLengthClosures;
    private long _emptyDatagrams;
    private long _connections;
    private long _droppedSendQueueFull;

    public long FramesIn => Interlocked.Read(ref _framesIn);

    public long FramesOut => Interlocked.Read(ref _framesOut);

    /// <summary>Frames the device sent while no peer was connected.</summary>
    public long DroppedNotConnected => Interlocked.Read(ref _droppedNotConnected);

    /// <summary>Frames the socket refused (peer gone, unreachable).</summary>
    public long DroppedSendError => Interlocked.Read(ref _droppedSendError);

    /// <summary>Connections closed because a length prefix was 0 or above 69,632, or the stream ended inside a frame.</summary>
    public long BadLengthClosures => Interlocked.Read(ref _badLengthClosures);

    /// <summary>Zero-length datagrams (no Ethernet frame is empty), counted and ignored.</summary>
    public long EmptyDatagrams => Interlocked.Read(ref _emptyDatagrams);

    /// <summary>Frames the device sent while a stalled peer left the send queue full.</summary>
    public long DroppedSendQueueFull => Interlocked.Read(ref _droppedSendQueueFull);

    public long Connections => Interlocked.Read(ref _connections);

    internal void FrameIn() => Interlocked.Increment(ref _framesIn);

    internal void FrameOut() => Interlocked.Increment(ref _framesOut);

    internal void NotConnected() => Interlocked.Increment(ref _droppedNotConnected);

    internal void SendError() => Interlocked.Increment(ref _droppedSendError);

    internal void BadLength() => Interlocked.Increment(ref _badLengthClosures);

    internal void EmptyDatagram() => Interlocked.Increment(ref _emptyDatagrams);

    internal void SendQueueFull() => Interlocked.Increment(ref _droppedSendQueueFull);

    internal void Connected() => Interlocked.Increment(ref _connections);
}
