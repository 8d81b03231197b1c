using Emu.Emulator.Faults;

namespace Emu.Tests.Faults;

/// <summary>Bad input anywhere in a plan is one line naming the key, and nothing is armed.</summary>
public sealed class FaultPlanErrorTests
{
    [Theory]
    [InlineData("drop,prob=0.1", "'drop'")]
    [InlineData("loss,speed=3", "'speed'")]
    [InlineData("loss,prob=1.5", "prob=")]
    [InlineData("loss,corr=x", "corr=")]
    [InlineData("corrupt,bits=-1", "bits=")]
    [InlineData("delay,time=10", "time=")]
    [InlineData("delay,time=1ms,dist=gamma", "dist=")]
    [InlineData("rate,bps=fast", "bps=")]
    [InlineData("rate", "bps=")]
    [InlineData("loss-ge,r=0.1", "p=")]
    [InlineData("loss-4state,p31=0.1", "p13=")]
    [InlineData("reorder,gap=5", "time=")]
    [InlineData("slot,min=10ms,max=1ms", "max=")]
    [InlineData("truncate", "len=")]
    [InlineData("link-flap,every=1s", "down=")]
    [InlineData("link-flap,down=2s,every=1s", "every=")]
    [InlineData("link-flap,down=1s,port=80", "'port'")]
    [InlineData("loss,ethertype=0x0800,proto=tcp", "ethertype=")]
    [InlineData("loss,proto=icmpv6,port=80", "port=")]
    [InlineData("loss,len=100-50", "len=")]
    [InlineData("loss,dir=up", "dir=")]
    [InlineData("loss,after=2s,until=1s", "until=")]
    [InlineData("loss,nth=0", "nth=")]
    public void EveryErrorNamesTheKey(string spec, string key)
    {
        Assert.False(FaultPlan.TryCreate(1, ["duplicate", spec], null, out FaultPlan? plan, out string? error));
        Assert.Null(plan);
        Assert.Contains(key, error);
        Assert.DoesNotContain('\n', error);
    }

    [Theory]
    [InlineData("[{\"kind\":\"loss\",\"prob\":2}]", "prob=")]
    [InlineData("[{\"kind\":\"loss\",\"bogus\":1}]", "'bogus'")]
    [InlineData("[{\"prob\":0.1}]", "\"kind\"")]
    [InlineData("{\"kind\":\"loss\"}", "array")]
    [InlineData("[{\"kind\":\"delay\",\"time\":[1]}]", "'time'")]
    public void JsonPlanErrorsNameTheKey(string json, string key)
    {
        Assert.False(FaultPlan.TryCreate(1, [], json, out _, out string? error));
        Assert.Contains(key, error);
    }

    [Fact]
    public void JsonPlanArmsItsFaultsInOrder()
    {
        Assert.True(FaultPlan.TryCreate(7, ["duplicate"], "[{\"kind\":\"loss-ge\",\"p\":0.01,\"r\":0.3},{\"kind\":\"delay\",\"time\":\"10ms\",\"jitter\":\"1ms\",\"dist\":\"normal\"}]", out FaultPlan? plan, out string? error), error);
        Assert.Equal(["fault 1 duplicate", "fault 2 loss-ge", "fault 3 delay"], plan.Faults.Select(f => f.Label));
        Assert.Equal(7, plan.Seed);
    }

    [Fact]
    public void ReorderMayTakeItsDelayFromADelayFault()
        => Assert.True(FaultPlan.TryCreate(1, ["delay,time=10ms", "reorder,gap=5"], null, out _, out _));
}
