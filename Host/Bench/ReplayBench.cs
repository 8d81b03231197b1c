using System.Diagnostics;
using System.Net;
using Emu.Emulator.Replay;
using Emu.Emulator.Wire;
using Emu.Host.Replay;
using Emu.Stack.Sockets;
using Emu.Stack.Tcp;
using Emu.Stack.Wire;
using Microsoft.Extensions.Logging.Abstractions;

namespace Emu.Host.Bench;

/// <summary>
/// <c>emu bench replay</c> (issue 22): two <c>emu run</c> nodes on the wall clock over a loopback socket netdev, one
/// sending N MiB of TCP to the other's discard service, once without <c>--record</c> and once with it on the
/// receiver; then the trace replayed offline. What it measures: the session's wall time either way (the cost of
/// recording), the replay's time as a fraction of the recorded session's, and the trace's bytes per frame.
/// </summary>
public sealed class ReplayBench(int megabytes, int rounds = 3)
{
    private const string Receiver = "fe80::5054:ff:fe12:3457";

    public ReplayBenchResult Run()
    {
        DirectoryInfo dir = Directory.CreateTempSubdirectory("emu-bench-replay-");
        try
        {
            Session(null, out _, warmUp: true);   // past tiered JIT warm-up
            // Rounds interleaved, medians taken: two nodes and their netdev threads share this machine's cores.
            string trace = Path.Combine(dir.FullName, "session.trace");
            var plains = new List<TimeSpan>();
            var recordings = new List<TimeSpan>();
            long recordedVirtualNs = 0;
            for (int round = 0; round < rounds; round++)
            {
                plains.Add(Session(null, out _));
                recordings.Add(Session(trace, out recordedVirtualNs));
            }

            TimeSpan plain = plains.Order().ElementAt(rounds / 2);
            TimeSpan recorded = recordings.Order().ElementAt(rounds / 2);
            if (!TraceReader.TryOpen(trace, out TraceReader? reader, out string? error))
            {
                throw new InvalidOperationException(error);
            }

            var output = new StringWriter();
            var errors = new StringWriter();
            var wall = Stopwatch.StartNew();
            int status;
            RunReplayer replayer = new(output);
            using (reader)
            {
                status = replayer.Run(reader, null, CaptureFormat.PcapNg, null, [], NullLoggerFactory.Instance, errors);
            }

            TimeSpan replay = wall.Elapsed;
            long inputBytes = 0;
            if (TraceReader.TryOpen(trace, out TraceReader? again, out _))
            {
                using (again)
                {
                    while (again.TryNext(out TraceRecord record))
                    {
                        inputBytes += record.Kind == TraceRecordKind.FrameIn ? record.Payload.Length : 0;
                    }
                }
            }

            long framesIn = (long)(replayer.Node?.Machine.Nic.Statistics.RxDelivered ?? 0);
            return new ReplayBenchResult(megabytes, plain, recorded, replay, recordedVirtualNs, new FileInfo(trace).Length, inputBytes, framesIn, replayer.FramesOut, status == 0, (errors.ToString() + output).Trim());
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>One session; returns the wall time from the first byte sent to the last one received.</summary>
    private TimeSpan Session(string? trace, out long virtualNs, bool warmUp = false)
    {
        int port = FreePort();
        var outputA = new StringWriter();
        var a = new NodeRunner(TextWriter.Synchronized(outputA)) { RecordPath = trace, Ipv6Seed = 1, CommandLine = ["emu", "bench", "replay"] };
        Check(NetdevSpec.TryParse($"socket,listen=127.0.0.1:{port}", out NetdevSpec? listen, out _));
        var threadA = new Thread(() => a.Run(Node.WithMac("52:54:00:12:34:57"), listen!, null, CaptureFormat.PcapNg, TimeSpan.FromMinutes(10), NullLoggerFactory.Instance, CancellationToken.None)) { IsBackground = true };
        threadA.Start();
        Check(a.Started.Wait(TimeSpan.FromSeconds(30)));
        var outputB = new StringWriter();
        var b = new NodeRunner(TextWriter.Synchronized(outputB)) { Ipv6Seed = 2 };
        Check(NetdevSpec.TryParse($"socket,connect=127.0.0.1:{port}", out NetdevSpec? connect, out _));
        var threadB = new Thread(() => b.Run(Node.WithMac("52:54:00:12:34:56"), connect!, null, CaptureFormat.PcapNg, TimeSpan.FromMinutes(10), NullLoggerFactory.Instance, CancellationToken.None)) { IsBackground = true };
        threadB.Start();
        Check(b.Started.Wait(TimeSpan.FromSeconds(30)));
        Check(WaitFor(() => outputA.ToString().Contains(Receiver + "/64 ready", StringComparison.Ordinal) && outputB.ToString().Contains("fe80::5054:ff:fe12:3456/64 ready", StringComparison.Ordinal), TimeSpan.FromSeconds(30)));

        long bytes = warmUp ? Math.Min(8L << 20, (long)megabytes << 20) : (long)megabytes << 20;
        var done = new ManualResetEventSlim();
        var wall = Stopwatch.StartNew();
        b.Post(node => Send(node, bytes, done));
        Check(done.Wait(TimeSpan.FromMinutes(5)));
        TimeSpan elapsed = wall.Elapsed;
        long now = 0;
        var read = new ManualResetEventSlim();
        a.Post(node =>
        {
            now = node.Machine.Scheduler.Now;
            read.Set();
        });
        read.Wait(TimeSpan.FromSeconds(10));
        virtualNs = now;
        a.Stop();
        threadA.Join(TimeSpan.FromSeconds(30));
        b.Stop();
        threadB.Join(TimeSpan.FromSeconds(30));
        return elapsed;
    }

    /// <summary>On the sender's loop: connect to the receiver's discard port and write until all is acknowledged.</summary>
    private static void Send(Node node, long bytes, ManualResetEventSlim done)
    {
        byte[] data = new byte[4 << 20];   // 4 MiB of random bytes, so LZ4 finds no repeats within a block
        new Random(3).NextBytes(data);
        long sent = 0;
        node.Ipv6.Sockets.Create(SockType.Stream, IpProto.Tcp, out Socket? created);
        var socket = (TcpSocket)created!;
        void Pump(TcpSocket s)
        {
            int n;
            while (sent < bytes && (n = s.Send(data.AsSpan((int)(sent % data.Length), (int)Math.Min(Math.Min(64 * 1024, data.Length - (sent % data.Length)), bytes - sent)))) > 0)
            {
                sent += n;
            }

            if (sent == bytes && s.SendQueued == 0)
            {
                s.WriteSpace = null;
                s.Dispose();
                done.Set();
            }
        }

        socket.WriteSpace = Pump;
        socket.StateChanged = (s, state) =>
        {
            if (state == TcpState.Established)
            {
                Pump(s);
            }
        };
        socket.Connect(new Ipv6EndPoint(Ipv6Address.Parse(Receiver), 9, node.Netdev!.IfIndex));
    }

    private static void Check(bool condition)
    {
        if (!condition)
        {
            throw new InvalidOperationException("emu bench replay: the session did not come up or finish in time");
        }
    }

    private static bool WaitFor(Func<bool> condition, TimeSpan timeout)
    {
        var wall = Stopwatch.StartNew();
        while (!condition())
        {
            if (wall.Elapsed > timeout)
            {
                return false;
            }

            Thread.Sleep(10);
        }

        return true;
    }

    private static int FreePort()
    {
        using var probe = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}

/// <summary>One <see cref="ReplayBench"/> run.</summary>
public sealed record ReplayBenchResult(int Megabytes, TimeSpan Plain, TimeSpan Recorded, TimeSpan Replay, long VirtualNs, long TraceBytes, long InputBytes, long FramesIn, long FramesOut, bool Identical, string ReplayOutput)
{
    /// <summary>The replay's wall time over the recorded session's (from its start: virtual time follows the wall clock).</summary>
    public double ReplayFraction => Replay.TotalSeconds / (VirtualNs / 1e9);

    public double RecordOverhead => (Recorded.TotalSeconds / Plain.TotalSeconds) - 1;

    public double TraceBytesPerFrame => (FramesIn + FramesOut) == 0 ? 0 : (double)TraceBytes / FramesIn;
}
