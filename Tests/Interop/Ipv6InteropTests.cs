using System.Net;
using System.Net.Sockets;
using System.Text;
using Emu.Host;
using Emu.Emulator.Wire;
using Emu.Stack.Ipv6;
using Emu.Stack.Wire;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;
using EmuSockets = Emu.Stack.Sockets;

namespace Emu.Tests.Interop;

/// <summary>
/// Our node (machine, e1000, driver, IPv6 stack — what <c>emu run</c> runs) on one end of a QEMU socket netdev, a real
/// Linux 6.1 guest with its own e1000 driver and IPv6 stack on the other: ping6 both ways (with fragments), the
/// all-nodes group, UDP both ways.
/// </summary>
[Trait("Category", "Qemu")]
[Collection(LinuxGuest.Collection)]
public sealed class Ipv6InteropTests
{
    private const string OurAddress = "fe80::5054:ff:fe12:3457";
    private const string GuestAddress = "fe80::5054:ff:fe12:3456";
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(150);

    private readonly ITestOutputHelper _log;

    public Ipv6InteropTests(ITestOutputHelper log)
    {
        _log = log;
    }

    [Fact]
    public void LinuxGuestAndOurNodePingAndExchangeUdp()
    {
        LinuxGuest.EnsureInstalled(["socat"]);
        int port = FreePort();
        var output = new SynchronizedWriter();
        var runner = new NodeRunner(output);
        Assert.True(NetdevSpec.TryParse($"socket,listen=127.0.0.1:{port}", out NetdevSpec? spec, out _));
        var nodeThread = new Thread(() => runner.Run(Node.WithMac(EmuCommandLine.DefaultRunMac), spec!, null, CaptureFormat.PcapNg, TimeSpan.FromMinutes(4), NullLoggerFactory.Instance, CancellationToken.None))
        {
            IsBackground = true,
            Name = "emu node",
        };
        nodeThread.Start();
        Assert.True(runner.Started.Wait(TimeSpan.FromSeconds(30)), output.ToString());

        string commands = $"""
            i=0; while [ $i -lt 30 ] && ! ping6 -c 1 -W 1 {OurAddress}%eth0 >/dev/null 2>&1; do i=$((i+1)); done
            ping6 -c 3 {OurAddress}%eth0
            ping6 -c 2 -s 1452 {OurAddress}%eth0
            ping6 -c 2 -s 4000 {OurAddress}%eth0
            ping6 -c 2 ff02::1%eth0
            echo hello-from-linux | socat -t 2 - 'UDP6:[{OurAddress}%eth0]:7'
            echo
            socat -u UDP6-RECV:9000 - > /tmp/udp.txt &
            sleep 0.3
            echo READY
            i=0; while [ $i -lt 150 ] && ! grep -q hello-from-emu /tmp/udp.txt; do sleep 0.1; i=$((i+1)); done
            cat /tmp/udp.txt; echo
            awk '/^Icmp6InEchos |^Icmp6OutEchoReplies |^Ip6ReasmOKs /' /proc/net/snmp6
            """;
        using LinuxGuest guest = LinuxGuest.Start(LinuxGuestOptions.Connect($"127.0.0.1:{port}") with { Tools = ["socat"] }, commands, s_timeout);

        // When the guest listens, our node pings it (three echo requests) and sends it a datagram.
        bool ready = guest.WaitForOutput("READY", s_timeout);
        int replies = 0;
        if (ready)
        {
            runner.Post(node =>
            {
                node.Ipv6.IcmpReceived += (src, dst, type, code, m) =>
                {
                    if (type == Ipv6Stack.IcmpEchoReply && src == Ipv6Address.Parse(GuestAddress))
                    {
                        Interlocked.Increment(ref replies);
                    }
                };
                for (ushort seq = 1; seq <= 3; seq++)
                {
                    node.Ipv6.SendEcho(Ipv6Address.Parse(GuestAddress), 0x77, seq, new byte[56]);
                }
            });

            // The guest's listener starts a moment after READY: send until it has the datagram.
            for (int i = 0; i < 20 && !guest.OutputSoFar.Contains("hello-from-emu", StringComparison.Ordinal) && !guest.Completion.IsCompleted; i++)
            {
                runner.Post(node =>
                {
                    node.Ipv6.Sockets.Create(EmuSockets.SockType.Dgram, 0, out EmuSockets.Socket? s);
                    s!.SendTo("hello-from-emu"u8, new EmuSockets.Ipv6EndPoint(Ipv6Address.Parse(GuestAddress), 9000, node.Netdev!.IfIndex));
                    s.Dispose();
                });
                Thread.Sleep(500);
            }
        }

        LinuxGuestResult result = guest.Wait();
        runner.Stop();
        Assert.True(nodeThread.Join(TimeSpan.FromSeconds(30)));
        _log.WriteLine(result.Output);
        _log.WriteLine(output.ToString());

        Assert.True(result.ExitCode == 0, result.ToString() + "\n" + output);
        Assert.Contains("3 packets transmitted, 3 packets received, 0% packet loss", result.Output, StringComparison.Ordinal);
        Assert.Contains($"1460 bytes from {OurAddress}", result.Output, StringComparison.Ordinal);   // -s 1452: one full-size frame
        Assert.Contains($"4008 bytes from {OurAddress}", result.Output, StringComparison.Ordinal);   // -s 4000: fragments both ways
        Assert.True(CountOf(result.Output, "2 packets transmitted, 2 packets received") >= 3, result.Output);   // 1452, 4000, all-nodes
        Assert.Contains($"bytes from {OurAddress}", result.Output[result.Output.IndexOf("ff02::1", StringComparison.Ordinal)..], StringComparison.Ordinal);   // we answer the all-nodes group
        Assert.Contains("hello-from-linux\n", result.Output, StringComparison.Ordinal);   // our UDP echo service answered
        Assert.Contains("hello-from-emu", result.Output, StringComparison.Ordinal);       // the guest received our datagram
        Assert.Equal(3, Volatile.Read(ref replies));                                       // and answered our pings
        Assert.Contains("emu run: eth0: fe80::5054:ff:fe12:3457/64 ready", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("Ip6ReasmOKs", output.ToString(), StringComparison.Ordinal);       // the 4008-byte pings came in fragments
    }

    private static int CountOf(string text, string part)
    {
        int n = 0;
        for (int i = text.IndexOf(part, StringComparison.Ordinal); i >= 0; i = text.IndexOf(part, i + 1, StringComparison.Ordinal))
        {
            n++;
        }

        return n;
    }

    private static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    /// <summary>A TextWriter that several threads may write to and the test may read.</summary>
    private sealed class SynchronizedWriter : TextWriter
    {
        private readonly StringBuilder _text = new();

        public override Encoding Encoding => Encoding.UTF8;

        public override void Write(char value)
        {
            lock (_text)
            {
                _text.Append(value);
            }
        }

        public override void Write(string? value)
        {
            lock (_text)
            {
                _text.Append(value);
            }
        }

        public override string ToString()
        {
            lock (_text)
            {
                return _text.ToString();
            }
        }
    }
}
