using Emu.Emulator.Wire;

namespace Emu.Tests.Wire;

/// <summary>QEMU's -netdev syntax, as users paste it.</summary>
public sealed class NetdevSpecTests
{
    [Theory]
    [InlineData("socket,listen=127.0.0.1:5555", NetdevKind.Stream, true, "127.0.0.1:5555", null)]
    [InlineData("socket,id=n0,listen=:5555", NetdevKind.Stream, true, "127.0.0.1:5555", null)]
    [InlineData("socket,connect=localhost:0x15b3", NetdevKind.Stream, false, null, "localhost:5555")]
    [InlineData("socket,udp=127.0.0.1:5555,localaddr=127.0.0.1:5556", NetdevKind.Datagram, false, "127.0.0.1:5556", "127.0.0.1:5555")]
    [InlineData("stream,server=on,addr.type=inet,addr.host=127.0.0.1,addr.port=5555", NetdevKind.Stream, true, "127.0.0.1:5555", null)]
    [InlineData("-netdev stream,id=n0,server=off,addr.type=unix,addr.path=/tmp/e1k.sock,reconnect-ms=200", NetdevKind.Stream, false, null, "unix:/tmp/e1k.sock")]
    [InlineData("dgram,id=n0,local.type=inet,local.host=127.0.0.1,local.port=5556,remote.type=inet,remote.host=127.0.0.1,remote.port=5555", NetdevKind.Datagram, false, "127.0.0.1:5556", "127.0.0.1:5555")]
    [InlineData("dgram,local.type=unix,local.path=/tmp/a,remote.type=unix,remote.path=/tmp/b", NetdevKind.Datagram, false, "unix:/tmp/a", "unix:/tmp/b")]
    public void ValidSpecsParse(string text, NetdevKind kind, bool server, string? local, string? remote)
    {
        Assert.True(NetdevSpec.TryParse(text, out NetdevSpec? spec, out string? error), error);
        Assert.Equal(kind, spec.Kind);
        Assert.Equal(server, spec.Server);
        Assert.Equal(local, spec.Local?.ToString());
        Assert.Equal(remote, spec.Remote?.ToString());
    }

    [Theory]
    [InlineData("", "no netdev type")]
    [InlineData("tap,ifname=tap0", "not supported")]
    [InlineData("socket", "exactly one of")]
    [InlineData("socket,listen=5555", "not host:port")]
    [InlineData("socket,listen=:99999", "no valid port")]
    [InlineData("socket,udp=127.0.0.1:5", "needs localaddr")]
    [InlineData("socket,mcast=230.0.0.1:1234", "mcast= and socket,fd= are not supported")]
    [InlineData("stream,server=on,addr.type=inet,addr.host=h,addr.port=1,reconnect-ms=5", "incompatible with socket in server mode")]
    [InlineData("stream,server=maybe,addr.type=unix,addr.path=/x", "not on or off")]
    [InlineData("stream,addr.type=inet,addr.host=h", "needs addr.host= and addr.port=")]
    [InlineData("stream,addr.type=vsock", "not supported")]
    [InlineData("stream,reconnect=5,addr.type=unix,addr.path=/x", "parameter 'reconnect' is unexpected")]
    [InlineData("dgram,remote.type=inet,remote.host=h,remote.port=1", "requires local=")]
    [InlineData("dgram,local.type=inet,local.host=h,local.port=1,remote.type=unix,remote.path=/x", "must be the same")]
    [InlineData("stream,server", "not key=value")]
    public void InvalidSpecsGiveAReason(string text, string reason)
    {
        Assert.False(NetdevSpec.TryParse(text, out _, out string? error));
        Assert.Contains(reason, error);
    }
}
