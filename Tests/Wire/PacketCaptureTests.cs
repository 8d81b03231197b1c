using Emu.Emulator.E1000;
using Emu.Emulator.Machine;
using Emu.Emulator.Wire;
using Emu.Tests.Emulator;
using Emu.Tests.Tools;

namespace Emu.Tests.Wire;

/// <summary>Captures of a port's traffic open in tshark without warnings; dropped frames carry their counter.</summary>
[Trait("Category", "Qemu")]
public sealed class PacketCaptureTests
{
    private static string CaptureTraffic(CaptureFormat format)
    {
        string path = Path.Combine(Path.GetTempPath(), $"emu-capture-{Guid.NewGuid():N}.{(format == CaptureFormat.PcapNg ? "pcapng" : "pcap")}");
        var h = new DataPlaneHarness(rctl: E1000Bits.RctlEn | E1000Bits.RctlBam);
        using (PacketCapture capture = PacketCapture.Create(path, h.Nic.Machine.Scheduler, format))
        {
            h.Device.Tap = capture;
            h.Nic.Machine.Scheduler.RunFor(1_500);
            h.Receive(Frames.Udp4(Frames.Broadcast, 20));                           // delivered
            h.Nic.Machine.Scheduler.RunFor(2_000_000_000);
            h.Receive(Frames.Ethernet([0x52, 0x54, 0x00, 0x99, 0x99, 0x99], 0x0800, 50));   // filtered
            byte[] frame = Frames.Ethernet(Frames.PeerMac, 0x88B5, 100);
            h.PutTx(DataPlaneHarness.Legacy(h.TxBuffer(0, frame), frame.Length, E1000Bits.TxdCmdEop | E1000Bits.TxdCmdRs));
            h.Kick();                                                               // transmitted
        }

        return path;
    }

    [Fact]
    public void PcapngOpensInTsharkWithTimesDirectionsAndDropComments()
    {
        string tshark = DebianTool.Require("tshark", "tshark");
        string path = CaptureTraffic(CaptureFormat.PcapNg);
        try
        {
            (int code, string output, string errors) = DebianTool.RunSeparately(tshark, "-r", path, "-T", "fields", "-E", "separator=|", "-e", "frame.time_epoch", "-e", "frame.len", "-e", "frame.comment", "-e", "eth.type");
            Assert.True(code == 0, output + errors);
            Assert.Equal(string.Empty, WithoutRootNotice(errors));
            string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(3, lines.Length);
            Assert.StartsWith("0.000001500|", lines[0]);
            Assert.Contains("|dropped: RxFiltered|", lines[1]);
            Assert.StartsWith("2.000001500|114|", lines[2]);

            // Expert info would list malformed blocks or frames.
            (code, output, errors) = DebianTool.RunSeparately(tshark, "-r", path, "-z", "expert,warn", "-q");
            Assert.True(code == 0, output + errors);
            Assert.DoesNotContain("Malformed", output, StringComparison.Ordinal);
            Assert.Equal(string.Empty, WithoutRootNotice(errors));
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>tshark's notice about running as root is not about the file.</summary>
    private static string WithoutRootNotice(string errors)
        => string.Join('\n', errors.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith("Running as user \"root\"", StringComparison.Ordinal)));

    [Fact]
    public void ClassicPcapOpensInTsharkWithoutDrops()
    {
        string tshark = DebianTool.Require("tshark", "tshark");
        string path = CaptureTraffic(CaptureFormat.Pcap);
        try
        {
            (int code, string output, string errors) = DebianTool.RunSeparately(tshark, "-r", path, "-T", "fields", "-e", "frame.len");
            Assert.True(code == 0, output + errors);
            Assert.Equal(string.Empty, WithoutRootNotice(errors));
            Assert.Equal(["62", "114"], output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
