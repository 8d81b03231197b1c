using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Emu.Emulator.Wire;
using Emu.Host;
using Emu.Stack.Sockets;
using Emu.Stack.Tcp;
using Emu.Stack.Wire;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;
using EmuSocket = Emu.Stack.Sockets.Socket;

namespace Emu.Tests.Interop;

/// <summary>
/// TCP between our node (what <c>emu run</c> runs) and a real Linux 6.1 guest under QEMU on a socket netdev: the guest
/// sends 1 MiB through our echo service and gets it back identical; our node connects to a listener in the guest and
/// 1 MiB goes each way; busybox wget fetches our HTTP page and busybox nc reads chargen.
/// </summary>
[Trait("Category", "Qemu")]
[Collection(LinuxGuest.Collection)]
public sealed class TcpInteropTests
{
    private const string OurAddress = "fe80::5054:ff:fe12:3457";
    private const string GuestAddress = "fe80::5054:ff:fe12:3456";
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(180);

    private readonly ITestOutputHelper _log;

    public TcpInteropTests(ITestOutputHelper log)
    {
        _log = log;
    }

    [Fact]
    public void LinuxGuestAndOurNodeMoveAMebibyteEachWay()
    {
        LinuxGuest.EnsureInstalled(["socat"]);
        int port = FreePort();
        var output = new StringWriter();
        var runner = new NodeRunner(TextWriter.Synchronized(output));
        Assert.True(NetdevSpec.TryParse($"socket,listen=127.0.0.1:{port}", out NetdevSpec? spec, out _));
        var nodeThread = new Thread(() => runner.Run(Node.WithMac(EmuCommandLine.DefaultRunMac), spec!, null, CaptureFormat.PcapNg, TimeSpan.FromMinutes(5), NullLoggerFactory.Instance, CancellationToken.None))
        {
            IsBackground = true,
        };
        nodeThread.Start();
        Assert.True(runner.Started.Wait(TimeSpan.FromSeconds(30)), output.ToString());

        // The guest: wait for us, then 1 MiB through our echo, our web page, chargen; then it serves an echo itself
        // (socat ... EXEC:cat) for our node to connect to.
        string commands = $"""
            i=0; while [ $i -lt 30 ] && ! ping6 -c 1 -W 1 {OurAddress}%eth0 >/dev/null 2>&1; do i=$((i+1)); done
            dd if=/dev/urandom of=/tmp/in bs=1024 count=1024 2>/dev/null
            socat -t 10 - 'TCP6:[{OurAddress}%eth0]:7' < /tmp/in > /tmp/out
            echo "sent $(md5sum < /tmp/in | cut -d' ' -f1) got $(md5sum < /tmp/out | cut -d' ' -f1) bytes $(wc -c < /tmp/out)"
            wget -q -O - 'http://[{OurAddress}%eth0]/' | grep -o '<h1>Emu</h1>'
            nc {OurAddress}%eth0 19 | head -c 74 > /tmp/chargen; cat /tmp/chargen | head -1
            socat TCP6-LISTEN:9000,reuseaddr EXEC:cat &
            echo LISTENING
            wait
            """;
        using LinuxGuest guest = LinuxGuest.Start(LinuxGuestOptions.Connect($"127.0.0.1:{port}") with { Tools = ["socat"] }, commands, s_timeout);
        Assert.True(guest.WaitForOutput("LISTENING", s_timeout), guest.OutputSoFar + output);

        // Our node connects to the guest's echo and sends 1 MiB; what comes back must be the same.
        byte[] data = RandomNumberGenerator.GetBytes(1 << 20);
        var received = new MemoryStream();
        var done = new ManualResetEventSlim();
        int connectResult = int.MinValue;
        Thread.Sleep(500);   // the listener starts a moment after the guest prints LISTENING
        runner.Post(node =>
        {
            node.Ipv6.Sockets.Create(SockType.Stream, IpProto.Tcp, out EmuSocket? s);
            var socket = (TcpSocket)s!;
            int sent = 0;
            byte[] buffer = new byte[65536];
            void Pump()
            {
                while (sent < data.Length)
                {
                    int n = socket.Send(data.AsSpan(sent));
                    if (n <= 0)
                    {
                        break;
                    }

                    sent += n;
                }

                if (sent == data.Length && socket.State == TcpState.Established)
                {
                    socket.Shutdown(read: false, write: true);
                }

                int r;
                while ((r = socket.Receive(buffer)) > 0)
                {
                    received.Write(buffer, 0, r);
                }

                if (r == 0 || (r < 0 && r != -Errno.EAgain) || received.Length >= data.Length)
                {
                    socket.DataReady = null;
                    socket.WriteSpace = null;
                    done.Set();
                }
            }

            socket.WriteSpace = _ => Pump();
            socket.DataReady = _ => Pump();
            socket.StateChanged = (_, state) =>
            {
                if (state == TcpState.Established)
                {
                    connectResult = 0;
                    Pump();
                }
                else if (state == TcpState.Closed && connectResult != 0)
                {
                    connectResult = -socket.Error;
                    done.Set();
                }
            };
            socket.Connect(new Ipv6EndPoint(Ipv6Address.Parse(GuestAddress), 9000, node.Netdev!.IfIndex));
        });
        Assert.True(done.Wait(TimeSpan.FromSeconds(120)), $"transfer to the guest did not finish: {received.Length} bytes back, connect {connectResult}\n{guest.OutputSoFar}\n{output}");
        guest.Kill();
        LinuxGuestResult result = guest.Wait();
        runner.Stop();
        Assert.True(nodeThread.Join(TimeSpan.FromSeconds(30)));
        _log.WriteLine(result.Output);
        _log.WriteLine(output.ToString());

        Assert.Equal(0, connectResult);
        Assert.Equal(data, received.ToArray());
        Assert.Matches(@"sent (\w+) got \1 bytes 1048576", result.Output);
        Assert.Contains("<h1>Emu</h1>", result.Output, StringComparison.Ordinal);
        Assert.Contains(" !\"#$%&'()*+,-./0123456789", result.Output, StringComparison.Ordinal);
    }

    private static int FreePort()
    {
        using var probe = new System.Net.Sockets.Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}
