using Emu.Emulator.Machine;
using Emu.Emulator.Qtest;

namespace Emu.Tests.Differential;

/// <summary>Emu's qtest server in-process, on a fresh machine.</summary>
public sealed class EmuQtestTarget : IQtestTarget
{
    private readonly StringWriter _output = new() { NewLine = "\n" };
    private readonly QtestServer _server;

    public EmuQtestTarget(MachineOptions? options = null)
    {
        Machine = new PcMachine(options);
        _server = new QtestServer(Machine, _output);
    }

    public PcMachine Machine { get; }

    public string Send(string command)
    {
        _output.GetStringBuilder().Clear();
        _server.ProcessLine(command);
        return string.Join(" | ", _output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    public void Dispose() => _output.Dispose();
}
