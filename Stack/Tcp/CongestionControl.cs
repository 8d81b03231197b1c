namespace Emu.Stack.Tcp;

/// <summary>
/// A congestion control algorithm (Linux's tcp_congestion_ops): how the window grows on ACKs and what slow-start
/// threshold a loss leaves. Windows are in bytes; <see cref="TcpSocket"/> owns cwnd and ssthresh.
/// </summary>
public abstract class CongestionControl
{
    public abstract string Name { get; }

    /// <summary>cong_avoid: <paramref name="acked"/> new bytes were acknowledged outside loss recovery.</summary>
    public abstract void OnAck(TcpSocket s, uint acked, long now);

    /// <summary>ssthresh: the threshold after a loss (fast retransmit or RTO).</summary>
    public abstract uint SsThresh(TcpSocket s, long now);

    /// <summary>Called when a retransmission timeout collapses the window.</summary>
    public virtual void OnTimeout(TcpSocket s)
    {
    }

    public static CongestionControl? Create(string name) => name switch
    {
        "reno" => new NewReno(),
        "cubic" => new Cubic(),
        _ => null,
    };
}

/// <summary>Reno/NewReno window growth (RFC 5681 §3.1): slow start, then one MSS per window of ACKed data.</summary>
public sealed class NewReno : CongestionControl
{
    private uint _caCredit;

    public override string Name => "reno";

    public override void OnAck(TcpSocket s, uint acked, long now)
    {
        uint mss = (uint)s.SendMss;
        if (s.Cwnd < s.SsThreshold)
        {
            // Slow start with appropriate byte counting, L = 2 MSS (RFC 3465).
            s.Cwnd += Math.Min(acked, 2 * mss);
            return;
        }

        _caCredit += acked;
        if (_caCredit >= s.Cwnd)
        {
            _caCredit -= s.Cwnd;
            s.Cwnd += mss;
        }
    }

    public override uint SsThresh(TcpSocket s, long now) => Math.Max(s.FlightSize / 2, 2 * (uint)s.SendMss);
}

/// <summary>
/// CUBIC (RFC 9438): after a loss the window follows W(t) = C(t − K)³ + Wmax with β = 0.7 and C = 0.4, never below
/// the Reno-friendly estimate (§4.3), with fast convergence (§4.7).
/// </summary>
public sealed class Cubic : CongestionControl
{
    private const double Beta = 0.7;
    private const double C = 0.4;
    private double _wMax;
    private double _wLastMax;
    private double _k;
    private long _epochStart = -1;
    private double _wEst;
    private double _originCwnd;

    public override string Name => "cubic";

    public override void OnAck(TcpSocket s, uint acked, long now)
    {
        double mss = s.SendMss;
        if (s.Cwnd < s.SsThreshold)
        {
            s.Cwnd += Math.Min(acked, 2 * (uint)mss);
            return;
        }

        double cwnd = s.Cwnd / mss;
        if (_epochStart < 0)
        {
            _epochStart = now;
            if (cwnd < _wMax)
            {
                _k = Math.Cbrt((_wMax - cwnd) / C);
                _originCwnd = _wMax;
            }
            else
            {
                _k = 0;
                _originCwnd = cwnd;
            }

            _wEst = cwnd;
        }

        double t = (now - _epochStart) / 1e9 + (s.SmoothedRttNs / 1e9);
        double target = _originCwnd + (C * Math.Pow(t - _k, 3));

        // §4.3: the Reno-friendly region, α = 3(1 − β)/(1 + β).
        _wEst += 3 * (1 - Beta) / (1 + Beta) * (acked / mss) / cwnd;
        target = Math.Max(target, _wEst);
        target = Math.Min(target, 1.5 * cwnd);   // §4.4: at most 1.5× per RTT's worth of ACKs
        if (target > cwnd)
        {
            s.Cwnd += (uint)Math.Max(1, (target - cwnd) / cwnd * acked);
        }
    }

    public override uint SsThresh(TcpSocket s, long now)
    {
        double cwnd = s.Cwnd / (double)s.SendMss;
        _epochStart = -1;

        // §4.7 fast convergence: release bandwidth when the window fell short of the last maximum.
        _wLastMax = _wMax;
        _wMax = cwnd < _wLastMax ? cwnd * (1 + Beta) / 2 : cwnd;
        return Math.Max((uint)(cwnd * Beta * s.SendMss), 2 * (uint)s.SendMss);
    }

    public override void OnTimeout(TcpSocket s)
    {
        _epochStart = -1;
    }
}
