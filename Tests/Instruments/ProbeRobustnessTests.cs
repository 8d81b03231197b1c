using Emu.Emulator.E1000;
using Emu.Emulator.Instruments;
using Emu.Tests.Emulator;

namespace Emu.Tests.Instruments;

/// <summary>
/// The instruments observe and never harm: with every trace category and every check attached, random register
/// accesses, descriptors and frames never make a probe throw (which would stop the device through its guard).
/// </summary>
public sealed class ProbeRobustnessTests
{
    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    public void RandomAccessesWithEveryProbeAttachedNeverHaltTheDevice(int seed)
    {
        var random = new Random(seed);
        var h = new NicHarness();
        var trace = new TraceWriter(TextWriter.Null, h.Machine.Scheduler, TraceCategory.All);
        var checker = new DeviceChecker(h.Nic, trace);
        h.Nic.Probe = DeviceProbe.Combine(new DeviceTracer(h.Nic, trace), checker);
        uint[] hot = [E1000Reg.Ctrl, E1000Reg.Eecd, E1000Reg.Eerd, E1000Reg.Mdic, E1000Reg.Icr, E1000Reg.Ics, E1000Reg.Ims, E1000Reg.Imc, E1000Reg.Rctl, E1000Reg.Tctl, E1000Reg.Rdbal, E1000Reg.Rdlen, E1000Reg.Rdh, E1000Reg.Rdt, E1000Reg.Tdbal, E1000Reg.Tdlen, E1000Reg.Tdh, E1000Reg.Tdt, E1000Reg.Status];
        for (int i = 0; i < 100_000; i++)
        {
            uint offset = random.Next(3) == 0 ? (uint)random.Next(0x20000) & ~3u : hot[random.Next(hot.Length)];
            uint value = random.Next(4) switch
            {
                0 => (uint)random.Next(),
                1 => (uint)random.Next(64),
                2 => 0x30_0000u + ((uint)random.Next(64) * 16),
                _ => uint.MaxValue,
            };
            if (offset == E1000Reg.Ctrl && (value & E1000Bits.CtrlPhyRst) != 0)
            {
                value &= ~E1000Bits.CtrlPhyRst;
            }

            switch (random.Next(6))
            {
                case 0:
                    h.Read(offset);
                    break;
                case 1:
                    {
                        byte[] d = new byte[16];
                        random.NextBytes(d);
                        h.Machine.Memory.TryWrite(0x30_0000 + ((ulong)random.Next(64) * 16), d);
                        break;
                    }

                case 2:
                    {
                        byte[] frame = new byte[random.Next(0, 2000)];
                        random.NextBytes(frame);
                        h.Nic.ReceiveFrame(frame);
                        break;
                    }

                case 3:
                    h.Machine.Scheduler.RunFor(random.Next(5_000_000));
                    break;
                default:
                    h.Write(offset, value);
                    break;
            }
        }

        checker.Finish(TextWriter.Null);
        Assert.False(h.Nic.Halted, h.Nic.InternalError);
        Assert.True(trace.Lines > 50_000);
        Assert.True(checker.Total > 0);
    }
}
