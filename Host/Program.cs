using Emu.Host;

return EmuCommandLine.Run(args, Console.In, Console.Out, Console.Error);
