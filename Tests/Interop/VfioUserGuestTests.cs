using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Emu.Emulator.E1000;
using Emu.Emulator.Machine;
using Emu.Emulator.Wire;
using Emu.Host;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace Emu.Tests.Interop;

/// <summary>
/// Emu's 82540EM as the NIC of a real Linux 6.1 guest under QEMU 11 (vfio-user-pci attached to `emu device`), driven by
/// Linux's own e1000.ko: probe, link, DAD, ethtool (self-test, EEPROM, statistics), traffic to the in-process Emu node
/// — with shared guest RAM and with every DMA as a message — and the device's lifecycle (link down/up, module reload,
/// machine reset, a QEMU killed in the middle).
/// </summary>
[Trait("Category", "Qemu")]
[Collection(LinuxGuest.Collection)]
public sealed partial class VfioUserGuestTests
{
    private const string NodeAddress = "fe80::5054:ff:fe12:3457";
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(240);

    private readonly ITestOutputHelper _log;

    public VfioUserGuestTests(ITestOutputHelper log)
    {
        _log = log;
    }

    /// <summary>`emu device` in this process, on a fresh socket; disposed, it stops and removes the socket.</summary>
    private sealed class DeviceHost : IDisposable
    {
        private readonly Thread _thread;

        public DeviceHost(NetdevSpec? netdev = null, Emu.Host.Instruments.InstrumentOptions? instruments = null)
        {
            SocketPath = Path.Combine(Path.GetTempPath(), $"emu-vfio-{Guid.NewGuid():N}.sock");
            Runner = new DeviceRunner(TextWriter.Synchronized(Output));
            _thread = new Thread(() => Runner.Run(SocketPath, new MachineOptions(), netdev, null, CaptureFormat.PcapNg, TimeSpan.FromMinutes(10), NullLoggerFactory.Instance, CancellationToken.None, instruments: instruments))
            {
                IsBackground = true,
            };
            _thread.Start();
            Assert.True(Runner.Started.Wait(TimeSpan.FromSeconds(60)), Output.ToString());
        }

        public string SocketPath { get; }

        public DeviceRunner Runner { get; }

        public StringWriter Output { get; } = new();

        public void Dispose()
        {
            Runner.Stop();
            _thread.Join(TimeSpan.FromSeconds(30));
            File.Delete(SocketPath);
        }
    }

    private LinuxGuestResult RunGuest(DeviceHost host, string commands, LinuxGuestOptions? options = null)
    {
        LinuxGuestResult result = LinuxGuest.Run((options ?? LinuxGuestOptions.VfioUser(host.SocketPath)) with { Tools = ["ethtool", "socat"] }, commands, s_timeout);
        _log.WriteLine(result.Output);
        _log.WriteLine(host.Output.ToString());
        return result;
    }

    private static void Install()
    {
        LinuxGuest.EnsureInstalled(["ethtool", "socat"]);
    }

    [Fact]
    public void LinuxProbesOurDeviceAndItsOfflineSelfTestPassesAllFiveParts()
    {
        Install();
        using var host = new DeviceHost();
        LinuxGuestResult result = RunGuest(host, $"""
            dmesg | grep -E 'e1000|EEPROM|MAC Address'
            echo "addr: $(ip -6 addr show dev eth0 | grep 'inet6 fe80')"
            ethtool -i eth0
            ethtool -e eth0 raw on | od -An -tx1 -v | tr -d ' \n'; echo
            ping6 -c 3 {NodeAddress}%eth0 > /dev/null && echo PING-OK
            ethtool -S eth0 | grep -E ' (rx|tx)_packets:'
            ethtool -r eth0
            i=0; while [ $i -lt 50 ] && ! ip link show eth0 | grep -q LOWER_UP; do sleep 0.1; i=$((i+1)); done
            ethtool eth0 | grep -E 'Speed|Duplex|Link detected'
            ethtool -t eth0 offline; echo "self-test rc=$?"
            """);
        Assert.True(result.ExitCode == 0, result.ToString() + host.Output);
        string o = result.Output;
        Assert.Contains("e1000 0000:00:03.0 eth0: (PCI:33MHz:32-bit) 52:54:00:12:34:56", o, StringComparison.Ordinal);
        Assert.Contains("Intel(R) PRO/1000 Network Connection", o, StringComparison.Ordinal);
        Assert.Contains("NIC Link is Up 1000 Mbps Full Duplex", o, StringComparison.Ordinal);
        Assert.DoesNotContain("EEPROM Checksum Is Not Valid", o, StringComparison.Ordinal);
        Assert.DoesNotContain("Invalid MAC Address", o, StringComparison.Ordinal);
        Assert.Contains("driver: e1000", o, StringComparison.Ordinal);

        // DAD completed on our link: the link-local address from our MAC, neither tentative nor dadfailed.
        string addr = Regex.Match(o, "addr: (.*)").Groups[1].Value;
        Assert.Contains("inet6 fe80::5054:ff:fe12:3456/64", addr, StringComparison.Ordinal);
        Assert.DoesNotContain("tentative", addr, StringComparison.Ordinal);
        Assert.DoesNotContain("dadfailed", addr, StringComparison.Ordinal);

        // ethtool -e: our EEPROM image, word for word.
        string expected = Convert.ToHexString(EepromBytes(EepromImage.Default82540Em().WithMacAddress(MachineOptions.DefaultMac))).ToLowerInvariant();
        Assert.Contains(expected, o, StringComparison.Ordinal);

        Assert.Contains("PING-OK", o, StringComparison.Ordinal);
        Assert.True(int.Parse(Regex.Match(o, @"rx_packets: (\d+)").Groups[1].Value, CultureInfo.InvariantCulture) >= 3);
        Assert.True(int.Parse(Regex.Match(o, @"tx_packets: (\d+)").Groups[1].Value, CultureInfo.InvariantCulture) >= 3);
        Assert.Contains("Speed: 1000Mb/s", o, StringComparison.Ordinal);
        Assert.Contains("Link detected: yes", o, StringComparison.Ordinal);

        // Linux's e1000_diag_test: all five parts pass (on QEMU's own e1000 the register and loopback tests fail).
        Assert.Contains("The test result is PASS", o, StringComparison.Ordinal);
        foreach (string part in new[] { "Register test  (offline)", "Eeprom test    (offline)", "Interrupt test (offline)", "Loopback test  (offline)", "Link test   (on/offline)" })
        {
            Assert.Matches(new Regex(Regex.Escape(part) + @"\s+0\b"), o);
        }
    }

    [Fact]
    public void LinuxsOwnDriverTriggersNoCheckInProbeSelfTestTrafficAndRemove()
    {
        // emu device --check under Linux's e1000.ko: every rule silent through probe, ethtool -t, traffic both ways,
        // a link reset, an interface down/up and the module's removal.
        Install();
        string trace = Path.Combine(Path.GetTempPath(), $"emu-check-{Guid.NewGuid():N}.txt");
        try
        {
            var instruments = new Emu.Host.Instruments.InstrumentOptions { Check = true, Trace = "regs,desc,irq", TraceFile = new FileInfo(trace) };
            string summary;
            using (var host = new DeviceHost(instruments: instruments))
            {
                LinuxGuestResult result = RunGuest(host, $$"""
                    ping6 -c 3 {{NodeAddress}}%eth0 > /dev/null && echo PING-OK
                    ethtool -t eth0 offline; echo "self-test rc=$?"
                    i=0; while [ $i -lt 100 ] && ! ip link show eth0 | grep -q LOWER_UP; do sleep 0.1; i=$((i+1)); done
                    sleep 3
                    dd if=/dev/zero bs=1k count=256 2>/dev/null | socat -u - TCP6:[{{NodeAddress}}%eth0]:9 && echo TCP-OK
                    ping6 -c 20 -i 0.05 -s 1400 {{NodeAddress}}%eth0 > /dev/null && echo PING-LARGE-OK
                    ethtool -r eth0; sleep 1
                    ip link set eth0 down; ip link set eth0 up
                    i=0; while [ $i -lt 100 ] && ! ip link show eth0 | grep -q LOWER_UP; do sleep 0.1; i=$((i+1)); done
                    sleep 3
                    ping6 -c 2 {{NodeAddress}}%eth0 > /dev/null && echo PING-AGAIN-OK
                    rmmod e1000 && echo REMOVED
                    """);
                Assert.True(result.ExitCode == 0, result.ToString() + host.Output);
                foreach (string mark in new[] { "PING-OK", "The test result is PASS", "TCP-OK", "PING-LARGE-OK", "PING-AGAIN-OK", "REMOVED" })
                {
                    Assert.Contains(mark, result.Output, StringComparison.Ordinal);
                }

                host.Dispose();
                summary = host.Output.ToString();
            }

            string lines = File.ReadAllText(trace);
            File.Copy(trace, Path.Combine(Path.GetTempPath(), "emu-last-guest-check-trace.txt"), overwrite: true);
            _log.WriteLine(string.Join('\n', lines.Split('\n').Where(l => l.Contains("CHECK", StringComparison.Ordinal)).Take(50)));
            Assert.Contains("emu: --check: no warnings", summary, StringComparison.Ordinal);
            Assert.DoesNotContain(" CHECK ", lines, StringComparison.Ordinal);

            // The trace saw the driver at work: the self-test's register writes, descriptors, interrupts.
            Assert.Contains("W RCTL", lines, StringComparison.Ordinal);
            Assert.Contains("TXD[", lines, StringComparison.Ordinal);
            Assert.Contains("RXD[", lines, StringComparison.Ordinal);
            Assert.Contains("IRQ INTx high", lines, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(trace);
        }
    }

    private static byte[] EepromBytes(EepromImage image)
    {
        byte[] bytes = new byte[128];
        for (int i = 0; i < 64; i++)
        {
            bytes[2 * i] = (byte)image[i];
            bytes[(2 * i) + 1] = (byte)(image[i] >> 8);
        }

        return bytes;
    }

    private static string TrafficCommands => $"""
        for s in 56 1452 4000 20000; do ping6 -c 2 -s $s {NodeAddress}%eth0 | grep -q '2 packets received' && echo "ping $s ok"; done
        echo hello-udp | socat -t 3 - 'UDP6:[{NodeAddress}%eth0]:7'
        dd if=/dev/urandom of=/tmp/in bs=1M count=20 2>/dev/null
        socat -t 30 - 'TCP6:[{NodeAddress}%eth0]:7' < /tmp/in > /tmp/out
        echo "tcp sent $(md5sum < /tmp/in | cut -d' ' -f1) got $(md5sum < /tmp/out | cut -d' ' -f1) bytes $(wc -c < /tmp/out)"
        socat -u UDP6-RECV:9000 - > /tmp/udp & sleep 0.5; echo UDP-LISTENING
        i=0; while [ $i -lt 100 ] && ! grep -q from-node /tmp/udp; do sleep 0.1; i=$((i+1)); done; cat /tmp/udp
        """;

    private void AssertTraffic(string o, DeviceHost host)
    {
        foreach (int size in new[] { 56, 1452, 4000, 20000 })
        {
            Assert.Contains($"ping {size} ok", o, StringComparison.Ordinal);
        }

        Assert.Contains("hello-udp", o, StringComparison.Ordinal);
        Assert.Matches(@"tcp sent (\w+) got \1 bytes 20971520", o);
        Assert.Contains("from-node", o, StringComparison.Ordinal);
    }

    /// <summary>While the guest listens on UDP 9000, our node sends it a datagram.</summary>
    private static void SendFromNodeWhenListening(DeviceHost host, LinuxGuest guest)
    {
        if (!guest.WaitForOutput("UDP-LISTENING", s_timeout))
        {
            return;
        }

        for (int i = 0; i < 10 && !guest.OutputSoFar.Contains("from-node", StringComparison.Ordinal) && !guest.Completion.IsCompleted; i++)
        {
            host.Runner.Post(() =>
            {
                Node node = host.Runner.Peer!;
                node.Ipv6.Sockets.Create(Emu.Stack.Sockets.SockType.Dgram, 0, out Emu.Stack.Sockets.Socket? s);
                s!.SendTo("from-node\n"u8, new Emu.Stack.Sockets.Ipv6EndPoint(Emu.Stack.Wire.Ipv6Address.Parse("fe80::5054:ff:fe12:3456"), 9000, node.Netdev!.IfIndex));
                s.Dispose();
            });
            Thread.Sleep(500);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TrafficThroughOurDeviceWithSharedRamAndWithDmaMessages(bool sharedRam)
    {
        Install();
        using var host = new DeviceHost();
        using LinuxGuest guest = LinuxGuest.Start(LinuxGuestOptions.VfioUser(host.SocketPath) with { Tools = ["socat"], NoSharedRam = !sharedRam }, TrafficCommands, s_timeout);
        SendFromNodeWhenListening(host, guest);
        LinuxGuestResult result = guest.Wait();
        _log.WriteLine(result.Output);
        _log.WriteLine(host.Output.ToString());
        Assert.True(result.ExitCode == 0, result.ToString() + host.Output);
        AssertTraffic(result.Output, host);
        Assert.Equal(sharedRam, host.Runner.Server!.DmaMessages == 0);
    }

    [Fact]
    public void LinkDownUpModuleReloadAndMachineResetKeepWorking()
    {
        Install();
        using var host = new DeviceHost();
        string monitor = Path.Combine(Path.GetTempPath(), $"emu-mon-{Guid.NewGuid():N}.sock");
        string commands = $"""
            ip link set eth0 down; ip link set eth0 up
            i=0; while [ $i -lt 100 ] && ! ping6 -c 1 -W 1 {NodeAddress}%eth0 >/dev/null 2>&1; do sleep 0.2; i=$((i+1)); done
            ping6 -c 2 {NodeAddress}%eth0 | grep -q '2 packets received' && echo AFTER-LINK-OK
            rmmod e1000; insmod /lib/modules/e1000.ko
            i=0; while [ $i -lt 100 ] && ! ip link show eth0 >/dev/null 2>&1; do sleep 0.1; i=$((i+1)); done
            ip link set eth0 up
            i=0; while [ $i -lt 100 ] && ! ping6 -c 1 -W 1 {NodeAddress}%eth0 >/dev/null 2>&1; do sleep 0.2; i=$((i+1)); done
            ping6 -c 2 {NodeAddress}%eth0 | grep -q '2 packets received' && echo AFTER-RELOAD-OK
            echo BOOT-ROUND-DONE
            sleep 60
            """;
        using LinuxGuest guest = LinuxGuest.Start(LinuxGuestOptions.VfioUser(host.SocketPath) with { Monitor = monitor, AllowReboot = true }, commands, s_timeout);
        Assert.True(guest.WaitForOutput("BOOT-ROUND-DONE", s_timeout), guest.OutputSoFar + host.Output);
        long resetsBefore = host.Runner.Server!.Resets;

        // QEMU's system_reset: the machine resets (DEVICE_RESET to us) and the guest boots again on our device.
        using (var mon = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            mon.Connect(new UnixDomainSocketEndPoint(monitor));
            mon.Send(Encoding.ASCII.GetBytes("system_reset\n"));
            Thread.Sleep(500);
        }

        bool secondRound = SpinWait.SpinUntil(() => Regex.Matches(guest.OutputSoFar, "BOOT-ROUND-DONE").Count >= 2, s_timeout);
        string output = guest.OutputSoFar;
        guest.Kill();
        guest.Wait();
        File.Delete(monitor);
        _log.WriteLine(output);
        _log.WriteLine(host.Output.ToString());
        Assert.True(secondRound, output + host.Output);
        Assert.Equal(2, Regex.Matches(output, "AFTER-LINK-OK").Count);
        Assert.Equal(2, Regex.Matches(output, "AFTER-RELOAD-OK").Count);
        Assert.True(host.Runner.Server!.Resets > resetsBefore);
    }

    [Fact]
    public void WithANetdevTheDeviceCarriesTheGuestsTrafficToAnotherQemuGuest()
    {
        // emu device --netdev: our device's wire is a socket netdev; a second Linux guest on QEMU's own e1000
        // (MAC 52:54:00:12:34:58) is at the other end. The two Linux guests ping each other through our device.
        Install();
        int port;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            probe.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
            port = ((System.Net.IPEndPoint)probe.LocalEndPoint!).Port;
        }

        Assert.True(NetdevSpec.TryParse($"socket,listen=127.0.0.1:{port}", out NetdevSpec? spec, out _));
        using var host = new DeviceHost(spec);
        using LinuxGuest other = LinuxGuest.Start(LinuxGuestOptions.Connect($"127.0.0.1:{port}") with { Mac = "52:54:00:12:34:58" }, "sleep 60", s_timeout);
        LinuxGuestResult result = RunGuest(host, "i=0; while [ $i -lt 100 ] && ! ping6 -c 1 -W 1 fe80::5054:ff:fe12:3458%eth0 >/dev/null 2>&1; do sleep 0.2; i=$((i+1)); done\nping6 -c 3 -s 1400 fe80::5054:ff:fe12:3458%eth0");
        other.Kill();
        other.Wait();
        Assert.True(result.ExitCode == 0, result.ToString() + host.Output);
        Assert.Contains("3 packets transmitted, 3 packets received, 0% packet loss", result.Output, StringComparison.Ordinal);
        Assert.Null(host.Runner.Peer);
    }

    [Fact]
    public void QemuKilledInTheMiddleOfTrafficThenTheNextOneIsServed()
    {
        Install();
        using var host = new DeviceHost();
        using (LinuxGuest first = LinuxGuest.Start(LinuxGuestOptions.VfioUser(host.SocketPath), $"echo FLOODING; ping6 -i 0.01 -s 1000 {NodeAddress}%eth0", s_timeout))
        {
            Assert.True(first.WaitForOutput("FLOODING", s_timeout), first.OutputSoFar + host.Output);
            Thread.Sleep(2000);
            first.Kill();   // SIGKILL-like: QEMU goes without a goodbye
            first.Wait();
        }

        Assert.True(SpinWait.SpinUntil(() => host.Output.ToString().Contains("client disconnected", StringComparison.Ordinal), TimeSpan.FromSeconds(30)), host.Output.ToString());
        LinuxGuestResult second = RunGuest(host, $"ping6 -c 3 {NodeAddress}%eth0");
        Assert.True(second.ExitCode == 0, second.ToString() + host.Output);
        Assert.Contains("3 packets transmitted, 3 packets received", second.Output, StringComparison.Ordinal);
        Assert.True(host.Runner.Clients >= 2);
    }
}

/// <summary>`emu bench vfio-user` runs end to end (one short round; the figures are for README, not asserted).</summary>
[Trait("Category", "Qemu")]
[Collection(LinuxGuest.Collection)]
public sealed class VfioUserBenchTests
{
    [Fact]
    public void BenchMeasuresBothGuestsAndOurRegisterRoundTrips()
    {
        LinuxGuest.EnsureInstalled(["ethtool", "socat"]);
        Emu.Host.Bench.VfioUserBench.Result r = Emu.Host.Bench.VfioUserBench.Run(4, 1, TextWriter.Null);
        Assert.True(r.BuiltInMbps > 0 && r.OursMbps > 0, r.ToString());
        Assert.True(r.Reads > 1000 && r.Writes > 1000, r.ToString());   // Linux's register test, back to back
        Assert.InRange(r.ReadMicroseconds, 1, 100_000);
    }
}
