using System.Net.NetworkInformation;
using Emu.Driver.E1000;
using Emu.Driver.Kernel;
using Emu.Emulator.Machine;
using Emu.Stack.Ipv6;
using Microsoft.Extensions.Logging;

namespace Emu.Host;

/// <summary>
/// One emulated node (DESIGN.md composition root): the machine with its e1000, the guest kernel with the e1000 driver
/// bound through PCI, the networking core and the IPv6 stack. Nodes on one in-process wire share one scheduler.
/// </summary>
public sealed class Node
{
    public Node(MachineOptions? machineOptions = null, E1000Options? driverOptions = null, EventScheduler? scheduler = null, ILoggerFactory? loggerFactory = null, IPlatformBus? bus = null, int ipv6Seed = 1)
    {
        Machine = new PcMachine(machineOptions, loggerFactory, scheduler);
        Bus = bus ?? new MachineBus(Machine);
        Kernel = new GuestKernel(Bus, Machine.Scheduler, loggerFactory);
        Driver = new E1000Driver(Kernel, driverOptions);
        Ipv6 = new Ipv6Stack(Kernel.Net, loggerFactory?.CreateLogger("Emu.Ipv6"), ipv6Seed) { KernelMessage = Kernel.Log.Info };
    }

    /// <summary>The node's IPv6 stack (on the kernel's net core; it configures any device that comes up).</summary>
    public Ipv6Stack Ipv6 { get; }

    public PcMachine Machine { get; }

    public IPlatformBus Bus { get; }

    public GuestKernel Kernel { get; }

    public E1000Driver Driver { get; }

    public E1000Adapter? Adapter => Driver.Adapters.Count > 0 ? Driver.Adapters[0] : null;

    public Emu.Stack.Core.NetDevice? Netdev => Adapter?.Netdev;

    /// <summary>Boots: PCI enumeration and the e1000 driver's probe; returns how many devices it bound.</summary>
    public int Boot() => Kernel.PciRegisterDriver(Driver);

    public static MachineOptions WithMac(string mac) => new() { Mac = PhysicalAddress.Parse(mac.Replace(':', '-')) };
}
