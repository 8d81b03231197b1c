using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Emu.Tests.Differential;
using Emu.Tests.Tools;

namespace Emu.Tests.Interop;

/// <summary>
/// Emu's e1000 and QEMU's e1000 on one wire: Emu serves the netdev, QEMU connects to it with its own -netdev syntax
/// (README's attach examples). Frames go both ways through both devices' rings. Against QEMU 11.1 (stream over a unix
/// socket, qtest virtual time) and QEMU 7.2 from Debian bookworm (socket over TCP; it has no qtest clock, so it runs
/// a halting firmware in real time and the tests wait on RDH).
/// </summary>
[Trait("Category", "Qemu")]
public sealed class QemuInteropTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(20);

    private static byte[] Frame(byte[] destination, byte[] source, int payload, byte seed)
    {
        byte[] frame = new byte[14 + payload];
        destination.CopyTo(frame, 0);
        source.CopyTo(frame, 6);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), 0x88B5);
        for (int i = 14; i < frame.Length; i++)
        {
            frame[i] = (byte)(seed + i);
        }

        return frame;
    }

    private static readonly byte[] s_emuMac = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
    private static readonly byte[] s_qemuMac = [0x52, 0x54, 0x00, 0x12, 0x34, 0x57];

    [Fact]
    public void Qemu11StreamClientAndEmuServerExchangeFrames()
    {
        string dir = Directory.CreateTempSubdirectory("emu-interop-").FullName;
        string path = Path.Combine(dir, "wire.sock");
        try
        {
            using var emu = new EmuProcessQtestTarget("--netdev", $"stream,server=on,addr.type=unix,addr.path={path}");
            var emuNic = new QtestNic(emu);
            emuNic.Ok("endianness");   // the server is listening once emu answers
            using var qemu = new QemuQtestTarget("52:54:00:12:34:57", $"stream,server=off,addr.type=unix,addr.path={path}");
            var qemuNic = new QtestNic(qemu);
            emuNic.Start();
            qemuNic.Start();
            qemuNic.Ok("clock_step 1000000000");   // QEMU holds RX for 1 s after the RCTL write

            byte[] toEmu = Frame(s_emuMac, s_qemuMac, 200, 1);
            qemuNic.Transmit(toEmu);
            Assert.True(emuNic.WaitReceived(1, s_timeout), "Emu did not receive QEMU's frame");
            Assert.Equal(toEmu, emuNic.ReceivedFrame(0));

            byte[] toQemu = Frame(s_qemuMac, s_emuMac, 1000, 2);
            emuNic.Transmit(toQemu);
            Assert.True(qemuNic.WaitReceived(1, s_timeout), "QEMU did not receive Emu's frame");
            Assert.Equal(toQemu, qemuNic.ReceivedFrame(0));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Qemu72SocketConnectAndEmuListenExchangeFrames()
    {
        string qemu72 = DebianTool.Require("qemu-system-x86_64", "qemu-system-x86");
        int port = FreePort();
        string dir = Directory.CreateTempSubdirectory("emu-interop72-").FullName;
        string bios = Path.Combine(dir, "halt.bin");
        File.WriteAllBytes(bios, HaltFirmware());
        try
        {
            using var emu = new EmuProcessQtestTarget("--netdev", $"socket,listen=127.0.0.1:{port}");
            var emuNic = new QtestNic(emu);
            emuNic.Ok("endianness");
            using var qemu = new QemuQtestTarget(qemu72,
            [
                "-machine", "pc", "-qtest", "stdio", "-qtest-log", "none", "-display", "none", "-nodefaults", "-bios", bios,
                "-netdev", $"socket,id=n0,connect=127.0.0.1:{port}", "-device", "e1000,addr=03.0,mac=52:54:00:12:34:57,netdev=n0",
            ], oracle: false);
            var qemuNic = new QtestNic(qemu);
            emuNic.Start();
            qemuNic.Start();

            byte[] toEmu = Frame(s_emuMac, s_qemuMac, 300, 3);
            qemuNic.Transmit(toEmu);
            Assert.True(emuNic.WaitReceived(1, s_timeout), "Emu did not receive QEMU 7.2's frame");
            Assert.Equal(toEmu, emuNic.ReceivedFrame(0));

            // QEMU 7.2 holds received frames for a second of (here, real) time after the RCTL write: RDH tells when.
            byte[] toQemu = Frame(s_qemuMac, s_emuMac, 600, 4);
            emuNic.Transmit(toQemu);
            Assert.True(qemuNic.WaitReceived(1, s_timeout), "QEMU 7.2 did not receive Emu's frame");
            Assert.Equal(toQemu, qemuNic.ReceivedFrame(0));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>A 64 KiB firmware whose reset vector halts the CPU (cli; hlt; jmp $-1): no SeaBIOS or iPXE touches the NIC.</summary>
    private static byte[] HaltFirmware()
    {
        byte[] image = new byte[64 * 1024];
        image.AsSpan().Fill(0xF4);
        byte[] vector = [0xFA, 0xF4, 0xEB, 0xFD];
        vector.CopyTo(image, 0xFFF0);
        return image;
    }

    private static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}
