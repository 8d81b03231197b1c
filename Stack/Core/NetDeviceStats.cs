namespace Emu.Stack.Core;

/// <summary>struct rtnl_link_stats64 (include/uapi/linux/if_link.h).</summary>
public sealed class NetDeviceStats
{
    public ulong RxPackets;
    public ulong TxPackets;
    public ulong RxBytes;
    public ulong TxBytes;
    public ulong RxErrors;
    public ulong TxErrors;
    public ulong RxDropped;
    public ulong TxDropped;
    public ulong Multicast;
    public ulong Collisions;
    public ulong RxLengthErrors;
    public ulong RxOverErrors;
    public ulong RxCrcErrors;
    public ulong RxFrameErrors;
    public ulong RxFifoErrors;
    public ulong RxMissedErrors;
    public ulong TxAbortedErrors;
    public ulong TxCarrierErrors;
    public ulong TxFifoErrors;
    public ulong TxHeartbeatErrors;
    public ulong TxWindowErrors;
    public ulong RxNoHandler;

    public void CopyTo(NetDeviceStats other)
    {
        other.RxPackets = RxPackets;
        other.TxPackets = TxPackets;
        other.RxBytes = RxBytes;
        other.TxBytes = TxBytes;
        other.RxErrors = RxErrors;
        other.TxErrors = TxErrors;
        other.RxDropped = RxDropped;
        other.TxDropped = TxDropped;
        other.Multicast = Multicast;
        other.Collisions = Collisions;
        other.RxLengthErrors = RxLengthErrors;
        other.RxOverErrors = RxOverErrors;
        other.RxCrcErrors = RxCrcErrors;
        other.RxFrameErrors = RxFrameErrors;
        other.RxFifoErrors = RxFifoErrors;
        other.RxMissedErrors = RxMissedErrors;
        other.TxAbortedErrors = TxAbortedErrors;
        other.TxCarrierErrors = TxCarrierErrors;
        other.TxFifoErrors = TxFifoErrors;
        other.TxHeartbeatErrors = TxHeartbeatErrors;
        other.TxWindowErrors = TxWindowErrors;
        other.RxNoHandler = RxNoHandler;
    }
}
