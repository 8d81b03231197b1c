using Emu.Driver.Kernel;
using Emu.Emulator.Machine;
using Emu.Stack.Core;

namespace Emu.Tests.Stack;

/// <summary>The net core on its own: sk_buff arithmetic, queues, the backlog, dispatch, pfifo_fast, NAPI, notifiers.</summary>
public sealed class NetCoreTests
{
    /// <summary>A driver that records what it is asked to send, and can refuse (TX_BUSY).</summary>
    private sealed class FakeOps : INetDeviceOps
    {
        public List<SkBuff> Sent { get; } = [];

        public bool Busy { get; set; }

        public int RxModeCalls { get; private set; }

        public int Open(NetDevice dev) => 0;

        public int Stop(NetDevice dev) => 0;

        public NetdevTx StartXmit(SkBuff skb, NetDevice dev)
        {
            if (Busy)
            {
                dev.Core!.NetifStopQueue(dev);
                return NetdevTx.Busy;
            }

            Sent.Add(skb);
            return NetdevTx.Ok;
        }

        public void SetRxMode(NetDevice dev) => RxModeCalls++;

        public int ChangeMtu(NetDevice dev, int mtu) => 0;

        public int TxTimeouts { get; private set; }

        public void TxTimeout(NetDevice dev, int queue) => TxTimeouts++;

        public int SetMacAddress(NetDevice dev, ReadOnlySpan<byte> address) => 0;

        public void GetStats64(NetDevice dev, NetDeviceStats stats)
        {
        }
    }

    private static (NetCore Core, NetDevice Dev, FakeOps Ops, EventScheduler Clock) UpDevice()
    {
        var scheduler = new EventScheduler();
        var core = new NetCore(new SchedulerClock(scheduler));
        var ops = new FakeOps();
        NetDevice dev = NetDevice.AllocEtherdev(null);
        dev.Ops = ops;
        new byte[] { 0x02, 0, 0, 0, 0, 1 }.CopyTo(dev.DevAddr, 0);
        Assert.Equal(0, core.RegisterNetdev(dev));
        Assert.Equal(0, core.DevOpen(dev));
        return (core, dev, ops, scheduler);
    }

    [Fact]
    public void SkbReservePutPushPullTrim()
    {
        SkBuff skb = SkBuff.NetdevAlloc(null, 100);
        Assert.Equal(SkBuff.NetSkbPad, skb.Headroom);
        skb.Put(40).Fill(1);
        skb.Push(14).Fill(2);
        Assert.Equal(54, skb.Len);
        Assert.Equal(2, skb.DataSpan[0]);
        Assert.True(skb.Pull(14));
        Assert.False(skb.Pull(100));
        skb.Trim(10);
        Assert.Equal(10, skb.Len);
        Assert.Throws<InvalidOperationException>(() => skb.Put(1000));
        Assert.Throws<InvalidOperationException>(() => skb.Push(1000));
        skb.Free();
    }

    [Fact]
    public void CloneSharesDataCopyDoesNot()
    {
        SkBuff skb = SkBuff.Alloc(64);
        skb.Put(4).Fill(7);
        SkBuff clone = skb.Clone();
        SkBuff copy = skb.Copy();
        skb.DataSpan[0] = 9;
        Assert.Equal(9, clone.DataSpan[0]);
        Assert.Equal(7, copy.DataSpan[0]);
        Assert.True(skb.IsCloned);
        skb.Free();
        Assert.Equal(9, clone.DataSpan[0]);
        clone.Free();
        copy.Free();
    }

    [Fact]
    public void QueueKeepsOrderAndLength()
    {
        var q = new SkBuffHead();
        SkBuff a = SkBuff.Alloc(1);
        SkBuff b = SkBuff.Alloc(1);
        SkBuff c = SkBuff.Alloc(1);
        q.EnqueueTail(a);
        q.EnqueueTail(b);
        q.EnqueueHead(c);
        Assert.Equal(3, q.QLen);
        Assert.Same(c, q.Dequeue());
        Assert.Same(a, q.Dequeue());
        Assert.Throws<InvalidOperationException>(() => q.EnqueueTail(b));
        Assert.Equal(1, q.Purge());
    }

    [Theory]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF }, PacketType.Broadcast)]
    [InlineData(new byte[] { 0x33, 0x33, 0, 0, 0, 1 }, PacketType.Multicast)]
    [InlineData(new byte[] { 0x02, 0, 0, 0, 0, 1 }, PacketType.Host)]
    [InlineData(new byte[] { 0x02, 0, 0, 0, 0, 2 }, PacketType.OtherHost)]
    public void EthTypeTransClassifiesTheDestination(byte[] destination, PacketType type)
    {
        (NetCore _, NetDevice dev, FakeOps _, EventScheduler _) = UpDevice();
        SkBuff skb = SkBuff.Alloc(60);
        Span<byte> f = skb.Put(60);
        destination.CopyTo(f);
        f[12] = 0x86;
        f[13] = 0xDD;
        Assert.Equal(0x86DD, NetCore.EthTypeTrans(skb, dev));
        Assert.Equal(type, skb.PktType);
        Assert.Equal(46, skb.Len);
        skb.Free();
    }

    [Fact]
    public void NetifRxQueuesToTheBacklogAndDropsPastItsLimit()
    {
        (NetCore core, NetDevice dev, FakeOps _, EventScheduler clock) = UpDevice();
        int delivered = 0;
        core.DevAddPack(0x86DD, (skb, d) =>
        {
            delivered++;
            skb.Free();
        });
        for (int i = 0; i < 1100; i++)
        {
            SkBuff skb = SkBuff.Alloc(60);
            skb.Put(60);
            skb.Dev = dev;
            skb.Protocol = 0x86DD;
            core.NetifRx(skb);
        }

        Assert.Equal(1100 - (NetCore.MaxBacklog + 1), core.BacklogDropped);
        clock.RunFor(0);
        Assert.Equal(NetCore.MaxBacklog + 1, delivered);
        Assert.Equal((ulong)core.BacklogDropped, dev.Stats.RxDropped);
    }

    [Fact]
    public void UnknownProtocolsCountAsNoHandler()
    {
        (NetCore core, NetDevice dev, FakeOps _, EventScheduler _) = UpDevice();
        SkBuff skb = SkBuff.Alloc(60);
        skb.Put(60);
        skb.Dev = dev;
        skb.Protocol = 0x1234;
        Assert.Equal(NetCore.NetRxDrop, core.NetifReceiveSkb(skb));
        Assert.Equal(1UL, dev.Stats.RxNoHandler);
    }

    [Fact]
    public void PfifoFastSendsBandZeroFirstAndRequeuesOnBusy()
    {
        (NetCore core, NetDevice dev, FakeOps ops, EventScheduler clock) = UpDevice();
        ops.Busy = true;
        foreach (uint priority in new uint[] { 0, 6, 1 })
        {
            SkBuff skb = SkBuff.Alloc(60);
            skb.Put(60);
            skb.Dev = dev;
            skb.Priority = priority;
            core.DevQueueXmit(skb);
        }

        Assert.True(dev.QueueStopped);
        Assert.Equal(3, core.QdiscLength(dev));
        ops.Busy = false;
        core.NetifWakeQueue(dev);
        clock.RunFor(0);

        // The first one (refused, band 1) goes first, then band 0 (priority 6), then band 2 (priority 1).
        Assert.Equal([0u, 6u, 1u], ops.Sent.Select(s => s.Priority));
    }

    [Fact]
    public void FullBandDropsAtTxQueueLength()
    {
        (NetCore core, NetDevice dev, FakeOps ops, EventScheduler _) = UpDevice();
        ops.Busy = true;
        dev.TxQueueLength = 10;
        for (int i = 0; i < 20; i++)
        {
            SkBuff skb = SkBuff.Alloc(60);
            skb.Put(60);
            skb.Dev = dev;
            core.DevQueueXmit(skb);
        }

        Assert.Equal(9, core.QdiscDrops(dev));   // 10 queued behind the requeued one
        Assert.Equal(9UL, dev.Stats.TxDropped);
    }

    [Fact]
    public void DevWatchdogTimesOutAQueueStoppedForFiveSecondsAndEachStopRestartsTheCount()
    {
        const long second = 1_000_000_000;
        (NetCore core, NetDevice dev, FakeOps ops, EventScheduler clock) = UpDevice();
        var messages = new List<string>();
        core.KernelMessage = messages.Add;
        core.NetifCarrierOn(dev);

        // Stopped again every 2 s (what e1000's hang check does): the stop stamps trans_start, so 5 s never pass.
        for (int i = 0; i < 10; i++)
        {
            core.NetifStopQueue(dev);
            clock.RunFor(2 * second);
        }

        Assert.Equal(0, ops.TxTimeouts);
        Assert.Empty(messages);

        // Stopped once and left: the next watchdog run past 5 s calls ndo_tx_timeout.
        long stopped = clock.Now;
        core.NetifStopQueue(dev);
        Assert.True(clock.RunUntil(() => ops.TxTimeouts == 1, 11 * second));
        Assert.True(clock.Now - stopped > 5 * second);
        Assert.Equal(["NETDEV WATCHDOG: eth0 (e1000): transmit queue 0 timed out"], messages);
    }

    [Fact]
    public void DownDevicesDropTransmits()
    {
        (NetCore core, NetDevice dev, FakeOps _, EventScheduler _) = UpDevice();
        core.DevClose(dev);
        SkBuff skb = SkBuff.Alloc(60);
        skb.Put(60);
        skb.Dev = dev;
        Assert.Equal(NetCore.ENetDown, core.DevQueueXmit(skb));
        Assert.Equal(1UL, dev.Stats.TxDropped);
    }

    [Fact]
    public void NapiPollsWithinBudgetUntilComplete()
    {
        (NetCore core, NetDevice dev, FakeOps _, EventScheduler clock) = UpDevice();
        int remaining = 150;
        var budgets = new List<int>();
        Napi napi = NetCore.NetifNapiAdd(dev, (n, budget) =>
        {
            budgets.Add(budget);
            int work = Math.Min(budget, remaining);
            remaining -= work;
            if (work < budget)
            {
                core.NapiCompleteDone(n, work);
            }

            return work;
        });
        Assert.False(core.NapiSchedule(napi));   // disabled until napi_enable
        NetCore.NapiEnable(napi);
        Assert.True(core.NapiSchedule(napi));
        Assert.False(core.NapiSchedule(napi));
        clock.RunFor(0);
        Assert.Equal([64, 64, 64], budgets);
        Assert.Equal(0, remaining);
        Assert.False(napi.Scheduled);
    }

    [Fact]
    public void NotifierSeesTheLifecycle()
    {
        var scheduler = new EventScheduler();
        var core = new NetCore(new SchedulerClock(scheduler));
        var events = new List<(NetdevEvent, string)>();
        core.Notifier += (e, d) => events.Add((e, d.Name));
        NetDevice dev = NetDevice.AllocEtherdev(null);
        dev.Ops = new FakeOps();
        new byte[] { 0x02, 0, 0, 0, 0, 1 }.CopyTo(dev.DevAddr, 0);
        core.RegisterNetdev(dev);
        core.DevOpen(dev);
        core.NetifCarrierOn(dev);
        core.NetifCarrierOff(dev);
        core.UnregisterNetdev(dev);
        Assert.Equal(
            [(NetdevEvent.Register, "eth0"), (NetdevEvent.Up, "eth0"), (NetdevEvent.Change, "eth0"), (NetdevEvent.Change, "eth0"), (NetdevEvent.GoingDown, "eth0"), (NetdevEvent.Down, "eth0"), (NetdevEvent.Unregister, "eth0")],
            events);
    }

    [Fact]
    public void MulticastListChangesReachTheDriver()
    {
        (NetCore core, NetDevice dev, FakeOps ops, EventScheduler _) = UpDevice();
        int before = ops.RxModeCalls;
        core.DevMcAdd(dev, [0x33, 0x33, 0, 0, 0, 1]);
        core.DevMcAdd(dev, [0x33, 0x33, 0, 0, 0, 1]);
        core.DevMcDel(dev, [0x33, 0x33, 0, 0, 0, 1]);
        Assert.Equal(before + 2, ops.RxModeCalls);
        Assert.Empty(dev.McList);
    }
}
