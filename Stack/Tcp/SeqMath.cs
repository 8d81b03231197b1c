namespace Emu.Stack.Tcp;

/// <summary>Sequence-number comparisons modulo 2^32 (RFC 9293 §3.4).</summary>
public static class SeqMath
{
    public static bool Lt(uint a, uint b) => (int)(a - b) < 0;

    public static bool Le(uint a, uint b) => (int)(a - b) <= 0;

    public static bool Gt(uint a, uint b) => (int)(a - b) > 0;

    public static bool Ge(uint a, uint b) => (int)(a - b) >= 0;

    public static uint Max(uint a, uint b) => Gt(a, b) ? a : b;

    public static uint Min(uint a, uint b) => Lt(a, b) ? a : b;

    /// <summary>a ≤ x &lt; b.</summary>
    public static bool InRange(uint x, uint a, uint b) => Ge(x, a) && Lt(x, b);
}
