using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using Emu.Emulator.E1000;
using Emu.Emulator.Faults;
using Emu.Host;
using Emu.Host.Faults;
using Emu.Tests.Emulator;

namespace Emu.Tests.Faults;

/// <summary>The live control socket in-process: commands parsed on its threads, the plan changed on the node's loop, the <c>emu fault</c> client.</summary>
public sealed class ControlSocketTests : IDisposable
{
    private readonly BlockingCollection<Action> _work = [];
    private readonly Thread _loop;
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"emu-ctl-{Guid.NewGuid():N}.sock");
    private readonly FaultPlan _plan = new(5);
    private readonly List<int> _changedOn = [];
    private DataPlaneHarness? _nic;

    public ControlSocketTests()
    {
        _loop = new Thread(() =>
        {
            foreach (Action work in _work.GetConsumingEnumerable())
            {
                work();
            }
        })
        { IsBackground = true };
        _loop.Start();
        OnLoop(() =>
        {
            _nic = new DataPlaneHarness();
            NicFaults.Attach(_nic.Device, _plan);
            _plan.Changed += () => _changedOn.Add(Environment.CurrentManagedThreadId);
        });
    }

    public void Dispose()
    {
        _work.CompleteAdding();
        _loop.Join();
        _work.Dispose();
    }

    private bool Post(Action work)
    {
        _work.Add(work);
        return true;
    }

    private void OnLoop(Action work)
    {
        using var done = new ManualResetEventSlim();
        Post(() =>
        {
            work();
            done.Set();
        });
        Assert.True(done.Wait(TimeSpan.FromSeconds(10)));
    }

    private ControlSocket Start()
    {
        Assert.True(ControlSocket.TryStart(_path, _plan, Post, _nic!.Stats, out ControlSocket? control, out string? error), error);
        return control;
    }

    private (int Status, string Out, string Err) Emu(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int status = EmuCommandLine.Run(["fault", "--control", _path, .. args], TextReader.Null, stdout, stderr);
        return (status, stdout.ToString().Trim(), stderr.ToString().Trim());
    }

    [Fact]
    public void ArmOverTheSocketActsOnTheDeviceAndListAndCountersShowIt()
    {
        using ControlSocket control = Start();
        (int status, string answer, _) = Emu("arm", "rx-crc-error,times=1");
        Assert.Equal(0, status);
        Assert.Equal("{\"ok\":true,\"id\":1}", answer);
        Assert.Equal([_loop.ManagedThreadId], _changedOn);

        uint crcerrs = 0;
        OnLoop(() =>
        {
            _nic!.Receive(Frames.Ethernet(Frames.NicMac, 0x88B5, 100));
            crcerrs = _nic.Nic.Read(E1000Reg.Crcerrs);
        });
        Assert.Equal(1u, crcerrs);

        (status, answer, _) = Emu("list");
        Assert.Equal(0, status);
        Assert.Equal("{\"ok\":true,\"faults\":[{\"id\":1,\"kind\":\"rx-crc-error\",\"spec\":\"rx-crc-error,times=1\",\"armed\":true,\"eligible\":1,\"fired\":1}]}", answer);
        (status, answer, _) = Emu("counters");
        Assert.Equal(0, status);
        Assert.Contains("\"fault 1 rx-crc-error\":1", answer, StringComparison.Ordinal);
        Assert.Contains("\"RxCrcError\":1", answer, StringComparison.Ordinal);

        (status, answer, _) = Emu("disarm", "1");
        Assert.Equal((0, "{\"ok\":true,\"id\":1}"), (status, answer));
        (status, answer, _) = Emu("disarm", "1");
        Assert.Equal((1, "{\"ok\":false,\"error\":\"no armed fault 1\"}"), (status, answer));
        Assert.Equal(2, _changedOn.Count);
    }

    [Fact]
    public void AMalformedSpecOrCommandIsAOneLineErrorAndChangesNothing()
    {
        using ControlSocket control = Start();
        (int status, string answer, _) = Emu("arm", "rx-overrun,frames=zero");
        Assert.Equal(1, status);
        Assert.StartsWith("{\"ok\":false,\"error\":\"rx-overrun: frames=", answer, StringComparison.Ordinal);

        string[] lines = Raw("hello", "{\"cmd\":\"explode\"}", "{\"cmd\":\"disarm\",\"id\":\"x\"}", "{\"cmd\":\"arm\"}", "[1]");
        Assert.Equal(5, lines.Length);
        Assert.All(lines, l => Assert.StartsWith("{\"ok\":false,\"error\":", l, StringComparison.Ordinal));
        Assert.Contains("unknown command 'explode'", lines[1], StringComparison.Ordinal);
        Assert.Empty(_plan.Faults);
        Assert.Empty(_changedOn);
    }

    [Fact]
    public void OneConnectionCarriesManyCommands()
    {
        using ControlSocket control = Start();
        string[] lines = Raw("{\"cmd\":\"arm\",\"fault\":\"irq-lost\"}", "{\"cmd\":\"arm\",\"fault\":\"tx-hang,for=1ms\"}", "{\"cmd\":\"list\"}");
        Assert.Equal("{\"ok\":true,\"id\":1}", lines[0]);
        Assert.Equal("{\"ok\":true,\"id\":2}", lines[1]);
        Assert.Contains("\"spec\":\"tx-hang,for=1ms\"", lines[2], StringComparison.Ordinal);
    }

    [Fact]
    public void ASecondListenerOnTheSamePathIsRefusedAndAStaleSocketIsReplaced()
    {
        using (ControlSocket control = Start())
        {
            Assert.False(ControlSocket.TryStart(_path, _plan, Post, null, out _, out string? error));
            Assert.Contains("another process listens there", error, StringComparison.Ordinal);
        }

        // A socket file left behind by a process that died.
        using (var dead = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            dead.Bind(new UnixDomainSocketEndPoint(_path));
        }

        using ControlSocket again = Start();
        Assert.Equal(0, Emu("list").Status);
    }

    [Fact]
    public void TheClientSaysSoWhenNothingListens()
    {
        (int status, _, string err) = Emu("list");
        Assert.Equal(2, status);
        Assert.StartsWith($"emu fault: --control {_path}:", err, StringComparison.Ordinal);
    }

    private string[] Raw(params string[] commands)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint(_path));
        using var stream = new NetworkStream(socket);
        using var writer = new StreamWriter(stream, new UTF8Encoding(false)) { NewLine = "\n", AutoFlush = true };
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var answers = new List<string>();
        foreach (string command in commands)
        {
            writer.WriteLine(command);
            answers.Add(reader.ReadLine()!);
        }

        return [.. answers];
    }
}
