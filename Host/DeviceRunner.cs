using System.Globalization;
using System.Net.Sockets;
using Emu.Emulator.E1000;
using Emu.Emulator.Machine;
using Emu.Emulator.VfioUser;
using Emu.Emulator.Wire;
using Emu.Host.Status;
using Emu.Stack.Core;
using Emu.Stack.Wire;
using Microsoft.Extensions.Logging;

namespace Emu.Host;

/// <summary>
/// <c>emu device</c>: one 82540EM PCI function — the same device model as everywhere else — served over vfio-user on a
/// Unix socket, so that a QEMU guest's own driver drives it. Its wire is a QEMU netdev, or (by default) an in-process
/// Emu node (machine, e1000, driver, IPv6, the services of `emu run`) on the same virtual clock. One client at a time;
/// when it goes, the maps and IRQ descriptors go with it, the device keeps its state, and the next client is served.
/// </summary>
public sealed class DeviceRunner
{
    private readonly TextWriter _out;
    private readonly NodeLoop _loop = new();
    private readonly CultureInfo _c = CultureInfo.InvariantCulture;
    private readonly CancellationTokenSource _stopping = new();
    private VfioUserConnection? _current;
    private StatusReporter? _status;

    public DeviceRunner(TextWriter output)
    {
        _out = output;
    }

    /// <summary>The terminal to draw the live status view on (null: none; <c>--quiet</c> turns it off too).</summary>
    public TextWriter? LiveTerminal { get; init; }

    /// <summary>Where <c>--stats-json -</c> writes (default: the output given to the constructor).</summary>
    public TextWriter? StatsOutput { get; init; }

    /// <summary><c>--pcap -</c>: capture to this stream, flushed after each frame, when no capture file is given.</summary>
    public Stream? PcapStream { get; init; }

    public VfioUserServer? Server { get; private set; }

    /// <summary>The in-process node on the device's wire (null with --netdev).</summary>
    public Node? Peer { get; private set; }

    public ManualResetEventSlim Started { get; } = new();

    public long Clients { get; private set; }

    public bool Post(Action work) => _loop.Post(new LoopItem(LoopItemKind.Work, null, null, 0, null, work));

    public void Stop() => _loop.Post(new LoopItem(LoopItemKind.EndOfInput, null, null, 0, null));

    /// <summary><c>--control PATH</c>: the fault plan's live control socket (with a plan).</summary>
    public string? ControlPath { get; init; }

    public int Run(string socketPath, MachineOptions options, NetdevSpec? spec, FileInfo? pcap, CaptureFormat pcapFormat, TimeSpan? duration, ILoggerFactory loggers, CancellationToken stop, DirectoryInfo? www = null, Instruments.InstrumentOptions? instruments = null, Emu.Emulator.Faults.FaultPlan? faults = null)
    {
        var scheduler = new EventScheduler();
        EepromImage eeprom = options.Eeprom ?? EepromImage.Default82540Em().WithMacAddress(options.Mac);
        var device = new E1000Device(scheduler, eeprom, loggers.CreateLogger("Emu.E1000"), expansionRom: false);
        using var server = new VfioUserServer(device, loggers.CreateLogger("Emu.VfioUser"));
        Server = server;
        server.Wakeup = () => Post(() =>
        {
            server.ApplyResample();
            server.Pump();
        });
        scheduler.AfterEvent += server.SyncIntx;
        using NodeLoop loop = _loop;
        if (!Instruments.InstrumentSession.TryOpen(instruments ?? Instruments.InstrumentOptions.None, scheduler, Console.Error, out Instruments.InstrumentSession? session))
        {
            return 2;
        }

        using Instruments.InstrumentSession ownedSession = session;
        session.AttachDevice(device);
        using PacketCapture? capture = CaptureStreams.Open(pcap, PcapStream, scheduler, pcapFormat);
        device.Tap = capture;
        Emu.Emulator.Faults.FaultInjector? injector = Faults.FaultCommandOptions.Attach(device, faults, loggers, _out);
        if (!Faults.FaultCommandOptions.TryStartControl(ControlPath, faults, Post, device.Statistics, Console.Error, _out, out Faults.ControlSocket? control))
        {
            return 2;
        }

        using Faults.ControlSocket? ownedControl = control;

        // The wire: a netdev, or an Emu node of our own.
        Netdev? netdev = null;
        Emu.Host.Services.NodeServices? services = null;
        NetDevice? peerDev = null;
        if (spec is not null)
        {
            netdev = Netdev.Start(spec, loop, loggers.CreateLogger("Emu.Netdev"));
            device.Wire = netdev;
            netdev.Port = device;
            netdev.CarrierChanged = up => device.SetCarrier(up);
            if (spec.Kind == NetdevKind.Stream)
            {
                device.SetCarrier(false);
            }

            if (session.Options.TcpTrace is not null)
            {
                Say("emu device: --tcp-trace: with --netdev there is no Emu stack on the wire; no TCP events to write.");
            }
        }
        else
        {
            var peer = new Node(Node.WithMac(EmuCommandLine.DefaultRunMac), scheduler: scheduler, loggerFactory: loggers, ipv6Seed: Random.Shared.Next());
            Peer = peer;
            session.AttachNode(peer, "node");
            var link = new WireLink(scheduler);
            WireLink.Attach(link.A, device);
            WireLink.Attach(link.B, peer.Machine.Nic);
            peer.Kernel.Log.LineAdded += line => Say("node " + line);
            if (peer.Boot() != 1 || peer.Netdev is not { } dev || peer.Kernel.Net.DevOpen(dev) != 0)
            {
                Say("emu device: the in-process node did not come up; see its kernel log above.");
                return 1;
            }

            peerDev = dev;
            if (!session.TryAttachStack(peer.Ipv6, Console.Error, "node"))
            {
                return 2;
            }

            services = Emu.Host.Services.NodeServices.Start(peer.Ipv6, www, line => Say("emu device: " + line));
            peer.Ipv6.AddressChanged += (idev, ifa) => Say(ifa.DadFailed
                ? $"emu device: node {ifa.Address} failed duplicate address detection"
                : $"emu device: node {idev.Dev.Name}: {ifa.Address}/{ifa.PrefixLength} ready");
        }

        // The socket: one client at a time, the next one after a disconnect.
        if (File.Exists(socketPath))
        {
            File.Delete(socketPath);   // a stale socket from an earlier run
        }

        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(socketPath));
        listener.Listen(1);
        var acceptor = new Thread(() => AcceptLoop(listener, server, loggers))
        {
            IsBackground = true,
            Name = "vfio-user accept",
        };
        acceptor.Start();

        PrintBanner(socketPath, eeprom, spec, peerDev);
        var sources = new StatusSources(device, Peer, netdev?.Counters, Checks: session.Checker, Faults: faults is null ? null : new PlanFaultSource(faults));
        if (!StatusReporter.TryCreate(sources, scheduler, session.Options, StatsOutput ?? _out, LiveTerminal, "emu device", Console.Error, out StatusReporter? status))
        {
            listener.Close();
            _stopping.Cancel();
            services?.Dispose();
            netdev?.Dispose();
            return 2;
        }

        _status = status;
        status?.Start();
        Started.Set();
        TimeSpan elapsed = WallClockLoop.Run(scheduler, loop, item => netdev?.Deliver(item), () =>
        {
            server.SyncIntx();
            Peer?.Machine.SyncInterrupts();
        }, duration, stop, new LoopSocket(() => server.ConnectionFd, server.Pump));

        listener.Close();
        _stopping.Cancel();
        _current?.Dispose();
        status?.Dispose();
        if (session.Options.Summary == Instruments.SummaryFormat.Json)
        {
            lock (_out)
            {
                StatsJsonWriter.WriteLine(_out, StatusReporter.Capture(sources, scheduler, elapsed.TotalSeconds));
            }
        }
        else
        {
            Say(string.Create(_c, $"emu device: stopped after {elapsed.TotalSeconds:F1} s; {Clients} client(s), {server.Messages} messages, {server.ErrorReplies} error replies, {server.DmaMessages} DMA messages, {server.InterruptsSignalled} interrupts, {server.Resets} resets"));
            Say(string.Create(_c, $"  e1000     delivered {device.Statistics.RxDelivered}, sent {device.Statistics.TxSent}, dropped {device.Statistics.TotalDrops}"));
            if (services is not null)
            {
                Say($"  node tcp  {services.Summary}");
            }
        }

        services?.Dispose();

        netdev?.Dispose();
        session.WriteSummary(_out);
        Faults.FaultCommandOptions.WriteSummary(injector, _out);
        return EmuCommandLine.HaltedExit(device, Console.Error);
    }

    private void AcceptLoop(Socket listener, VfioUserServer server, ILoggerFactory loggers)
    {
        while (true)
        {
            Socket client;
            try
            {
                client = listener.Accept();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }

            // The raw descriptor is ours from here on: vfio-user needs recvmsg with SCM_RIGHTS.
            int fd = (int)client.SafeHandle.DangerousGetHandle();
            client.SafeHandle.SetHandleAsInvalid();
            var connection = new VfioUserConnection(fd, loggers.CreateLogger("Emu.VfioUser"));
            var gone = new ManualResetEventSlim();

            // Raised on the device loop, maybe deep inside a request: detach and close once that request is done.
            connection.Closed = reason =>
            {
                if (!Post(() =>
                {
                    if (ReferenceEquals(_current, connection))
                    {
                        server.Detach();
                        _current = null;
                        Say($"emu device: client disconnected ({reason}); the device keeps its state, waiting for the next one");
                    }

                    connection.Dispose();
                    gone.Set();
                }))
                {
                    gone.Set();
                }
            };
            if (!Post(() =>
            {
                Clients++;
                _current = connection;
                server.Attach(connection);
                Say("emu device: client connected");
            }))
            {
                connection.Dispose();
                return;
            }

            try
            {
                gone.Wait(_stopping.Token);   // one client at a time
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void PrintBanner(string socketPath, EepromImage eeprom, NetdevSpec? spec, NetDevice? peerDev)
    {
        string mac = string.Join(':', eeprom.MacAddress.GetAddressBytes().Select(b => b.ToString("x2", _c)));
        Say($"emu device: 82540EM (8086:100e) with MAC {mac} served over vfio-user on {socketPath}");
        if (peerDev is not null)
        {
            string nodeMac = string.Join(':', peerDev.DevAddr.Take(6).Select(b => b.ToString("x2", _c)));
            Say($"  wire      an Emu node: {peerDev.Name} {nodeMac}, {Ipv6Address.LinkLocalFromMac(peerDev.DevAddr)} (ping6, UDP echo 7, TCP echo 7, discard 9, chargen 19, HTTP 80)");
        }
        else
        {
            Say($"  wire      netdev {spec!.Text}");
        }

        Say("  QEMU      -machine pc,memory-backend=mem -object memory-backend-memfd,id=mem,size=256M,share=on -m 256M \\");
        Say($"            -device '{{\"driver\":\"vfio-user-pci\",\"socket\":{{\"path\":\"{socketPath}\",\"type\":\"unix\"}}}}'   (QEMU 10.1+)");
        Say("  stop      Ctrl-C or SIGTERM");
    }

    private void Say(string line)
    {
        if (_status?.TryWriteLine(line) == true)
        {
            return;
        }

        lock (_out)
        {
            _out.WriteLine(line);
            _out.Flush();
        }
    }
}
