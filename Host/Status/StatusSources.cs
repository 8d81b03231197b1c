using Emu.Emulator.E1000;
using Emu.Emulator.Wire;

namespace Emu.Host.Status;

/// <summary>
/// Where a snapshot's counters come from: the e1000, and when there is one the node on its wire or behind it (its
/// net_device, SNMP and TCP) and the netdev (its socket counters). Read on the loop thread only.
/// </summary>
public sealed record StatusSources(E1000Device Device, Node? Node = null, NetdevCounters? Netdev = null, IFaultSource? Faults = null, Emu.Emulator.Instruments.DeviceChecker? Checks = null);
