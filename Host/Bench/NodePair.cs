using Emu.Emulator.Machine;
using Emu.Emulator.Wire;

namespace Emu.Host.Bench;

/// <summary>Two nodes on one in-process wire and one virtual clock, booted, their interfaces up and the link negotiated.</summary>
public sealed class NodePair
{
    public NodePair(Func<Node, bool>? ready = null)
    {
        Sender = new Node(Node.WithMac("52:54:00:12:34:56"), scheduler: Scheduler, ipv6Seed: 1);
        Receiver = new Node(Node.WithMac("52:54:00:12:34:57"), scheduler: Scheduler, ipv6Seed: 2);
        Link = new WireLink(Scheduler);
        WireLink.Attach(Link.A, Sender.Machine.Nic);
        WireLink.Attach(Link.B, Receiver.Machine.Nic);
        if (Sender.Boot() != 1 || Receiver.Boot() != 1)
        {
            throw new InvalidOperationException("the e1000 driver did not bind");
        }

        Sender.Kernel.Net.DevOpen(Sender.Netdev!);
        Receiver.Kernel.Net.DevOpen(Receiver.Netdev!);
        ready ??= node => node.Netdev!.Carrier;
        if (!Scheduler.RunUntil(() => ready(Sender) && ready(Receiver), 10_000_000_000))
        {
            throw new InvalidOperationException("the link did not come up");
        }
    }

    public EventScheduler Scheduler { get; } = new();

    public WireLink Link { get; }

    public Node Sender { get; }

    public Node Receiver { get; }
}
