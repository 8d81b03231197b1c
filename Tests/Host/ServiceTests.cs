using System.Text;
using Emu.Emulator.Machine;
using Emu.Host.Services;
using Emu.Stack.Sockets;
using Emu.Stack.Tcp;
using Emu.Stack.Wire;
using Emu.Tests.Stack;

namespace Emu.Tests.Host;

/// <summary>emu run's TCP services on our stack: echo, discard, chargen and HTTP, several connections at once.</summary>
public sealed class ServiceTests
{
    private sealed class World
    {
        public World(DirectoryInfo? www = null)
        {
            Scheduler = new EventScheduler();
            (Client, Server) = StackNode.Pair(Scheduler);
            Assert.True(new EchoService().Start(Server.Ip, 7));
            Assert.True(new DiscardService().Start(Server.Ip, 9));
            Assert.True(new ChargenService().Start(Server.Ip, 19));
            Http = new HttpService(www);
            Assert.True(Http.Start(Server.Ip, 80));
        }

        public EventScheduler Scheduler { get; }

        public StackNode Client { get; }

        public StackNode Server { get; }

        public HttpService Http { get; }

        public TcpSocket Connect(ushort port)
        {
            TcpSocket s = TcpTests.Tcp(Client);
            Assert.Equal(-Errno.EInProgress, s.Connect(new Ipv6EndPoint(Server.LinkLocal, port, Client.Dev.IfIndex)));
            Assert.True(Scheduler.RunUntil(() => s.State == TcpState.Established, 1_000_000_000));
            return s;
        }

        /// <summary>Sends <paramref name="data"/> (if any), then reads until EOF or <paramref name="want"/> bytes.</summary>
        public byte[] Exchange(TcpSocket s, byte[] data, int want, bool shutdown)
        {
            var got = new List<byte>();
            int sent = 0;
            byte[] buffer = new byte[65536];
            for (int i = 0; i < 100_000 && got.Count < want; i++)
            {
                if (sent < data.Length)
                {
                    int n = s.Send(data.AsSpan(sent));
                    sent += Math.Max(0, n);
                    if (sent == data.Length && shutdown)
                    {
                        s.Shutdown(read: false, write: true);
                    }
                }

                Scheduler.RunFor(1_000_000);
                int r;
                while ((r = s.Receive(buffer)) > 0)
                {
                    got.AddRange(buffer.AsSpan(0, r).ToArray());
                }

                if (r == 0)
                {
                    break;
                }
            }

            return got.ToArray();
        }
    }

    [Fact]
    public void EchoReturnsAMegabyteOnEachOfThreeConnectionsAtOnce()
    {
        var w = new World();
        TcpSocket[] clients = [w.Connect(7), w.Connect(7), w.Connect(7)];
        byte[][] data = clients.Select((_, i) =>
        {
            byte[] d = new byte[1 << 20];
            new Random(i).NextBytes(d);
            return d;
        }).ToArray();
        var got = clients.Select(_ => new List<byte>()).ToArray();
        int[] sent = new int[3];
        byte[] buffer = new byte[65536];
        for (int round = 0; round < 100_000 && got.Any(g => g.Count < (1 << 20)); round++)
        {
            for (int i = 0; i < 3; i++)
            {
                if (sent[i] < data[i].Length)
                {
                    sent[i] += Math.Max(0, clients[i].Send(data[i].AsSpan(sent[i])));
                }

                int r;
                while ((r = clients[i].Receive(buffer)) > 0)
                {
                    got[i].AddRange(buffer.AsSpan(0, r).ToArray());
                }
            }

            w.Scheduler.RunFor(1_000_000);
        }

        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(data[i], got[i].ToArray());
        }
    }

    [Fact]
    public void DiscardTakesEverythingAndClosesAfterEof()
    {
        var w = new World();
        TcpSocket s = w.Connect(9);
        byte[] reply = w.Exchange(s, new byte[300_000], int.MaxValue, shutdown: true);
        Assert.Empty(reply);
        Assert.True(s.EndOfStream);
    }

    [Fact]
    public void ChargenSendsTheRfc864Pattern()
    {
        var w = new World();
        TcpSocket s = w.Connect(19);
        byte[] got = w.Exchange(s, [], 100_000, shutdown: false);
        Assert.True(got.Length >= 100_000);
        Assert.Equal(ChargenService.Expected(100_000), got[..100_000]);
        Assert.Equal(" !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefg\r\n", Encoding.ASCII.GetString(got, 0, 74));
        s.Dispose();
        w.Scheduler.RunFor(1_000_000_000);
        Assert.Equal(0, w.Server.Ip.Tcp.ConnectionCount);   // the server saw the RST of a close with unread data
    }

    [Fact]
    public void HttpServesTheIndexKeepsAliveAndRefusesWhatItCannotServe()
    {
        var w = new World();
        TcpSocket s = w.Connect(80);
        string response = Encoding.ASCII.GetString(w.Exchange(s, Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: x\r\n\r\nHEAD /index.html HTTP/1.1\r\nHost: x\r\n\r\nGET /nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), int.MaxValue, shutdown: false));
        int length = Encoding.UTF8.GetByteCount(HttpService.BuiltInIndex);
        Assert.StartsWith($"HTTP/1.1 200 OK\r\nServer: emu\r\nContent-Type: text/html\r\nContent-Length: {length}\r\n\r\n<!DOCTYPE html>", response);
        Assert.Contains($"HTTP/1.1 200 OK\r\nServer: emu\r\nContent-Type: text/html\r\nContent-Length: {length}\r\n\r\nHTTP/1.1 404 Not Found", response);   // HEAD: no body
        Assert.EndsWith("Connection: close\r\n\r\n404 not found\n", response);
        Assert.True(s.EndOfStream);

        TcpSocket bad = w.Connect(80);
        Assert.StartsWith("HTTP/1.1 405", Encoding.ASCII.GetString(w.Exchange(bad, Encoding.ASCII.GetBytes("DELETE / HTTP/1.1\r\n\r\n"), 10, shutdown: false)));
        TcpSocket garbage = w.Connect(80);
        Assert.StartsWith("HTTP/1.1 400", Encoding.ASCII.GetString(w.Exchange(garbage, Encoding.ASCII.GetBytes("hello\r\n\r\n"), int.MaxValue, shutdown: false)));
    }

    [Fact]
    public void HttpServesADirectoryAndNeverLeavesIt()
    {
        DirectoryInfo root = Directory.CreateTempSubdirectory("emu-www-");
        try
        {
            File.WriteAllText(Path.Combine(root.FullName, "index.html"), "<p>mine</p>");
            File.WriteAllText(Path.Combine(root.FullName, "a.txt"), "text");
            var w = new World(root);
            Assert.Equal((200, "text/html"), (w.Http.Resolve("GET", "/").Status, w.Http.Resolve("GET", "/").ContentType));
            Assert.Equal("text", Encoding.ASCII.GetString(w.Http.Resolve("GET", "/a.txt").Body));
            Assert.Equal(404, w.Http.Resolve("GET", "/../../etc/passwd").Status);
            Assert.Equal(404, w.Http.Resolve("GET", "/%2e%2e/%2e%2e/etc/passwd").Status);
            TcpSocket s = w.Connect(80);
            string response = Encoding.ASCII.GetString(w.Exchange(s, Encoding.ASCII.GetBytes("GET /a.txt HTTP/1.0\r\n\r\n"), int.MaxValue, shutdown: false));
            Assert.EndsWith("Content-Type: text/plain\r\nContent-Length: 4\r\nConnection: close\r\n\r\ntext", response);
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }
}
