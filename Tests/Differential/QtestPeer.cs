using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.Sockets;

namespace Emu.Tests.Differential;

/// <summary>
/// The far end of a target's wire in the differential tests: a unix-socket stream server (QEMU's stream netdev
/// framing) that sends the frames a script asks for and records what the target transmits.
/// </summary>
public sealed class QtestPeer : IDisposable
{
    private readonly Socket _listener;
    private readonly BlockingCollection<byte[]> _received = [];
    private readonly string _directory;
    private Socket? _peer;
    private Thread? _reader;

    public QtestPeer()
    {
        _directory = Directory.CreateTempSubdirectory("emu-peer-").FullName;
        SocketPath = Path.Combine(_directory, "wire.sock");
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(SocketPath));
        _listener.Listen(1);
    }

    public string SocketPath { get; }

    /// <summary>The netdev spec a target uses to reach this peer.</summary>
    public string ClientSpec => $"stream,server=off,addr.type=unix,addr.path={SocketPath},reconnect-ms=100";

    public void WaitForConnection(TimeSpan timeout)
    {
        Task<Socket> accept = _listener.AcceptAsync();
        if (!accept.Wait(timeout))
        {
            throw new TimeoutException($"no target connected to {SocketPath} within {timeout.TotalSeconds} s");
        }

        _peer = accept.Result;
        _reader = new Thread(ReadLoop) { IsBackground = true, Name = "qtest peer" };
        _reader.Start();
    }

    /// <summary>Pulls the cable: closes the connection, then waits for the target to reconnect.</summary>
    public void Disconnect(TimeSpan timeout)
    {
        _peer!.Shutdown(SocketShutdown.Both);
        _peer.Dispose();
        _reader?.Join(TimeSpan.FromSeconds(2));
        WaitForConnection(timeout);
    }

    public void Send(byte[] frame)
    {
        byte[] buffer = new byte[frame.Length + 4];
        BinaryPrimitives.WriteUInt32BigEndian(buffer, (uint)frame.Length);
        frame.CopyTo(buffer, 4);
        _peer!.Send(buffer);
    }

    public byte[]? Receive(TimeSpan timeout) => _received.TryTake(out byte[]? frame, timeout) ? frame : null;

    public void Dispose()
    {
        _peer?.Dispose();
        _listener.Dispose();
        _reader?.Join(TimeSpan.FromSeconds(2));
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }

    private void ReadLoop()
    {
        byte[] header = new byte[4];
        try
        {
            while (true)
            {
                if (!ReadExactly(header))
                {
                    return;
                }

                byte[] frame = new byte[BinaryPrimitives.ReadUInt32BigEndian(header)];
                if (!ReadExactly(frame))
                {
                    return;
                }

                _received.Add(frame);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The target went away.
        }
    }

    private bool ReadExactly(byte[] buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = _peer!.Receive(buffer, total, buffer.Length - total, SocketFlags.None);
            if (n == 0)
            {
                return false;
            }

            total += n;
        }

        return true;
    }
}
