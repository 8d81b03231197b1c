namespace Emu.Emulator.Wire;

public enum CaptureFormat
{
    /// <summary>pcapng: nanosecond timestamps, direction flags, and a comment on each dropped frame.</summary>
    PcapNg,

    /// <summary>Classic libpcap with nanosecond timestamps (magic 0xA1B23C4D); no comments, so drops are left out.</summary>
    Pcap,
}
