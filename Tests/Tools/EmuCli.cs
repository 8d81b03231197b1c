using Emu.Host;

namespace Emu.Tests.Tools;

/// <summary>The <c>emu</c> command run in-process: its exit status and what it wrote to stdout and stderr.</summary>
internal static class EmuCli
{
    public static (int Exit, string Out, string Err) Run(string stdin, params string[] args)
    {
        var stdout = new StringWriter { NewLine = "\n" };
        var stderr = new StringWriter { NewLine = "\n" };
        int exit = EmuCommandLine.Run(args, new StringReader(stdin), stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }
}
