using CsCheck;
using Emu.Emulator.E1000;

namespace Emu.Tests.Emulator;

/// <summary>
/// Property test (issue 19): any sequence of register writes and reads — every register of the map, and offsets
/// between and past them, with boundary and random values — interleaved with frames from the wire, TDT kicks and
/// virtual time, reaches no exception (the device's guard stays unused), including the EEPROM (EECD/EERD), MDIC,
/// receive filter, checksum and VLAN paths. Long run: <c>EMU_PROPERTY_ITER=50000 dotnet test --filter RegisterPropertyTests</c>.
/// </summary>
public sealed class RegisterPropertyTests
{
    private static readonly uint[] s_offsets =
        [.. E1000RegisterMap.Rows.Select(r => r.Offset), 0x0004, 0x0FFC, 0x1FFFC, 0x1FFFF, 0x5400 + 0x80, 0x5600 + 0x200];

    private static readonly uint[] s_values =
        [0, 1, 0x80, 0xFF, 0x100, 0xFFFF, 0x1_0000, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0x0400_0000, 0x0020_0000, 0x1000_0000, 0x0000_0003];

    // (kind, offset index, value index, random value, frame length)
    private static readonly Gen<(int, int, int, uint, int)> s_step =
        Gen.Select(Gen.Int[0, 9], Gen.Int[0, s_offsets.Length - 1], Gen.Int[0, s_values.Length - 1], Gen.UInt, Gen.Int[0, 20000]);

    [Fact]
    public void NoRegisterSequenceMakesTheDeviceThrow()
    {
        long iter = long.TryParse(Environment.GetEnvironmentVariable("EMU_PROPERTY_ITER"), out long n) ? n : 200;
        s_step.Array[1, 200].Sample(Run, iter: iter, threads: 1, seed: Environment.GetEnvironmentVariable("EMU_PROPERTY_SEED"));
    }

    private static void Run((int Kind, int Offset, int Value, uint Random, int FrameLength)[] steps)
    {
        var h = new DataPlaneHarness(rctl: E1000Bits.RctlEn | E1000Bits.RctlUpe | E1000Bits.RctlSbp);
        foreach ((int kind, int offset, int value, uint random, int frameLength) in steps)
        {
            uint register = s_offsets[offset];
            uint v = (random & 1) == 0 ? s_values[value] : random;
            switch (kind)
            {
                case <= 4:
                    h.Nic.Write(register, v);
                    break;
                case <= 6:
                    h.Nic.Read(register);
                    break;
                case 7:
                    byte[] frame = new byte[Math.Min(frameLength, 16384)];
                    new Random((int)random).NextBytes(frame);
                    if ((random & 2) == 0 && frame.Length >= 6)
                    {
                        Frames.NicMac.CopyTo(frame, 0);
                    }

                    h.Receive(frame);
                    break;
                case 8:
                    h.PutTx(DataPlaneHarness.Data(DataPlaneHarness.TxBuffers, frameLength & 0xFFFF, v & 0x7F00_0000, (byte)v));
                    h.Kick();
                    break;
                default:
                    h.Nic.Machine.Scheduler.RunFor(v & 0xF_FFFF);
                    break;
            }
        }

        h.Nic.Machine.Scheduler.RunFor(10_000_000);
        Assert.False(h.Device.Halted, h.Device.InternalError);
        Assert.True(h.Device.RxFifoFrames <= 128 * 1024 / 64);   // PBA.RXA is at most 127 KiB
    }
}
