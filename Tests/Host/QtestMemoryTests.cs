using Emu.Emulator.E1000;
using Emu.Tests.Differential;
using Emu.Tests.Emulator;

namespace Emu.Tests.Host;

/// <summary>
/// Issue 19 case 3, measured on the real `emu qtest` process: MAC loopback and a ring of 1 MiB TSO packets, one TDT
/// write. Before, the device held every segment until the ring ended (406 MB for three descriptors of one-byte
/// segments; out of memory for 1024). Now the device holds at most its receive FIFO, so resident memory grows by no
/// more than the guest RAM the test touches plus a bound.
/// </summary>
public sealed class QtestMemoryTests
{
    private const string Bar0 = "0xfebc";
    private const long BoundBytes = 48L << 20;   // allowance for the runtime's own growth; far below what holding would need

    [Theory]
    [InlineData(false)]   // receive disabled: every looped-back segment is dropped at once
    [InlineData(true)]    // receive on with no descriptors: the FIFO fills, the rest is MPC
    public void LoopedBackTsoRingKeepsResidentMemoryBounded(bool receiveEnabled)
    {
        using var emu = new EmuProcessQtestTarget();
        foreach (string line in new[]
        {
            "outl 0xcf8 0x80001810", "outl 0xcfc 0xfebc0000", "outl 0xcf8 0x80001804", "outw 0xcfc 0x7",
            $"writel {Bar0}00d8 0xffffffff",
            $"writel {Bar0}2800 0x100000", $"writel {Bar0}2804 0x0", $"writel {Bar0}2808 0x100", $"writel {Bar0}2810 0x0", $"writel {Bar0}2818 0x0",
            $"writel {Bar0}3800 0x1000000", $"writel {Bar0}3804 0x0", $"writel {Bar0}3808 0x4000", $"writel {Bar0}3810 0x0", $"writel {Bar0}3818 0x0",
            $"writel {Bar0}0400 0x4010a",
            $"writel {Bar0}0100 0x{(E1000Bits.RctlLbmMac | (receiveEnabled ? E1000Bits.RctlEn | E1000Bits.RctlUpe : 0)):x}",
        })
        {
            Assert.StartsWith("OK", emu.Send(line));
        }

        // 512 packets of 2^20 − 1 bytes: a context (HDRLEN 54, MSS 16250: 65 segments each) and one data descriptor.
        const int Payload = (1 << 20) - 1 - 54;
        string context = Convert.ToHexString(DataPlaneHarness.Context(14, 24, 33, 34, 50, 0, Payload, E1000Bits.TxdCmdTse | E1000Bits.TxdTucmdTcp | E1000Bits.TxdTucmdIp, 54, 16250));
        string data = Convert.ToHexString(DataPlaneHarness.Data(0x2000000, 54 + Payload, E1000Bits.TxdCmdTse | E1000Bits.TxdCmdEop, 0));
        for (int i = 0; i < 1024; i++)
        {
            Assert.StartsWith("OK", emu.Send($"write 0x{0x1000000 + (i * 16):x} 16 0x{(i % 2 == 0 ? context : data)}"));
        }

        Assert.StartsWith("OK", emu.Send("memset 0x2000000 1048576 0x5a"));
        long before = ResidentBytes(emu.ProcessId);
        Assert.StartsWith("OK", emu.Send($"writel {Bar0}3818 0x3ff"));
        Assert.Equal("OK 0x00000000000003ff", Normalize(emu.Send($"readl {Bar0}3810")));
        long after = ResidentBytes(emu.ProcessId);

        Assert.True(after - before < BoundBytes, $"resident memory grew by {(after - before) >> 20} MiB ({before >> 20} → {after >> 20} MiB)");
        Assert.Equal("OK 0x00000000000001ff", Normalize(emu.Send($"readl {Bar0}40f8")));   // TSCTC: 511 packets complete
        Assert.DoesNotContain("internal error", emu.Stderr);
    }

    private static string Normalize(string reply) => reply.StartsWith("OK 0x", StringComparison.Ordinal)
        ? "OK 0x" + Convert.ToUInt64(reply[5..], 16).ToString("x16", System.Globalization.CultureInfo.InvariantCulture)
        : reply;

    private static long ResidentBytes(int pid)
    {
        foreach (string line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line[6..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException("no VmRSS");
    }
}
