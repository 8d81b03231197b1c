namespace Emu.Emulator.E1000;

/// <summary>Named counts of what the device dropped (beside the manual's statistics registers), for tests and users.</summary>
public sealed class E1000Statistics
{
    private readonly long[] _drops = new long[Enum.GetValues<E1000DropReason>().Length];

    public long RxDelivered { get; internal set; }

    public long TxSent { get; internal set; }

    /// <summary>Bytes of the frames counted by <see cref="RxDelivered"/> (without the FCS, as captured): monotonic, unlike GORC.</summary>
    public long RxBytes { get; internal set; }

    /// <summary>Bytes of the frames counted by <see cref="TxSent"/>.</summary>
    public long TxBytes { get; internal set; }

    /// <summary>Rising edges of the INTx line (interrupts the device raised).</summary>
    public long InterruptsAsserted { get; internal set; }

    public long this[E1000DropReason reason] => _drops[(int)reason];

    internal void Drop(E1000DropReason reason) => _drops[(int)reason]++;

    public long TotalDrops
    {
        get
        {
            long total = 0;
            foreach (long n in _drops)
            {
                total += n;
            }

            return total;
        }
    }
}
