using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Emu.Tests.Stack;
using Xunit.Abstractions;

namespace Emu.Tests.Interop;

/// <summary>
/// Tests/scripts/record-linux-capture.sh re-records Tests/captures/linux-to-linux.pcap (two Linux guests on one socket
/// netdev): a fresh recording holds the same session as the committed capture.
/// </summary>
[Trait("Category", "Qemu")]
[Collection(LinuxGuest.Collection)]
public sealed class CaptureRecordingTests
{
    private readonly ITestOutputHelper _log;

    public CaptureRecordingTests(ITestOutputHelper log)
    {
        _log = log;
    }

    [Fact]
    public async Task ReRecordingGivesTheCommittedSession()
    {
        LinuxGuest.EnsureInstalled();
        string dir = Directory.CreateTempSubdirectory("emu-capture-").FullName;
        try
        {
            string pcap = Path.Combine(dir, "wire.pcap");
            var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "scripts", "record-linux-capture.sh"));
            foreach (string arg in new[] { "--out", pcap, "--port", FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture), "--timeout", "240" })
            {
                start.ArgumentList.Add(arg);
            }

            using Process process = Process.Start(start)!;
            process.StandardInput.Close();
            Task<string> stdout = process.StandardOutput.ReadToEndAsync();
            Task<string> stderr = process.StandardError.ReadToEndAsync();
            using (var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(6)))
            {
                try
                {
                    await process.WaitForExitAsync(deadline.Token);
                }
                catch (OperationCanceledException)
                {
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync();
                }
            }

            string output = await stdout;
            string log = await stderr;
            _log.WriteLine(output);
            _log.WriteLine(log);
            Assert.True(process.ExitCode == 0, $"record-linux-capture.sh exited {process.ExitCode}:\n{output}\n{log}");

            SortedSet<string> recorded = CaptureSession.Facts(CaptureReplayTests.ReadPcap(pcap));
            SortedSet<string> committed = CaptureSession.Facts(CaptureReplayTests.ReadPcap(CaptureReplayTests.CapturePath()));
            Assert.Equal(string.Join('\n', committed), string.Join('\n', recorded));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}
