namespace Emu.Host.Status;

/// <summary>One named group of counters of a <see cref="CounterSnapshot"/>, in the order they are written.</summary>
public sealed class CounterGroup
{
    public CounterGroup(string name, IReadOnlyList<KeyValuePair<string, long>> counters)
    {
        Name = name;
        Counters = counters;
    }

    public string Name { get; }

    public IReadOnlyList<KeyValuePair<string, long>> Counters { get; }

    /// <summary>The value of <paramref name="name"/>, or 0 when the group has no such counter.</summary>
    public long this[string name] => TryGet(name, out long value) ? value : 0;

    public bool TryGet(string name, out long value)
    {
        foreach (KeyValuePair<string, long> counter in Counters)
        {
            if (counter.Key == name)
            {
                value = counter.Value;
                return true;
            }
        }

        value = 0;
        return false;
    }
}
