namespace Emu.Emulator.Faults;

/// <summary>What a DMA access of the device reads or writes (the <c>target=</c> of <c>dma-error</c>).</summary>
[Flags]
public enum DmaTarget
{
    RxDescriptor = 1,
    RxBuffer = 2,
    TxDescriptor = 4,
    TxBuffer = 8,
    All = RxDescriptor | RxBuffer | TxDescriptor | TxBuffer,
}
