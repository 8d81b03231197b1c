using System.Net.Sockets;
using Emu.Emulator.Faults;
using Emu.Emulator.Machine;
using Emu.Emulator.Wire;
using Emu.Host;
using Microsoft.Extensions.Logging.Abstractions;

namespace Emu.Tests.Faults;

/// <summary>
/// <c>emu run --control PATH</c> with no fault on the command line: an empty plan that <c>emu fault</c> arms into,
/// lists and disarms while the node runs; what it armed shows in the JSON counters and the exit summary.
/// </summary>
public sealed class ControlRunTests
{
    private static (int Exit, string Out, string Err) Emu(params string[] args) => Tools.EmuCli.Run(string.Empty, args);

    [Fact]
    public void EmuFaultArmsListsAndDisarmsOnARunningNode()
    {
        string control = Path.Combine(Path.GetTempPath(), $"emu-control-{Guid.NewGuid():N}.sock");
        var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        Assert.True(NetdevSpec.TryParse($"socket,listen=127.0.0.1:{port}", out NetdevSpec? spec, out _));
        var output = new StringWriter { NewLine = "\n" };
        var runner = new NodeRunner(TextWriter.Synchronized(output)) { ControlPath = control };
        var plan = new FaultPlan(42);
        int exit = -1;
        var thread = new Thread(() => exit = runner.Run(Node.WithMac("52:54:00:12:34:57"), spec!, null, CaptureFormat.PcapNg, TimeSpan.FromMinutes(2), NullLoggerFactory.Instance, CancellationToken.None, faults: plan))
        {
            IsBackground = true,
        };
        thread.Start();
        try
        {
            Assert.True(runner.Started.Wait(TimeSpan.FromSeconds(60)), output.ToString());
            (int code, string armed, string err) = Emu("fault", "--control", control, "arm", "loss,prob=0.5,dir=tx");
            Assert.True(code == 0, err);
            Assert.Contains("\"id\":1", armed, StringComparison.Ordinal);

            (code, string listed, _) = Emu("fault", "--control", control, "list");
            Assert.Equal(0, code);
            Assert.Contains("loss,prob=0.5,dir=tx", listed, StringComparison.Ordinal);

            (code, _, err) = Emu("fault", "--control", control, "arm", "loss,prob=2");
            Assert.NotEqual(0, code);
            Assert.Contains("prob", err + listed, StringComparison.Ordinal);

            (code, _, _) = Emu("fault", "--control", control, "disarm", "1");
            Assert.Equal(0, code);
            (code, listed, _) = Emu("fault", "--control", control, "list");
            Assert.Equal(0, code);
            Assert.Contains("\"armed\":false", listed, StringComparison.Ordinal);
        }
        finally
        {
            runner.Stop();
            Assert.True(thread.Join(TimeSpan.FromSeconds(30)));
            File.Delete(control);
        }

        Assert.Equal(0, exit);
        string text = output.ToString();
        Assert.Contains($"emu: fault control on {control}", text, StringComparison.Ordinal);
        Assert.Contains("fault 1 loss: fired", text, StringComparison.Ordinal);
    }

    [Fact]
    public void ControlIsRefusedWhereTheDirectoryIsMissing()
    {
        (int code, _, string err) = Emu("run", "--control", "/nonexistent-dir/x/control.sock", "--duration", "1");
        Assert.Equal(2, code);
        Assert.Contains("--control /nonexistent-dir/x/control.sock: no such directory", err, StringComparison.Ordinal);
    }
}
