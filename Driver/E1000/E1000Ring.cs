using Emu.Driver.Kernel;
using Emu.Stack.Core;

namespace Emu.Driver.E1000;

/// <summary>struct e1000_tx_ring / e1000_rx_ring: descriptors in coherent DMA memory, and per-descriptor bookkeeping.</summary>
internal sealed class E1000Ring
{
    public E1000Ring(int count)
    {
        Count = count;
        BufferInfo = new BufferInfo[count];
    }

    public int Count { get; }

    public DmaBuffer Descriptors { get; set; }

    public BufferInfo[] BufferInfo { get; }

    public int NextToUse { get; set; }

    public int NextToClean { get; set; }

    /// <summary>E1000_DESC_UNUSED: descriptors software may still fill (one is always left empty).</summary>
    public int Unused => (NextToClean > NextToUse ? 0 : Count) + NextToClean - NextToUse - 1;

    public ulong DescriptorAddress(int index) => Descriptors.Address + (ulong)(16 * index);
}

/// <summary>struct e1000_tx_buffer / e1000_rx_buffer.</summary>
internal struct BufferInfo
{
    public DmaBuffer Dma;
    public int Length;
    public SkBuff? Skb;
    public int NextToWatch;
    public long TimeStamp;
    public int Segments;
    public int ByteCount;
}
