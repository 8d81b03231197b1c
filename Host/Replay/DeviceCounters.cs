using System.Globalization;
using System.Text;
using Emu.Emulator.E1000;

namespace Emu.Host.Replay;

/// <summary>The e1000's statistics as End records keep them (run and qtest traces alike): delivered, sent, dropped, then each drop reason that counted.</summary>
public static class DeviceCounters
{
    public static void Append(StringBuilder text, E1000Statistics device)
    {
        CultureInfo c = CultureInfo.InvariantCulture;
        text.Append(c, $"e1000 delivered {device.RxDelivered} sent {device.TxSent} dropped {device.TotalDrops}\n");
        foreach (E1000DropReason reason in Enum.GetValues<E1000DropReason>())
        {
            if (device[reason] != 0)
            {
                text.Append(c, $"e1000 {reason} {device[reason]}\n");
            }
        }
    }
}
