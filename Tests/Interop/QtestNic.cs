using System.Globalization;
using Emu.Tests.Differential;

namespace Emu.Tests.Interop;

/// <summary>
/// Drives an e1000 over qtest as a minimal driver would (QEMU's or Emu's: the same commands): BARs, one RX and one TX
/// ring, transmit a frame, wait for one to arrive.
/// </summary>
internal sealed class QtestNic(IQtestTarget target)
{
    private const ulong Bar0 = 0xFEBC_0000;
    private const ulong RxRing = 0x10_0000;
    private const ulong TxRing = 0x11_0000;
    private const ulong RxBuffers = 0x20_0000;
    private const ulong TxBuffers = 0x30_0000;
    private const int Count = 8;
    private int _txTail;

    public IQtestTarget Target { get; } = target;

    public void Start()
    {
        Ok("outl 0xcf8 0x80001810");
        Ok("outl 0xcfc 0xfebc0000");
        Ok("outl 0xcf8 0x80001804");
        Ok("outw 0xcfc 0x7");
        for (int i = 0; i < Count; i++)
        {
            Ok($"writeq 0x{RxRing + (ulong)(16 * i):x} 0x{RxBuffers + (ulong)(0x800 * i):x}");
            Ok($"writeq 0x{RxRing + (ulong)(16 * i) + 8:x} 0x0");
        }

        W(0x2800, (uint)RxRing);
        W(0x2808, Count * 16);
        W(0x2818, Count - 1);
        W(0x0100, 0x0000_8002 | 0x0400_0000);   // EN | BAM | SECRC: lengths without the FCS on both models
        W(0x3800, (uint)TxRing);
        W(0x3808, Count * 16);
        W(0x0400, 0x0004_010A);                 // EN | PSP, as Linux
    }

    public void Transmit(byte[] frame)
    {
        ulong buffer = TxBuffers + (ulong)(0x800 * _txTail);
        Ok($"write 0x{buffer:x} {frame.Length} 0x{Convert.ToHexStringLower(frame)}");
        ulong lower = (ulong)frame.Length | 0x0B00_0000;   // EOP | IFCS | RS
        Ok($"writeq 0x{TxRing + (ulong)(16 * _txTail):x} 0x{buffer:x}");
        Ok($"writeq 0x{TxRing + (ulong)(16 * _txTail) + 8:x} 0x{lower:x}");
        _txTail = (_txTail + 1) % Count;
        W(0x3818, (uint)_txTail);
    }

    /// <summary>Polls RDH (no side effects) until <paramref name="count"/> frames have arrived, or the timeout.</summary>
    public bool WaitReceived(int count, TimeSpan timeout, Action? whileWaiting = null)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            whileWaiting?.Invoke();
            if (R(0x2810) == (uint)count)
            {
                return true;
            }

            Thread.Sleep(5);
        }

        return false;
    }

    public byte[] ReceivedFrame(int index)
    {
        string descriptor = Ok($"read 0x{RxRing + (ulong)(16 * index):x} 16");
        byte[] d = Convert.FromHexString(descriptor[5..]);
        int length = d[8] | (d[9] << 8);
        string data = Ok($"read 0x{RxBuffers + (ulong)(0x800 * index):x} {length}");
        return Convert.FromHexString(data[5..]);
    }

    public uint R(uint offset)
    {
        string reply = Ok($"readl 0x{Bar0 + offset:x}");
        return uint.Parse(reply[5..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
    }

    public void W(uint offset, uint value) => Ok($"writel 0x{Bar0 + offset:x} 0x{value:x}");

    public string Ok(string command)
    {
        string reply = Target.Send(command).Split(" | ")[^1];
        if (!reply.StartsWith("OK", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"'{command}' answered '{reply}'");
        }

        return reply;
    }
}
