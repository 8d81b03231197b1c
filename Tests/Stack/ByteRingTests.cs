using Emu.Stack.Tcp;

namespace Emu.Tests.Stack;

public sealed class ByteRingTests
{
    [Fact]
    public void BytesPlacedPastTheQueueKeepTheirPlaceWhenTheQueueEmpties()
    {
        // Out-of-order TCP data sits past Count; reading everything in order must not move it.
        var ring = new ByteRing(16);
        ring.Write([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        ring.WriteAt(ring.Count + 2, [42, 43]);
        byte[] read = new byte[10];
        Assert.Equal(10, ring.Read(read));
        ring.Write([11, 12]);
        ring.Commit(2);
        byte[] rest = new byte[4];
        Assert.Equal(4, ring.Read(rest));
        Assert.Equal([11, 12, 42, 43], rest);
    }

    [Fact]
    public void WrapsAroundInBothDirections()
    {
        var ring = new ByteRing(8);
        byte[] buffer = new byte[8];
        for (int round = 0; round < 20; round++)
        {
            Assert.Equal(5, ring.Write([(byte)round, 1, 2, 3, 4]));
            Assert.Equal(5, ring.Read(buffer));
            Assert.Equal((byte)round, buffer[0]);
        }

        Assert.Equal(8, ring.Write(new byte[20]));
        Assert.Equal(0, ring.Free);
    }
}
