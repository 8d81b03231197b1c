using System.Globalization;

namespace Emu.Emulator.Wire;

/// <summary>
/// A QEMU <c>-netdev</c> specification, in the syntax QEMU users type (a spec pasted from a QEMU command line works;
/// <c>id=</c> is accepted and ignored): <c>socket,listen=H:P</c>, <c>socket,connect=H:P</c>,
/// <c>socket,udp=H:P,localaddr=H:P</c>, <c>stream,server=on|off,addr.type=inet|unix,...[,reconnect-ms=N]</c>,
/// <c>dgram,local.type=inet|unix,...,remote.type=inet|unix,...</c>. Parsing never throws: it gives a spec or a reason.
/// </summary>
public sealed record NetdevSpec(string Text, NetdevKind Kind, bool Server, NetdevEndpoint? Local, NetdevEndpoint? Remote, int ReconnectMs)
{
    public static bool TryParse(string text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out NetdevSpec? spec, out string? error)
    {
        spec = null;
        string trimmed = text.Trim();
        if (trimmed.StartsWith("-netdev ", StringComparison.Ordinal))
        {
            trimmed = trimmed["-netdev ".Length..].Trim();
        }

        string[] parts = trimmed.Split(',');
        string type = parts[0];
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 1; i < parts.Length; i++)
        {
            int eq = parts[i].IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                error = $"'{parts[i]}' is not key=value";
                return false;
            }

            string key = parts[i][..eq];
            if (!options.TryAdd(key, parts[i][(eq + 1)..]))
            {
                error = $"'{key}' is given twice";
                return false;
            }
        }

        options.Remove("id");
        error = type switch
        {
            "socket" => ParseSocket(text, options, out spec),
            "stream" => ParseStream(text, options, out spec),
            "dgram" => ParseDgram(text, options, out spec),
            "" => "no netdev type (socket, stream or dgram)",
            _ => $"netdev type '{type}' is not supported (socket, stream or dgram)",
        };
        return error is null;
    }

    /// <summary>
    /// The <c>-netdev</c> a QEMU needs to be this spec's peer, in the same family of syntax: a listener gets a
    /// connector, a server a client, and a datagram pair its addresses swapped.
    /// </summary>
    public string PeerSpec(string id)
    {
        string head = Text.TrimStart();
        if (head.StartsWith("-netdev ", StringComparison.Ordinal))
        {
            head = head["-netdev ".Length..].TrimStart();
        }

        bool socketSyntax = head.StartsWith("socket", StringComparison.Ordinal);
        if (Kind == NetdevKind.Datagram)
        {
            return socketSyntax
                ? $"socket,id={id},udp={HostPort(Local!)},localaddr={HostPort(Remote!)}"
                : $"dgram,id={id},{Addr("local", Remote!)},{Addr("remote", Local!)}";
        }

        if (socketSyntax)
        {
            return Server ? $"socket,id={id},connect={HostPort(Local!)}" : $"socket,id={id},listen={HostPort(Remote!)}";
        }

        NetdevEndpoint endpoint = Server ? Local! : Remote!;
        return $"stream,id={id},server={(Server ? "off" : "on")},{Addr("addr", endpoint)}";
    }

    private static string HostPort(NetdevEndpoint e) => $"{(string.IsNullOrEmpty(e.Host) || e.Host is "0.0.0.0" or "::" ? "127.0.0.1" : e.Host)}:{e.Port.ToString(CultureInfo.InvariantCulture)}";

    private static string Addr(string prefix, NetdevEndpoint e)
    {
        if (e.IsUnix)
        {
            return $"{prefix}.type=unix,{prefix}.path={e.UnixPath}";
        }

        string host = string.IsNullOrEmpty(e.Host) || e.Host is "0.0.0.0" or "::" ? "127.0.0.1" : e.Host;
        return $"{prefix}.type=inet,{prefix}.host={host},{prefix}.port={e.Port.ToString(CultureInfo.InvariantCulture)}";
    }

    private static string? ParseSocket(string text, Dictionary<string, string> o, out NetdevSpec? spec)
    {
        spec = null;
        if (o.ContainsKey("mcast") || o.ContainsKey("fd"))
        {
            return "socket,mcast= and socket,fd= are not supported (use listen=, connect=, udp= or a stream/dgram netdev)";
        }

        string? unknown = Unknown(o, "listen", "connect", "udp", "localaddr");
        if (unknown is not null)
        {
            return unknown;
        }

        int modes = (o.ContainsKey("listen") ? 1 : 0) + (o.ContainsKey("connect") ? 1 : 0) + (o.ContainsKey("udp") ? 1 : 0);
        if (modes != 1)
        {
            return "socket needs exactly one of listen=, connect= or udp=";
        }

        if (o.TryGetValue("listen", out string? listen))
        {
            if (o.ContainsKey("localaddr"))
            {
                return "localaddr= goes with udp= only";
            }

            string? e = ParseHostPort(listen, "listen", allowEmptyHost: true, out NetdevEndpoint? local);
            spec = e is null ? new NetdevSpec(text, NetdevKind.Stream, true, local, null, 0) : null;
            return e;
        }

        if (o.TryGetValue("connect", out string? connect))
        {
            if (o.ContainsKey("localaddr"))
            {
                return "localaddr= goes with udp= only";
            }

            string? e = ParseHostPort(connect, "connect", allowEmptyHost: false, out NetdevEndpoint? remote);
            spec = e is null ? new NetdevSpec(text, NetdevKind.Stream, false, null, remote, 0) : null;
            return e;
        }

        if (!o.TryGetValue("localaddr", out string? localAddress))
        {
            return "socket,udp= needs localaddr=host:port";
        }

        string? error = ParseHostPort(o["udp"], "udp", allowEmptyHost: false, out NetdevEndpoint? udpRemote);
        if (error is not null)
        {
            return error;
        }

        error = ParseHostPort(localAddress, "localaddr", allowEmptyHost: true, out NetdevEndpoint? udpLocal);
        if (error is not null)
        {
            return error;
        }

        spec = new NetdevSpec(text, NetdevKind.Datagram, false, udpLocal, udpRemote, 0);
        return null;
    }

    private static string? ParseStream(string text, Dictionary<string, string> o, out NetdevSpec? spec)
    {
        spec = null;
        string? unknown = Unknown(o, "server", "addr.type", "addr.host", "addr.port", "addr.path", "reconnect-ms");
        if (unknown is not null)
        {
            return unknown;
        }

        bool server = false;
        if (o.TryGetValue("server", out string? s))
        {
            if (!TryParseBool(s, out server))
            {
                return $"server='{s}' is not on or off";
            }
        }

        int reconnect = 0;
        if (o.TryGetValue("reconnect-ms", out string? r))
        {
            if (!int.TryParse(r, NumberStyles.None, CultureInfo.InvariantCulture, out reconnect))
            {
                return $"reconnect-ms='{r}' is not a number of milliseconds";
            }

            if (server)
            {
                return "'reconnect-ms' option is incompatible with socket in server mode";
            }
        }

        string? error = ParseAddress(o, "addr", out NetdevEndpoint? address);
        if (error is not null)
        {
            return error;
        }

        spec = new NetdevSpec(text, NetdevKind.Stream, server, server ? address : null, server ? null : address, reconnect);
        return null;
    }

    private static string? ParseDgram(string text, Dictionary<string, string> o, out NetdevSpec? spec)
    {
        spec = null;
        string? unknown = Unknown(o, "local.type", "local.host", "local.port", "local.path", "remote.type", "remote.host", "remote.port", "remote.path");
        if (unknown is not null)
        {
            return unknown;
        }

        if (!o.ContainsKey("local.type"))
        {
            return "dgram requires local= parameter";
        }

        if (!o.ContainsKey("remote.type"))
        {
            return "type=inet or type=unix requires remote parameter";
        }

        if (o["local.type"] != o["remote.type"])
        {
            return "remote and local types must be the same";
        }

        string? error = ParseAddress(o, "local", out NetdevEndpoint? local);
        if (error is not null)
        {
            return error;
        }

        error = ParseAddress(o, "remote", out NetdevEndpoint? remote);
        if (error is not null)
        {
            return error;
        }

        spec = new NetdevSpec(text, NetdevKind.Datagram, false, local, remote, 0);
        return null;
    }

    private static string? ParseAddress(Dictionary<string, string> o, string prefix, out NetdevEndpoint? endpoint)
    {
        endpoint = null;
        if (!o.TryGetValue(prefix + ".type", out string? type))
        {
            return $"{prefix}.type= is required (inet or unix)";
        }

        switch (type)
        {
            case "inet":
                if (!o.TryGetValue(prefix + ".host", out string? host) || !o.TryGetValue(prefix + ".port", out string? port))
                {
                    return $"{prefix}.type=inet needs {prefix}.host= and {prefix}.port=";
                }

                if (o.ContainsKey(prefix + ".path"))
                {
                    return $"{prefix}.path= goes with {prefix}.type=unix";
                }

                if (!TryParsePort(port, out int p))
                {
                    return $"{prefix}.port='{port}' is not a port number";
                }

                endpoint = new NetdevEndpoint(host, p, null);
                return null;
            case "unix":
                if (!o.TryGetValue(prefix + ".path", out string? path) || path.Length == 0)
                {
                    return $"{prefix}.type=unix needs {prefix}.path=";
                }

                if (o.ContainsKey(prefix + ".host") || o.ContainsKey(prefix + ".port"))
                {
                    return $"{prefix}.host= and {prefix}.port= go with {prefix}.type=inet";
                }

                endpoint = new NetdevEndpoint(null, 0, path);
                return null;
            default:
                return $"{prefix}.type='{type}' is not supported (inet or unix)";
        }
    }

    private static string? ParseHostPort(string value, string key, bool allowEmptyHost, out NetdevEndpoint? endpoint)
    {
        endpoint = null;
        int colon = value.LastIndexOf(':');
        if (colon < 0)
        {
            return $"{key}='{value}' is not host:port";
        }

        string host = value[..colon];
        if (host.Length == 0 && !allowEmptyHost)
        {
            return $"{key}='{value}' has no host";
        }

        if (!TryParsePort(value[(colon + 1)..], out int port))
        {
            return $"{key}='{value}' has no valid port";
        }

        endpoint = new NetdevEndpoint(host, port, null);
        return null;
    }

    /// <summary>QEMU parses ports with strtol base 0: 0x… hex, a leading 0 octal.</summary>
    private static bool TryParsePort(string text, out int port)
    {
        port = 0;
        int radix = 10;
        string digits = text;
        if (digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            radix = 16;
            digits = digits[2..];
        }
        else if (digits.Length > 1 && digits[0] == '0')
        {
            radix = 8;
            digits = digits[1..];
        }

        if (digits.Length == 0 || digits.Length > 6)
        {
            return false;
        }

        try
        {
            port = Convert.ToInt32(digits, radix);
        }
        catch (FormatException)
        {
            return false;
        }

        return port is >= 0 and <= 65535;
    }

    private static bool TryParseBool(string text, out bool value)
    {
        value = text is "on" or "true" or "yes";
        return value || text is "off" or "false" or "no";
    }

    private static string? Unknown(Dictionary<string, string> options, params string[] known)
    {
        foreach (string key in options.Keys)
        {
            if (Array.IndexOf(known, key) < 0)
            {
                return $"parameter '{key}' is unexpected";
            }
        }

        return null;
    }
}
