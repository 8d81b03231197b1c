using System.Buffers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Emu.Emulator.E1000;
using Emu.Emulator.Faults;

namespace Emu.Host.Faults;

/// <summary>
/// <c>--control PATH</c> (issue 21): a Unix socket taking JSON lines — <c>{"cmd":"arm","fault":"SPEC"}</c>,
/// <c>{"cmd":"disarm","id":N}</c>, <c>{"cmd":"list"}</c>, <c>{"cmd":"counters"}</c> — each answered with one JSON
/// line, <c>{"ok":true,...}</c> or <c>{"ok":false,"error":"..."}</c>. Lines are read and parsed on the socket's
/// threads; the plan is touched only by work posted to the node's loop (the plan is not thread-safe), and a malformed
/// SPEC or command changes nothing.
/// </summary>
public sealed class ControlSocket : IDisposable
{
    /// <summary>How long a command waits for the loop to run it.</summary>
    private static readonly TimeSpan LoopTimeout = TimeSpan.FromSeconds(5);

    private readonly string _path;
    private readonly FaultPlan _plan;
    private readonly Func<Action, bool> _post;
    private readonly E1000Statistics? _statistics;
    private readonly Socket _listener;
    private readonly Thread _acceptor;
    private volatile bool _disposed;

    private ControlSocket(string path, FaultPlan plan, Func<Action, bool> post, E1000Statistics? statistics, Socket listener)
    {
        _path = path;
        _plan = plan;
        _post = post;
        _statistics = statistics;
        _listener = listener;
        _acceptor = new Thread(AcceptLoop) { IsBackground = true, Name = "emu control " + path };
        _acceptor.Start();
    }

    /// <summary>
    /// Listens on <paramref name="path"/>. <paramref name="post"/> runs work on the node's loop (false when the loop is
    /// gone); <paramref name="statistics"/>, read there too, adds the device's drop counters to <c>counters</c>.
    /// </summary>
    public static bool TryStart(string path, FaultPlan plan, Func<Action, bool> post, E1000Statistics? statistics, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ControlSocket? control, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        control = null;
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            if (File.Exists(path) && !IsStale(path))
            {
                error = $"--control {path}: another process listens there";
                listener.Dispose();
                return false;
            }

            File.Delete(path);
            listener.Bind(new UnixDomainSocketEndPoint(path));
            listener.Listen(8);
        }
        catch (Exception e) when (e is SocketException or IOException or UnauthorizedAccessException)
        {
            listener.Dispose();
            error = $"--control {path}: {e.Message}";
            return false;
        }

        control = new ControlSocket(path, plan, post, statistics, listener);
        error = null;
        return true;
    }

    /// <summary>A socket file nobody accepts on (left by a process that died): safe to replace.</summary>
    private static bool IsStale(string path)
    {
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
            return false;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
        {
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Called on the node's loop with each command line that changed the plan (arm, disarm): <c>--record</c> keeps them.</summary>
    public Action<string>? Changed { get; set; }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _listener.Dispose();
        try
        {
            File.Delete(_path);
        }
        catch (IOException)
        {
        }
    }

    private void AcceptLoop()
    {
        while (!_disposed)
        {
            Socket client;
            try
            {
                client = _listener.Accept();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }

            new Thread(() => Serve(client)) { IsBackground = true, Name = "emu control client" }.Start();
        }
    }

    private void Serve(Socket client)
    {
        using (client)
        using (var stream = new NetworkStream(client, ownsSocket: false))
        using (var reader = new StreamReader(stream, Encoding.UTF8))
        using (var writer = new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = true, NewLine = "\n" })
        {
            try
            {
                while (!_disposed && reader.ReadLine() is { } line)
                {
                    if (line.Length > 0)
                    {
                        writer.WriteLine(Execute(line));
                    }
                }
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                // The client went away.
            }
        }
    }

    /// <summary>One command line to its answer line (never throws).</summary>
    public string Execute(string line)
    {
        if (!TryParseCommand(line, out string? cmd, out string? spec, out int id, out string? error))
        {
            return Error(error);
        }

        FaultSpec? parsed = null;
        if (cmd == "arm" && !FaultSpec.TryParse(spec!, out parsed, out error))
        {
            return Error(error);
        }

        // The plan (and the hooks its Changed event rebuilds) belong to the loop.
        string? answer = null;
        using var done = new ManualResetEventSlim();
        bool posted = _post(() =>
        {
            try
            {
                if (cmd is "arm" or "disarm")
                {
                    Changed?.Invoke(line);
                }

                answer = cmd switch
                {
                    "arm" => Ok(w => w.WriteNumber("id", _plan.Arm(parsed!).Id)),
                    "disarm" => _plan.Disarm(id) ? Ok(w => w.WriteNumber("id", id)) : Error($"no armed fault {id}"),
                    "list" => Ok(WriteList),
                    _ => Ok(WriteCounters),
                };
            }
            finally
            {
                done.Set();
            }
        });
        if (!posted || !done.Wait(LoopTimeout))
        {
            return Error("the node's loop did not run the command (stopped?)");
        }

        return answer!;
    }

    /// <summary>Applies a recorded arm or disarm line to <paramref name="plan"/> (replay); false with the reason when it does not parse.</summary>
    public static bool TryApply(FaultPlan plan, string line, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        if (!TryParseCommand(line, out string? cmd, out string? spec, out int id, out error))
        {
            return false;
        }

        switch (cmd)
        {
            case "arm":
                if (!FaultSpec.TryParse(spec!, out FaultSpec? parsed, out error))
                {
                    return false;
                }

                plan.Arm(parsed);
                return true;
            case "disarm":
                plan.Disarm(id);
                return true;
            default:
                error = $"'{cmd}' changes nothing";
                return false;
        }
    }

    private static bool TryParseCommand(string line, out string? cmd, out string? spec, out int id, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        cmd = null;
        spec = null;
        id = 0;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line, new JsonDocumentOptions { MaxDepth = 4 });
        }
        catch (JsonException)
        {
            error = "not a JSON object: send {\"cmd\":\"arm\",\"fault\":\"SPEC\"}, {\"cmd\":\"disarm\",\"id\":N}, {\"cmd\":\"list\"} or {\"cmd\":\"counters\"}";
            return false;
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("cmd", out JsonElement c) || c.ValueKind != JsonValueKind.String)
            {
                error = "a command is an object with a \"cmd\" string";
                return false;
            }

            cmd = c.GetString();
            switch (cmd)
            {
                case "arm":
                    if (!root.TryGetProperty("fault", out JsonElement f) || f.ValueKind != JsonValueKind.String)
                    {
                        error = "arm: give \"fault\":\"SPEC\"";
                        return false;
                    }

                    spec = f.GetString();
                    break;
                case "disarm":
                    if (!root.TryGetProperty("id", out JsonElement i) || i.ValueKind != JsonValueKind.Number || !i.TryGetInt32(out id))
                    {
                        error = "disarm: give \"id\":N";
                        return false;
                    }

                    break;
                case "list" or "counters":
                    break;
                default:
                    error = $"unknown command '{cmd}' (arm, disarm, list, counters)";
                    return false;
            }
        }

        error = null;
        return true;
    }

    private void WriteList(Utf8JsonWriter w)
    {
        w.WriteStartArray("faults");
        foreach (Fault fault in _plan.Faults)
        {
            w.WriteStartObject();
            w.WriteNumber("id", fault.Id);
            w.WriteString("kind", fault.Spec.Kind.Name);
            w.WriteString("spec", fault.Spec.Text);
            w.WriteBoolean("armed", fault.Armed);
            w.WriteNumber("eligible", fault.Eligible);
            w.WriteNumber("fired", fault.Fired);
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    private void WriteCounters(Utf8JsonWriter w)
    {
        w.WriteStartObject("counters");
        foreach (Fault fault in _plan.Faults)
        {
            w.WriteNumber(fault.Label, fault.Fired);
        }

        if (_statistics is { } s)
        {
            w.WriteNumber("RxDelivered", s.RxDelivered);
            w.WriteNumber("TxSent", s.TxSent);
            foreach (E1000DropReason reason in Enum.GetValues<E1000DropReason>())
            {
                w.WriteNumber(reason.ToString(), s[reason]);
            }
        }

        w.WriteEndObject();
    }

    private static string Ok(Action<Utf8JsonWriter> body) => Json(w =>
    {
        w.WriteBoolean("ok", true);
        body(w);
    });

    private static string Error(string message) => Json(w =>
    {
        w.WriteBoolean("ok", false);
        w.WriteString("error", message);
    });

    private static string Json(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>();
        // Relaxed escaping: answers are read by people too (quotes in error messages stay quotes; JSON stays valid).
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
