using System.Buffers.Binary;
using System.Diagnostics;
using Emu.Emulator.Machine;
using Emu.Stack.Core;

namespace Emu.Host.Bench;

/// <summary>
/// <c>emu bench driver</c>: frames per second from dev_queue_xmit on one node, through its e1000 driver and device,
/// an in-process wire, the other device and driver (interrupt, NAPI poll), to netif_receive_skb's handler there.
/// Virtual time moves 100 µs per batch so that interrupt moderation (ITR) behaves as on a real machine.
/// </summary>
public sealed class DriverBench
{
    private const int Batch = 32;
    private const long BatchVirtualNs = 100_000;
    private readonly EventScheduler _scheduler;
    private readonly Node _sender;
    private readonly Node _receiver;
    private readonly int _frameLength;
    private long _received;

    public DriverBench(int frameLength)
    {
        if (frameLength is < 60 or > 1514)
        {
            throw new ArgumentOutOfRangeException(nameof(frameLength), frameLength, "Frames are 60 to 1514 bytes without the FCS.");
        }

        _frameLength = frameLength;
        var pair = new NodePair();
        _scheduler = pair.Scheduler;
        _sender = pair.Sender;
        _receiver = pair.Receiver;
        _receiver.Kernel.Net.DevAddPack(0x88B5, OnFrame);
    }

    public BenchResult Run(long frames)
    {
        NetDevice dev = _sender.Netdev!;
        NetCore net = _sender.Kernel.Net;
        byte[] destination = _receiver.Netdev!.DevAddr;
        long batches = (frames + Batch - 1) / Batch;
        long receivedBefore = _received;
        long dropsBefore = Drops();
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        long start = Stopwatch.GetTimestamp();
        for (long b = 0; b < batches; b++)
        {
            for (int i = 0; i < Batch; i++)
            {
                SkBuff skb = SkBuff.NetdevAlloc(dev, _frameLength);
                Span<byte> data = skb.Put(_frameLength);
                destination.CopyTo(data);
                dev.DevAddr.CopyTo(data[6..]);
                BinaryPrimitives.WriteUInt16BigEndian(data[12..], 0x88B5);
                net.DevQueueXmit(skb);
            }

            _scheduler.RunFor(BatchVirtualNs);
        }

        _scheduler.RunFor(10 * BatchVirtualNs);
        TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        long received = _received - receivedBefore;
        return new BenchResult(_frameLength, received, Drops() - dropsBefore, elapsed, received == 0 ? 0 : (double)allocated / received);
    }

    private long Drops()
    {
        NetDevice s = _sender.Netdev!;
        NetDevice r = _receiver.Netdev!;
        return (long)(s.Stats.TxDropped + r.Stats.RxDropped + r.Stats.RxErrors) + _sender.Machine.Nic.Statistics.TotalDrops + _receiver.Machine.Nic.Statistics.TotalDrops;
    }

    private void OnFrame(SkBuff skb, NetDevice dev)
    {
        _received++;
        skb.Free();
    }
}
