namespace Emu.Stack.Ipv6;

/// <summary>One node's SNMP counters (Linux's ipv6 MIB, ICMPv6 MIB and UDP6 MIB).</summary>
public sealed class Snmp6
{
    private readonly long[] _counters = new long[Enum.GetValues<Snmp6Counter>().Length];

    public long this[Snmp6Counter counter] => _counters[(int)counter];

    public void Inc(Snmp6Counter counter) => _counters[(int)counter]++;

    public void Add(Snmp6Counter counter, long n) => _counters[(int)counter] += n;

    /// <summary>All counters as /proc/net/snmp6 lists them: name and value.</summary>
    public IEnumerable<(string Name, long Value)> All()
    {
        foreach (Snmp6Counter c in Enum.GetValues<Snmp6Counter>())
        {
            yield return (c.ToString(), _counters[(int)c]);
        }
    }
}
