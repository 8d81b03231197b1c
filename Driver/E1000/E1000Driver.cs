using Emu.Driver.Kernel;
using Emu.Stack.Core;
using static Emu.Driver.E1000.E1000Regs;

namespace Emu.Driver.E1000;

/// <summary>
/// The e1000 PCI driver (Linux drivers/net/ethernet/intel/e1000, e1000_probe and e1000_remove), bound to the 8254x ids
/// Linux's e1000_pci_tbl lists. It reaches the device only through the kernel's PCI, DMA and IRQ services.
/// </summary>
public sealed class E1000Driver : IPciDriver
{
    /// <summary>e1000_pci_tbl (e1000_main.c).</summary>
    private static readonly PciDeviceId[] s_ids =
    [
        new(0x8086, 0x1000), new(0x8086, 0x1001), new(0x8086, 0x1004), new(0x8086, 0x1008), new(0x8086, 0x1009),
        new(0x8086, 0x100C), new(0x8086, 0x100D), new(0x8086, 0x100E), new(0x8086, 0x100F), new(0x8086, 0x1010),
        new(0x8086, 0x1011), new(0x8086, 0x1012), new(0x8086, 0x1013), new(0x8086, 0x1014), new(0x8086, 0x1015),
        new(0x8086, 0x1016), new(0x8086, 0x1017), new(0x8086, 0x1018), new(0x8086, 0x1019), new(0x8086, 0x101A),
        new(0x8086, 0x101D), new(0x8086, 0x101E), new(0x8086, 0x1026), new(0x8086, 0x1027), new(0x8086, 0x1028),
        new(0x8086, 0x1075), new(0x8086, 0x1076), new(0x8086, 0x1077), new(0x8086, 0x1078), new(0x8086, 0x1079),
        new(0x8086, 0x107A), new(0x8086, 0x107B), new(0x8086, 0x107C), new(0x8086, 0x108A), new(0x8086, 0x1099),
        new(0x8086, 0x10B5), new(0x8086, 0x2E6E),
    ];

    private readonly GuestKernel _kernel;

    public E1000Driver(GuestKernel kernel, E1000Options? options = null)
    {
        _kernel = kernel;
        Options = options ?? new E1000Options();
    }

    public string Name => "e1000";

    public IReadOnlyList<PciDeviceId> IdTable => s_ids;

    public E1000Options Options { get; }

    /// <summary>The adapters this driver has probed, in probe order.</summary>
    public List<E1000Adapter> Adapters { get; } = [];

    public int Probe(PciDev pdev, PciDeviceId id)
    {
        if (pdev.DeviceId != 0x100E)
        {
            // The model follows the 82540EM's paths (I/O-BAR reset, Microwire EEPROM, M88 PHY) only.
            _kernel.Log.Error($"e1000 {pdev.Name}: device {pdev.DeviceId:x4} is not an 82540EM; not supported by this model");
            return -19;
        }

        int err = pdev.EnableDevice();
        if (err != 0)
        {
            return err;
        }

        err = pdev.RequestRegions(Name);
        if (err != 0)
        {
            pdev.DisableDevice();
            return err;
        }

        pdev.SetMaster();
        var adapter = new E1000Adapter(_kernel, pdev, Options);
        NetDevice netdev = NetDevice.AllocEtherdev(adapter);
        adapter.Netdev = netdev;
        netdev.Name = pdev.Name;
        pdev.DriverData = adapter;

        IoMem? hwAddr = pdev.IoremapBar(0);
        PciResource? io = null;
        foreach (PciResource r in pdev.Resources)
        {
            if (r.IsIo)
            {
                io = r;
                break;
            }
        }

        if (hwAddr is null || io is null)
        {
            _kernel.Log.Error($"e1000 {pdev.Name}: BAR0 or the I/O BAR is missing");
            Unwind(pdev);
            return -5;
        }

        adapter.Hw = new E1000Hw(_kernel, hwAddr, (ushort)io.Start);
        netdev.Ops = adapter;
        netdev.EthtoolOps = new E1000Ethtool(adapter);
        netdev.WatchdogTimeoNs = 5_000_000_000;
        adapter.Napi = NetCore.NetifNapiAdd(netdev, adapter.Clean, Napi.DefaultWeight);

        // e1000_sw_init: interrupts off until open.
        adapter.IrqDisable();

        // Linux offers TSO for the 82540; the manual's segmentation covers IPv6 too (§3.5.9), so TSO6 is offered as well.
        netdev.HwFeatures = NetDeviceFeatures.Sg | NetDeviceFeatures.HwCsum | NetDeviceFeatures.HwVlanCtagRx | NetDeviceFeatures.Tso | NetDeviceFeatures.Tso6;
        netdev.Features = netdev.HwFeatures | NetDeviceFeatures.HwVlanCtagTx | NetDeviceFeatures.HwVlanCtagFilter;
        netdev.HwFeatures |= NetDeviceFeatures.RxCsum | NetDeviceFeatures.RxAll | NetDeviceFeatures.RxFcs;
        netdev.Features |= NetDeviceFeatures.RxCsum;
        netdev.MinMtu = 46;
        netdev.MaxMtu = 16128 - 18;

        adapter.Hw.InitEepromParams();
        adapter.Hw.ResetHw();
        if (!adapter.Hw.ValidateEepromChecksum(out ushort sum))
        {
            _kernel.Log.Error($"e1000 {pdev.Name}: The EEPROM Checksum Is Not Valid");
            DumpEeprom(adapter, sum);
            Array.Clear(adapter.Hw.MacAddr);
        }
        else if (!adapter.Hw.ReadMacAddr())
        {
            _kernel.Log.Error($"e1000 {pdev.Name}: EEPROM Read Error");
        }

        adapter.Hw.MacAddr.CopyTo(netdev.DevAddr, 0);
        adapter.Hw.MacAddr.CopyTo(netdev.PermAddr, 0);
        if (!IsValidEtherAddr(netdev.DevAddr))
        {
            _kernel.Log.Error($"e1000 {pdev.Name}: Invalid MAC Address");
        }

        adapter.Reset();
        netdev.Name = "eth%d";
        err = _kernel.Net.RegisterNetdev(netdev);
        if (err != 0)
        {
            Unwind(pdev);
            return err;
        }

        _kernel.Log.Info($"e1000 {pdev.Name} {netdev.Name}: (PCI:33MHz:32-bit) {FormatMac(netdev.DevAddr)}");
        _kernel.Net.NetifCarrierOff(netdev);
        _kernel.Log.Info($"e1000 {pdev.Name} {netdev.Name}: Intel(R) PRO/1000 Network Connection");
        Adapters.Add(adapter);
        return 0;
    }

    public void Remove(PciDev pdev)
    {
        if (pdev.DriverData is not E1000Adapter adapter)
        {
            return;
        }

        _kernel.Net.UnregisterNetdev(adapter.Netdev);
        adapter.Hw.PhyHwReset();
        Adapters.Remove(adapter);
        Unwind(pdev);
    }

    /// <summary>is_valid_ether_addr: not multicast and not all zeros.</summary>
    public static bool IsValidEtherAddr(ReadOnlySpan<byte> address) => (address[0] & 1) == 0 && address.ContainsAnyExcept((byte)0);

    public static string FormatMac(ReadOnlySpan<byte> mac) => string.Join(':', mac.ToArray().Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));

    private static void Unwind(PciDev pdev)
    {
        pdev.DriverData = null;
        pdev.ReleaseRegions();
        pdev.DisableDevice();
    }

    /// <summary>e1000_dump_eeprom: the words as Linux prints them, and the checksum it computed against the stored one.</summary>
    private void DumpEeprom(E1000Adapter adapter, ushort sum)
    {
        Span<ushort> words = stackalloc ushort[64];
        adapter.Hw.ReadEeprom(0, words);
        ushort stored = words[0x3F];
        ushort expected = (ushort)(EepromSum - (ushort)(sum - stored));
        _kernel.Log.Error("e1000: /*********************/");
        _kernel.Log.Error($"e1000: Current EEPROM Checksum : 0x{stored:x4}");
        _kernel.Log.Error($"e1000: Calculated              : 0x{expected:x4}");
        _kernel.Log.Error("e1000: Offset    Values");
        _kernel.Log.Error("e1000: ========  ======");
        for (int row = 0; row < 64; row += 8)
        {
            var line = new System.Text.StringBuilder();
            for (int i = 0; i < 8; i++)
            {
                line.Append(System.Globalization.CultureInfo.InvariantCulture, $"{(byte)words[row + i]:x2} {(byte)(words[row + i] >> 8):x2} ");
            }

            _kernel.Log.Error($"e1000: {row * 2:x8}: {line.ToString().TrimEnd()}");
        }

        _kernel.Log.Error("e1000: Include this output when contacting your support provider.");
        _kernel.Log.Error("e1000: This is not a software error! Something bad happened to");
        _kernel.Log.Error("e1000: your hardware or EEPROM image. Ignoring this problem could");
        _kernel.Log.Error("e1000: result in further problems, possibly loss of data,");
        _kernel.Log.Error("e1000: corruption or system hangs!");
        _kernel.Log.Error("e1000: The MAC Address will be reset to 00:00:00:00:00:00,");
        _kernel.Log.Error("e1000: which is invalid and requires you to set the proper MAC");
        _kernel.Log.Error("e1000: address manually before continuing to enable this network");
        _kernel.Log.Error("e1000: device. Please inspect the EEPROM dump and report the");
        _kernel.Log.Error("e1000: issue to your hardware vendor or Intel Customer Support.");
        _kernel.Log.Error("e1000: /*********************/");
    }
}
