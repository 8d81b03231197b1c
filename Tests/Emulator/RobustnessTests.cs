using Emu.Emulator.Machine;

namespace Emu.Tests.Emulator;

/// <summary>
/// Any sequence of configuration, port and memory accesses, at any offset, width and value, returns without an
/// exception: a seeded run of 1,000,000 random accesses aimed at the e1000's config space, BARs and the edges around
/// them, with virtual time moving between them.
/// </summary>
public sealed class RobustnessTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void AMillionRandomAccessesNeverThrow(int seed)
    {
        var random = new Random(seed);
        var nic = new NicHarness();
        PcMachine machine = nic.Machine;
        int[] sizes = [1, 2, 4, 8];
        for (int i = 0; i < 1_000_000; i++)
        {
            int size = sizes[random.Next(4)];
            ulong value = (ulong)random.NextInt64() ^ ((ulong)random.Next() << 32);
            switch (random.Next(10))
            {
                case 0:
                    // A config address (sometimes garbage), then a data access.
                    machine.WriteIo(0xCF8, 4, random.Next(4) == 0 ? (uint)value : 0x8000_0000u | (uint)(random.Next(0x20) << 11) | (uint)random.Next(256));
                    if (random.Next(2) == 0)
                    {
                        machine.WriteIo((ushort)(0xCFC + random.Next(4)), Math.Min(size, 4), (uint)value);
                    }
                    else
                    {
                        machine.ReadIo((ushort)(0xCFC + random.Next(4)), Math.Min(size, 4));
                    }

                    break;
                case 1:
                    {
                        ushort port = (ushort)(NicHarness.Bar1 + random.Next(-4, 0x48));
                        if (random.Next(2) == 0)
                        {
                            machine.WriteIo(port, Math.Min(size, 4), (uint)value);
                        }
                        else
                        {
                            machine.ReadIo(port, Math.Min(size, 4));
                        }

                        break;
                    }

                case 2:
                    machine.Scheduler.RunFor(random.Next(1_000_000));
                    break;
                case 3:
                    machine.ReadMemory((ulong)random.NextInt64(), size);
                    break;
                default:
                    {
                        ulong address = NicHarness.Bar0 + (ulong)random.Next(-16, 0x20010);
                        if (random.Next(3) == 0)
                        {
                            machine.ReadMemory(address, size);
                        }
                        else
                        {
                            // Keep CTRL.RST and the BAR programming sometimes, but not always, out of the way.
                            machine.WriteMemory(address, size, value);
                        }

                        break;
                    }
            }

            if ((i & 0xFFFF) == 0)
            {
                // Put the device back on the bus now and then, whatever the random writes did to it.
                nic.ConfigWrite(0x10, 4, (uint)NicHarness.Bar0);
                nic.ConfigWrite(0x14, 4, NicHarness.Bar1 | 1u);
                nic.ConfigWrite(0x04, 2, 0x7);
            }
        }

        Assert.False(nic.Nic.Halted, nic.Nic.InternalError);   // the guard never had to catch anything

        // Still a working device afterwards.
        machine.Reset();
        nic.ConfigWrite(0x10, 4, (uint)NicHarness.Bar0);
        nic.ConfigWrite(0x04, 2, 0x7);
        Assert.Equal(0x100E_8086u, nic.ConfigRead(0, 4));
        Assert.Equal(0x8008_0783u, nic.Read(0x8) & ~2u | 2u);
    }
}
