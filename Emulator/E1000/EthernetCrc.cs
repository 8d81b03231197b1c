using System.IO.Hashing;

namespace Emu.Emulator.E1000;

/// <summary>
/// The Ethernet frame check sequence: CRC-32 (IEEE 802.3 §3.2.9), reflected polynomial 0xEDB88320. System.IO.Hashing's
/// Crc32 computes exactly this, vectorised (the receive path writes an FCS for every frame).
/// </summary>
public static class EthernetCrc
{
    public static uint Compute(ReadOnlySpan<byte> data) => Crc32.HashToUInt32(data);
}
