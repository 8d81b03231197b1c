using System.Globalization;
using System.Text;
using Emu.Stack.Tcp;

namespace Emu.Host.Services;

/// <summary>
/// A small static HTTP/1.1 server (RFC 9110, RFC 9112): GET and HEAD of files under a directory (or a built-in
/// index page), Content-Length and Content-Type, persistent connections unless the client says "Connection: close"
/// (or speaks HTTP/1.0 without keep-alive), 400/404/405/431 for what it cannot serve. Paths never leave the directory.
/// </summary>
public sealed class HttpService : TcpService
{
    public const int MaxRequestHead = 8192;

    public HttpService(DirectoryInfo? root)
    {
        Root = root;
    }

    public DirectoryInfo? Root { get; }

    public override string Name => "http";

    /// <summary>The page served at / when no directory is given.</summary>
    public static string BuiltInIndex => """
        <!DOCTYPE html>
        <html><head><title>Emu</title></head>
        <body><h1>Emu</h1><p>An Intel 82540EM (e1000) emulator, its Linux driver model and an IPv6 stack, serving this page over its own TCP.</p></body></html>

        """;

    protected override TcpConnection Open(TcpSocket socket) => new Connection(socket, this);

    /// <summary>The answer to one request head: status, headers, body (null for HEAD).</summary>
    internal (int Status, string Reason, string ContentType, byte[] Body) Resolve(string method, string target)
    {
        if (method is not ("GET" or "HEAD"))
        {
            return (405, "Method Not Allowed", "text/plain", Encoding.ASCII.GetBytes("405 method not allowed\n"));
        }

        string path = Uri.UnescapeDataString(target.Split('?', 2)[0]);
        if (!path.StartsWith('/'))
        {
            return (400, "Bad Request", "text/plain", Encoding.ASCII.GetBytes("400 bad request\n"));
        }

        if (Root is null)
        {
            return path is "/" or "/index.html"
                ? (200, "OK", "text/html", Encoding.UTF8.GetBytes(BuiltInIndex))
                : NotFound();
        }

        string root = Path.GetFullPath(Root.FullName);
        string full = Path.GetFullPath(Path.Combine(root, path.TrimStart('/')));
        if (!full.StartsWith(root, StringComparison.Ordinal))
        {
            return NotFound();   // ../ out of the directory
        }

        if (Directory.Exists(full))
        {
            full = Path.Combine(full, "index.html");
        }

        if (!File.Exists(full))
        {
            return NotFound();
        }

        try
        {
            return (200, "OK", ContentType(full), File.ReadAllBytes(full));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return NotFound();
        }

        static (int, string, string, byte[]) NotFound() => (404, "Not Found", "text/plain", Encoding.ASCII.GetBytes("404 not found\n"));
    }

    private static string ContentType(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".html" or ".htm" => "text/html",
        ".txt" => "text/plain",
        ".css" => "text/css",
        ".js" => "text/javascript",
        ".json" => "application/json",
        ".png" => "image/png",
        ".jpg" or ".jpeg" => "image/jpeg",
        _ => "application/octet-stream",
    };

    private sealed class Connection(TcpSocket socket, HttpService service) : TcpConnection(socket)
    {
        private readonly byte[] _head = new byte[MaxRequestHead];
        private int _length;

        protected override void OnData(ReadOnlySpan<byte> data)
        {
            while (data.Length > 0)
            {
                int take = Math.Min(data.Length, _head.Length - _length);
                data[..take].CopyTo(_head.AsSpan(_length));
                _length += take;
                data = data[take..];
                while (TryRequest())
                {
                }

                if (_length == _head.Length)
                {
                    Respond(431, "Request Header Fields Too Large", "text/plain", Encoding.ASCII.GetBytes("431 request too large\n"), head: false, close: true);
                    return;
                }
            }
        }

        /// <summary>Serves one complete request head from the buffer, if there is one (pipelined requests in turn).</summary>
        private bool TryRequest()
        {
            int end = _head.AsSpan(0, _length).IndexOf("\r\n\r\n"u8);
            if (end < 0)
            {
                return false;
            }

            string text = Encoding.ASCII.GetString(_head, 0, end);
            int consumed = end + 4;
            _head.AsSpan(consumed, _length - consumed).CopyTo(_head);
            _length -= consumed;
            string[] lines = text.Split("\r\n");
            string[] request = lines[0].Split(' ');
            if (request.Length != 3 || !request[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
            {
                Respond(400, "Bad Request", "text/plain", Encoding.ASCII.GetBytes("400 bad request\n"), head: false, close: true);
                return false;
            }

            bool http10 = request[2] == "HTTP/1.0";
            string? connection = null;
            foreach (string line in lines.Skip(1))
            {
                int colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0 && line[..colon].Trim().Equals("Connection", StringComparison.OrdinalIgnoreCase))
                {
                    connection = line[(colon + 1)..].Trim().ToLowerInvariant();
                }
            }

            bool close = connection == "close" || (http10 && connection != "keep-alive");
            (int status, string reason, string type, byte[] body) = service.Resolve(request[0], request[1]);
            Respond(status, reason, type, body, head: request[0] == "HEAD", close);
            return !close;
        }

        private void Respond(int status, string reason, string type, byte[] body, bool head, bool close)
        {
            string header = string.Create(CultureInfo.InvariantCulture, $"HTTP/1.1 {status} {reason}\r\nServer: emu\r\nContent-Type: {type}\r\nContent-Length: {body.Length}\r\n{(close ? "Connection: close\r\n" : string.Empty)}\r\n");
            Write(Encoding.ASCII.GetBytes(header));
            if (!head)
            {
                Write(body);
            }

            if (close)
            {
                CloseWhenSent();
            }
        }
    }
}
