using System.Buffers.Binary;
using Emu.Driver.E1000;
using Emu.Emulator.Faults;
using Emu.Emulator.Machine;
using Emu.Emulator.Wire;
using Emu.Host;
using Emu.Stack.Core;

namespace Emu.Tests.Faults;

/// <summary>
/// Our Linux 6.1 e1000 driver model meeting the device kinds, in virtual time: the kernel-log lines and the ethtool
/// statistics Linux's driver gives, and the recoveries it makes.
/// </summary>
public sealed class DeviceFaultDriverTests
{
    private const long Second = 1_000_000_000;
    private const ushort TestType = 0x88B5;

    /// <summary>Two booted, opened nodes on one cable, link up; <paramref name="received"/> counts b's test frames.</summary>
    private static (Node A, Node B, FaultPlan PlanA, FaultPlan PlanB) Pair(out Func<int> received)
    {
        var scheduler = new EventScheduler();
        var a = new Node(Node.WithMac("52:54:00:12:34:56"), scheduler: scheduler);
        var b = new Node(Node.WithMac("52:54:00:12:34:57"), scheduler: scheduler, ipv6Seed: 2);
        var planA = new FaultPlan(1);
        var planB = new FaultPlan(2);
        NicFaults.Attach(a.Machine.Nic, planA);
        NicFaults.Attach(b.Machine.Nic, planB);
        Assert.Equal(1, a.Boot());
        Assert.Equal(1, b.Boot());
        var link = new WireLink(scheduler);
        WireLink.Attach(link.A, a.Machine.Nic);
        WireLink.Attach(link.B, b.Machine.Nic);
        int count = 0;
        b.Kernel.Net.DevAddPack(TestType, (skb, dev) =>
        {
            count++;
            skb.Free();
        });
        received = () => count;
        Assert.Equal(0, a.Kernel.Net.DevOpen(a.Netdev!));
        Assert.Equal(0, b.Kernel.Net.DevOpen(b.Netdev!));
        Assert.True(a.Kernel.RunUntil(() => a.Netdev!.Carrier && b.Netdev!.Carrier, 10 * Second));
        a.Machine.Scheduler.RunFor(Second);   // let addrconf's first frames go
        return (a, b, planA, planB);
    }

    private static void Send(Node from, Node to, int count, int length = 200)
    {
        for (int i = 0; i < count; i++)
        {
            NetDevice dev = from.Netdev!;
            SkBuff skb = SkBuff.NetdevAlloc(dev, length);
            Span<byte> data = skb.Put(length);
            to.Netdev!.DevAddr.CopyTo(data);
            dev.DevAddr.CopyTo(data[6..]);
            BinaryPrimitives.WriteUInt16BigEndian(data[12..], TestType);
            data[14..].Fill((byte)i);
            skb.Dev = dev;
            from.Kernel.Net.DevQueueXmit(skb);
        }
    }

    private static FaultSpec Spec(string text)
    {
        Assert.True(FaultSpec.TryParse(text, out FaultSpec? spec, out string? error), error);
        return spec;
    }

    private static ulong Stat(Node node, string name) => node.Netdev!.EthtoolOps!.GetStats(node.Netdev!).Single(s => s.Name == name).Value;

    private static int LineIndex(Node node, string text) => node.Kernel.Log.Lines.ToList().FindIndex(l => l.Contains(text, StringComparison.Ordinal));

    [Fact]
    public void TxHangIsDetectedEveryTwoSecondsWithoutATransmitTimeoutAndALinkLossResetsTheAdapter()
    {
        (Node a, Node b, FaultPlan planA, _) = Pair(out Func<int> received);
        Fault hang = planA.Arm(Spec("tx-hang"));
        Send(a, b, 3);
        Assert.True(a.Kernel.RunUntil(() => a.Kernel.Log.Contains("Detected Tx Unit Hang"), 5 * Second));
        Assert.Equal(0, received());
        Assert.True(a.Kernel.Log.Contains("e1000 0000:00:03.0 eth0: Detected Tx Unit Hang"));
        Assert.True(a.Kernel.Log.Contains("  next_to_watch.status <0>"));
        Assert.True(a.Netdev!.QueueStopped);

        // As on Linux 6.1.192 (DeviceFaultGuestTests): e1000_watchdog re-checks every 2 s, each check stops the queue
        // again, and netif_tx_stop_queue stamps trans_start, so dev_watchdog never sees 5 s pass: no NETDEV WATCHDOG,
        // no reset, the interface stays dead while the chip is hung.
        int first = a.Kernel.Log.Lines.Count(l => l.EndsWith("eth0: Detected Tx Unit Hang", StringComparison.Ordinal));
        a.Machine.Scheduler.RunFor(20 * Second);
        Assert.InRange(a.Kernel.Log.Lines.Count(l => l.EndsWith("eth0: Detected Tx Unit Hang", StringComparison.Ordinal)) - first, 9, 11);
        Assert.False(a.Kernel.Log.Contains("NETDEV WATCHDOG"));
        Assert.False(a.Kernel.Log.Contains("Reset adapter"));
        Assert.Equal(0UL, Stat(a, "tx_timeout_count"));
        Assert.Equal(0, received());
        Assert.True(a.Netdev!.QueueStopped);

        // A pulled cable does recover it: e1000_watchdog, seeing no carrier with Tx work queued, resets the adapter;
        // CTRL.RST ends the hang, the link comes back, and the frames sent afterwards arrive.
        a.Machine.Nic.SetCarrier(false);
        a.Machine.SyncInterrupts();
        Assert.True(a.Kernel.RunUntil(() => a.Kernel.Log.Contains("Reset adapter"), 5 * Second));
        Assert.True(LineIndex(a, "NIC Link is Down") < LineIndex(a, "Reset adapter"));
        Assert.Equal(1UL, Stat(a, "tx_timeout_count"));
        a.Machine.Nic.SetCarrier(true);
        a.Machine.SyncInterrupts();
        Assert.True(a.Kernel.RunUntil(() => a.Netdev!.Carrier, 5 * Second));
        Assert.Equal(1, hang.Fired);
        Send(a, b, 5);
        Assert.True(a.Kernel.RunUntil(() => received() == 5, Second));
        Assert.False(a.Kernel.Log.Contains("NETDEV WATCHDOG"));
    }

    [Fact]
    public void ATxHangThatEndsByItselfWakesTheQueueAndEverythingQueuedIsSent()
    {
        (Node a, Node b, FaultPlan planA, _) = Pair(out Func<int> received);
        planA.Arm(Spec("tx-hang,for=3s"));
        Send(a, b, 3);
        Assert.True(a.Kernel.RunUntil(() => a.Kernel.Log.Contains("Detected Tx Unit Hang"), 5 * Second));
        Assert.True(a.Netdev!.QueueStopped);

        // The unit resumes: the descriptors complete, e1000_clean_tx_irq reclaims them and wakes the queue.
        Assert.True(a.Kernel.RunUntil(() => received() == 3, 5 * Second));
        Assert.True(a.Kernel.RunUntil(() => !a.Netdev!.QueueStopped, Second));
        Send(a, b, 2);
        Assert.True(a.Kernel.RunUntil(() => received() == 5, Second));
        Assert.False(a.Kernel.Log.Contains("Reset adapter"));
        Assert.Equal(0UL, Stat(a, "tx_timeout_count"));
    }

    [Fact]
    public void LinkLossAndAutonegotiationThatFailsUntilDisarmedAreLoggedAsLinuxDoes()
    {
        (Node a, _, FaultPlan planA, _) = Pair(out _);
        Fault fail = planA.Arm(Spec("autoneg-fail"));
        a.Machine.Nic.SetCarrier(false);
        a.Machine.SyncInterrupts();
        Assert.True(a.Kernel.RunUntil(() => !a.Netdev!.Carrier, Second));
        Assert.True(a.Kernel.Log.Contains("e1000 0000:00:03.0 eth0: NIC Link is Down"));
        a.Machine.Nic.SetCarrier(true);
        a.Machine.Scheduler.RunFor(3 * Second);
        Assert.False(a.Netdev!.Carrier);
        Assert.True(fail.Fired >= 5);   // one failed attempt every 500 ms

        planA.Disarm(fail.Id);
        Assert.True(a.Kernel.RunUntil(() => a.Netdev!.Carrier, 3 * Second));
        Assert.True(LineIndex(a, "NIC Link is Down") < a.Kernel.Log.Lines.ToList().FindLastIndex(l => l.Contains("NIC Link is Up 1000 Mbps Full Duplex, Flow Control: RX/TX", StringComparison.Ordinal)));
    }

    [Fact]
    public void CorruptEepromChecksumAtProbeIsReportedAndTheInterfaceWillNotOpen()
    {
        var node = new Node();
        Assert.True(FaultPlan.TryCreate(7, ["eeprom-corrupt,checksum"], null, out FaultPlan? plan, out string? error), error);
        NicFaults.Attach(node.Machine.Nic, plan);
        Assert.Equal(1, node.Boot());
        Assert.True(node.Kernel.Log.Contains("e1000 0000:00:03.0: The EEPROM Checksum Is Not Valid"));
        Assert.True(node.Kernel.Log.Contains("Invalid MAC Address"));
        Assert.True(LineIndex(node, "The EEPROM Checksum Is Not Valid") < LineIndex(node, "Invalid MAC Address"));

        // As Linux 6.1's e1000_probe: the netdev registers with a zero address, which open refuses (-EADDRNOTAVAIL).
        Assert.Equal("00:00:00:00:00:00", E1000Driver.FormatMac(node.Netdev!.DevAddr));
        Assert.Equal(-99, node.Kernel.Net.DevOpen(node.Netdev!));
    }

    [Fact]
    public void EepromTimeoutAtProbeFailsTheChecksumReadAsLinuxDoes()
    {
        var node = new Node();
        Assert.True(FaultPlan.TryCreate(7, ["eeprom-timeout"], null, out FaultPlan? plan, out string? error), error);
        NicFaults.Attach(node.Machine.Nic, plan);
        Assert.Equal(1, node.Boot());
        Assert.True(node.Kernel.Log.Contains("The EEPROM Checksum Is Not Valid"));
    }

    [Fact]
    public void MdicErrorsAtProbeAreAHardwareErrorAndTheLinkComesWhenThePhyAnswersAgain()
    {
        var node = new Node();
        var plan = new FaultPlan(3);
        Fault mdic = plan.Arm(Spec("mdic-error"));
        NicFaults.Attach(node.Machine.Nic, plan);
        Assert.Equal(1, node.Boot());
        Assert.True(node.Kernel.Log.Contains("e1000 0000:00:03.0: Hardware Error"));   // e1000_reset: e1000_init_hw failed
        Assert.Equal(0, node.Kernel.Net.DevOpen(node.Netdev!));
        node.Machine.Scheduler.RunFor(3 * Second);
        Assert.False(node.Netdev!.Carrier);   // e1000_check_for_link cannot read the PHY
        Assert.True(mdic.Fired > 0);

        plan.Disarm(mdic.Id);
        Assert.True(node.Kernel.RunUntil(() => node.Netdev!.Carrier, 5 * Second));
    }

    [Fact]
    public void MdicTimeoutsAtProbeAreAHardwareErrorToo()
    {
        var node = new Node();
        Assert.True(FaultPlan.TryCreate(3, ["mdic-timeout,times=1"], null, out FaultPlan? plan, out string? error), error);
        NicFaults.Attach(node.Machine.Nic, plan);
        Assert.Equal(1, node.Boot());
        Assert.True(node.Kernel.Log.Contains("Hardware Error"));
        Assert.Equal(0, node.Kernel.Net.DevOpen(node.Netdev!));
        Assert.True(node.Kernel.RunUntil(() => node.Netdev!.Carrier, 5 * Second));
    }

    [Fact]
    public void RxCrcErrorsShowExactlyInEthtoolsRxCrcErrors()
    {
        (Node a, Node b, _, FaultPlan planB) = Pair(out Func<int> received);
        planB.Arm(Spec("rx-crc-error,times=4,ethertype=0x88b5"));
        Send(a, b, 10);
        Assert.True(a.Kernel.RunUntil(() => received() == 6, Second));
        a.Machine.Scheduler.RunFor(100_000_000);
        Assert.Equal(6, received());
        Assert.Equal(4UL, Stat(b, "rx_crc_errors"));
        Assert.Equal(4UL, b.Netdev!.Stats.RxCrcErrors);
    }

    [Fact]
    public void RxErrorsShowInEthtoolsRxErrorsAsE1000UpdateStatsSumsThem()
    {
        (Node a, Node b, _, FaultPlan planB) = Pair(out Func<int> received);
        planB.Arm(Spec("rx-error,times=3,ethertype=0x88b5"));
        planB.Arm(Spec("rx-crc-error,times=2,ethertype=0x88b5"));
        Send(a, b, 10);
        Assert.True(a.Kernel.RunUntil(() => received() == 5, Second));
        Assert.Equal(5UL, Stat(b, "rx_errors"));   // RXERRC + CRCERRS (+ ALGNERRC, RUC, ROC, CEXTERR)
        Assert.Equal(2UL, Stat(b, "rx_crc_errors"));
    }

    [Fact]
    public void RxOverrunOfNFramesShowsExactlyInEthtoolsRxMissedErrors()
    {
        (Node a, Node b, _, FaultPlan planB) = Pair(out Func<int> received);
        planB.Arm(Spec("rx-overrun,frames=5,ethertype=0x88b5"));
        Send(a, b, 12);
        Assert.True(a.Kernel.RunUntil(() => received() == 7, Second));
        a.Machine.Scheduler.RunFor(100_000_000);
        Assert.Equal(7, received());
        Assert.Equal(5UL, Stat(b, "rx_missed_errors"));
        Assert.Equal(5UL, b.Netdev!.Stats.RxFifoErrors);
    }

    [Fact]
    public void RxNoBufferCountsInEthtoolAndTheWaitingFramesFollowTheNextOne()
    {
        (Node a, Node b, _, FaultPlan planB) = Pair(out Func<int> received);
        planB.Arm(Spec("rx-no-buffer,frames=3,ethertype=0x88b5"));
        Send(a, b, 3);
        a.Machine.Scheduler.RunFor(100_000_000);
        Assert.Equal(0, received());
        Assert.Equal(3, b.Machine.Nic.RxFifoFrames);
        Send(a, b, 2);
        Assert.True(a.Kernel.RunUntil(() => received() == 5, Second));
        Assert.Equal(3UL, Stat(b, "rx_no_buffer_count"));
    }

    [Fact]
    public void ATransmitDescriptorDoneWithoutDdIsATxHangForTheDriver()
    {
        (Node a, Node b, FaultPlan planA, _) = Pair(out Func<int> received);
        planA.Arm(Spec("dd-withheld,dir=tx,descriptors=1"));
        Send(a, b, 3);
        Assert.True(a.Kernel.RunUntil(() => received() == 3, Second));   // sent, but never reclaimed
        Assert.True(a.Kernel.RunUntil(() => a.Kernel.Log.Contains("Detected Tx Unit Hang"), 5 * Second));
        Assert.True(a.Netdev!.QueueStopped);

        // No transmit timeout follows (each 2 s check stops the queue again); taking the interface down and up does
        // what the stack would not: e1000_down cleans the ring, e1000_up resets the chip, and traffic flows.
        a.Machine.Scheduler.RunFor(10 * Second);
        Assert.False(a.Kernel.Log.Contains("NETDEV WATCHDOG"));
        a.Kernel.Net.DevClose(a.Netdev!);
        Assert.Equal(0, a.Kernel.Net.DevOpen(a.Netdev!));
        Assert.True(a.Kernel.RunUntil(() => a.Netdev!.Carrier, 5 * Second));
        Send(a, b, 2);
        Assert.True(a.Kernel.RunUntil(() => received() == 5, Second));
    }

    [Fact]
    public void ALostInterruptIsRecoveredByTheWatchdogsIcsWithin2Seconds()
    {
        (Node a, Node b, _, FaultPlan planB) = Pair(out Func<int> received);
        Fault lost = planB.Arm(Spec("irq-lost"));
        Send(a, b, 1);
        a.Machine.Scheduler.RunFor(100_000_000);
        Assert.Equal(1, lost.Fired);
        Assert.Equal(0, received());   // the frame waits in the ring, its RXT0 in ICR, INTx low

        // e1000_watchdog writes ICS.RXDMT0 every 2 s: a new cause raises INTx, the NAPI poll finds the frame.
        Assert.True(a.Kernel.RunUntil(() => received() == 1, 2100_000_000));
    }

    [Fact]
    public void ThreeLostInterruptsInARowCostThreeAssertionsNotTheInterface()
    {
        (Node a, Node b, _, FaultPlan planB) = Pair(out Func<int> received);
        Fault lost = planB.Arm(Spec("irq-lost,times=3"));
        Send(a, b, 1);
        a.Machine.Scheduler.RunFor(100_000_000);
        Assert.Equal(0, received());

        // Each firing loses one assertion (RXT0, then whatever comes next: a TXDW, the watchdog's ICS.RXDMT0). The
        // causes stay in ICR, so the first evaluation after the third firing raises INTx and the poll finds it all.
        Assert.True(a.Kernel.RunUntil(() => received() == 1, 8 * Second));
        Assert.Equal(3, lost.Fired);
        Send(a, b, 5);
        Assert.True(a.Kernel.RunUntil(() => received() == 6, Second));
    }

    [Fact]
    public void TrafficCompletesWhenHalfTheInterruptsAreLost()
    {
        (Node a, Node b, _, FaultPlan planB) = Pair(out Func<int> received);
        Fault lost = planB.Arm(Spec("irq-lost,prob=0.5"));
        for (int i = 0; i < 20; i++)
        {
            Send(a, b, 1);
            a.Machine.Scheduler.RunFor(10_000_000);
        }

        Assert.True(a.Kernel.RunUntil(() => received() == 20, 5 * Second));
        Assert.True(lost.Fired > 0);
    }

    [Fact]
    public void SpuriousInterruptsAreNotOursAndTrafficCompletes()
    {
        (Node a, Node b, _, FaultPlan planB) = Pair(out Func<int> received);
        Fault spurious = planB.Arm(Spec("irq-spurious,every=3ms"));
        for (int i = 0; i < 20; i++)
        {
            Send(a, b, 1);
            a.Machine.Scheduler.RunFor(5_000_000);
        }

        Assert.True(a.Kernel.RunUntil(() => received() == 20, Second));
        Assert.True(spurious.Fired >= 20);
    }
}
