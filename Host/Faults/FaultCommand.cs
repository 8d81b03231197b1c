using System.CommandLine;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Emu.Host.Faults;

/// <summary>
/// <c>emu fault --control PATH arm SPEC | disarm ID | list | counters</c>: the client of a running node's control
/// socket (<see cref="ControlSocket"/>). Sends one command, prints the answer line; exit status 0 when the answer is
/// ok, 1 when it is an error, 2 when the socket cannot be reached.
/// </summary>
internal static class FaultCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var control = new Option<string>("--control")
        {
            HelpName = "PATH",
            Description = "The control socket of a running emu run / emu device (its --control PATH).",
            Required = true,
            Recursive = true,
        };
        var spec = new Argument<string>("SPEC") { Description = "The fault to arm: KIND[,key=value]... (as --fault takes it)." };
        var id = new Argument<int>("ID") { Description = "The id arm answered (see list)." };
        var arm = new Command("arm", "Arm a fault; answers its id.") { spec };
        var disarm = new Command("disarm", "Disarm a fault by its id.") { id };
        var list = new Command("list", "Every fault: its id, spec, whether armed, and how often it was eligible and fired.");
        var counters = new Command("counters", "Each fault's firings and the device's drop counters.");
        arm.SetAction(p => Send(p.GetValue(control)!, w => { w.WriteString("cmd", "arm"); w.WriteString("fault", p.GetValue(spec)); }, stdout, stderr));
        disarm.SetAction(p => Send(p.GetValue(control)!, w => { w.WriteString("cmd", "disarm"); w.WriteNumber("id", p.GetValue(id)); }, stdout, stderr));
        list.SetAction(p => Send(p.GetValue(control)!, w => w.WriteString("cmd", "list"), stdout, stderr));
        counters.SetAction(p => Send(p.GetValue(control)!, w => w.WriteString("cmd", "counters"), stdout, stderr));
        return new Command("fault", "Arm, disarm and list faults of a running node over its --control socket.")
        {
            control,
            arm,
            disarm,
            list,
            counters,
        };
    }

    private static int Send(string path, Action<Utf8JsonWriter> command, TextWriter stdout, TextWriter stderr)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            command(w);
            w.WriteEndObject();
        }

        string? answer;
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            socket.Connect(new UnixDomainSocketEndPoint(path));
            using var stream = new NetworkStream(socket, ownsSocket: false);
            stream.Write(buffer.WrittenSpan);
            stream.WriteByte((byte)'\n');
            using var reader = new StreamReader(stream, Encoding.UTF8);
            answer = reader.ReadLine();
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            stderr.WriteLine($"emu fault: --control {path}: {e.Message}");
            return 2;
        }

        if (answer is null)
        {
            stderr.WriteLine($"emu fault: --control {path}: no answer");
            return 2;
        }

        stdout.WriteLine(answer);
        return answer.StartsWith("{\"ok\":true", StringComparison.Ordinal) ? 0 : 1;
    }
}
