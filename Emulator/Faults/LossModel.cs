namespace Emu.Emulator.Faults;

/// <summary>
/// netem's loss models (sch_netem.c loss_event; tc-netem(8) LOSS): random loss with correlation, Gilbert-Elliott and
/// the 4-state Markov chain. Each direction keeps its own state, as two netem qdiscs would.
/// </summary>
public abstract class LossModel
{
    protected LossModel(Fault fault)
    {
        Fault = fault;
    }

    public Fault Fault { get; }

    /// <summary>Whether the frame is lost; counts the firing. <paramref name="direction"/> is Rx or Tx.</summary>
    public bool Lose(long now, FaultDirection direction, ReadOnlySpan<byte> frame)
    {
        if (!Fault.IsEligible(now, direction, frame) || !Fault.Admit() || !Decide(direction == FaultDirection.Rx ? 0 : 1))
        {
            return false;
        }

        Fault.CountFiring();
        return true;
    }

    /// <summary>The model's decision for one admitted frame in direction <paramref name="d"/> (0 rx, 1 tx).</summary>
    protected abstract bool Decide(int d);

    public static LossModel Create(Fault fault) => fault.Spec.Kind.Name switch
    {
        "loss-ge" => new GilbertElliott(fault),
        "loss-4state" => new FourState(fault),
        _ => new RandomLoss(fault),
    };

    /// <summary>netem <c>loss random P [CORR]</c>: P is the trigger's prob, corr its correlation (get_crandom).</summary>
    private sealed class RandomLoss : LossModel
    {
        private readonly double _p;
        private readonly CorrelatedRandom[] _random;

        public RandomLoss(Fault fault)
            : base(fault)
        {
            _p = fault.Spec.Trigger.Probability;
            double corr = fault.Spec.Number("corr", 0);
            _random = [new CorrelatedRandom(fault.Random, corr), new CorrelatedRandom(fault.Random, corr)];
        }

        protected override bool Decide(int d) => _p >= 1 || _random[d].Next() < _p;
    }

    /// <summary>
    /// netem <c>loss gemodel p r 1-h 1-k</c> (loss_gilb_ell): in the good state the frame is lost with 1-k
    /// (<c>good=</c>, default 0) and the chain moves to bad with p; in the bad state it is lost with 1-h (<c>bad=</c>,
    /// default 1) and moves back with r (default 1 - p). The loss depends on the state the frame found.
    /// </summary>
    private sealed class GilbertElliott : LossModel
    {
        private readonly double _p;
        private readonly double _r;
        private readonly double _lossBad;
        private readonly double _lossGood;
        private readonly bool[] _bad = new bool[2];

        public GilbertElliott(Fault fault)
            : base(fault)
        {
            FaultSpec s = fault.Spec;
            _p = s.Number("p", 0);
            _r = s.Number("r", 1 - _p);
            _lossBad = s.Number("bad", 1);
            _lossGood = s.Number("good", 0);
        }

        protected override bool Decide(int d)
        {
            Random random = Fault.Random;
            if (!_bad[d])
            {
                if (random.NextDouble() < _p)
                {
                    _bad[d] = true;
                }

                return random.NextDouble() < _lossGood;
            }

            if (random.NextDouble() < _r)
            {
                _bad[d] = false;
            }

            return random.NextDouble() < _lossBad;
        }
    }

    /// <summary>
    /// netem <c>loss state p13 p31 p32 p23 p14</c> (loss_4state; Salsano et al., "Definition of a general and
    /// intuitive loss model for packet networks"): 1 = received in a gap, 2 = received in a burst, 3 = lost in a
    /// burst, 4 = an isolated loss. The loss is decided by the state the frame moves to. tc's defaults: p31 = 1 - p13,
    /// p32 = 0, p23 = 1, p14 = 0 (p13 alone is Bernoulli loss).
    /// </summary>
    private sealed class FourState : LossModel
    {
        private readonly double _p13;
        private readonly double _p31;
        private readonly double _p32;
        private readonly double _p23;
        private readonly double _p14;
        private readonly int[] _state = [1, 1];

        public FourState(Fault fault)
            : base(fault)
        {
            FaultSpec s = fault.Spec;
            _p13 = s.Number("p13", 0);
            _p31 = s.Number("p31", 1 - _p13);
            _p32 = s.Number("p32", 0);
            _p23 = s.Number("p23", 1);
            _p14 = s.Number("p14", 0);
        }

        protected override bool Decide(int d)
        {
            double u = Fault.Random.NextDouble();
            switch (_state[d])
            {
                case 1:
                    if (u < _p14)
                    {
                        _state[d] = 4;
                        return true;
                    }

                    if (u < _p14 + _p13)
                    {
                        _state[d] = 3;
                        return true;
                    }

                    return false;
                case 2:
                    if (u < _p23)
                    {
                        _state[d] = 3;
                        return true;
                    }

                    return false;
                case 3:
                    if (u < _p32)
                    {
                        _state[d] = 2;
                        return false;
                    }

                    if (u < _p32 + _p31)
                    {
                        _state[d] = 1;
                        return false;
                    }

                    return true;
                default:
                    _state[d] = 1;
                    return false;
            }
        }
    }
}
