namespace Emu.Tests.Stack;

/// <summary>Packetdrill-style scripts (see <see cref="TcpScript"/>): every segment our TCP sends, and when, for what it receives.</summary>
public sealed class TcpScriptTests
{
    /// <summary>A passive open as Linux's peer does it (its SYN from linux-to-linux.pcap: mss 1440, sackOK, TS, wscale).</summary>
    private const string PassiveOpen = """
        0     bind(8080)
        +0    listen(1)
        +0    < S 0:0(0) win 64800 <mss 1440,sackOK,TS val 100 ecr 0,nop,wscale 5>
        +0    > S. 0:0(0) ack 1 <mss 1440,sackOK,TS val * ecr 100,nop,wscale 7>
        +.01  < . 1:1(0) ack 1 win 2025 <nop,nop,TS val 110 ecr 0>
        +0    accept()
        """;

    [Fact]
    public void PassiveOpenAnswersWithLinuxsOptionsAndScalesTheWindow() => new TcpScript().Run(PassiveOpen + "\n" + """
        +0    state(Established)
        +0    sndwnd(64800)
        """);

    [Fact]
    public void SynWithoutOptionsGetsOnlyMss()
    {
        // RFC 7323 §2.2, §3.2 and RFC 2018 §2: no option the peer did not offer.
        new TcpScript().Run("""
            0     bind(8080)
            +0    listen(1)
            +0    < S 0:0(0) win 65535
            +0    > S. 0:0(0) ack 1 <mss 1440>
            +.01  < . 1:1(0) ack 1 win 65535
            +0    accept()
            +0    write(1300)
            +0    > . 1:1221(1220) ack 1
            """);
    }

    [Fact]
    public void DelayedAckAfter40msOrEverySecondSegment() => new TcpScript().Run(PassiveOpen + "\n" + """
        +0    < P. 1:1001(1000) ack 1 win 2025 <nop,nop,TS val 120 ecr 0>
        +.04  > . 1:1(0) ack 1001 <nop,nop,TS val * ecr 120>
        +0    read(2000) = 1000
        +.1   < . 1001:2429(1428) ack 1 win 2025 <nop,nop,TS val 130 ecr 0>
        +0    < . 2429:3857(1428) ack 1 win 2025 <nop,nop,TS val 131 ecr 0>
        +0    > . 1:1(0) ack 3857 <nop,nop,TS val * ecr 130>   // RFC 7323 §4.3: the earliest unacknowledged segment's
        """);

    [Fact]
    public void OutOfOrderDataIsSackedAtOnceAndTheFilledHoleAckedAtOnce() => new TcpScript().Run(PassiveOpen + "\n" + """
        +0    < . 1429:2857(1428) ack 1 win 2025 <nop,nop,TS val 130 ecr 0>
        +0    > . 1:1(0) ack 1 <nop,nop,TS val * ecr 110,nop,nop,sack 1429:2857>
        +0    < . 4285:5713(1428) ack 1 win 2025 <nop,nop,TS val 131 ecr 0>
        +0    > . 1:1(0) ack 1 <nop,nop,TS val * ecr 110,nop,nop,sack 4285:5713 1429:2857>
        +0    < . 1:1429(1428) ack 1 win 2025 <nop,nop,TS val 132 ecr 0>
        +0    > . 1:1(0) ack 2857 <nop,nop,TS val * ecr 132,nop,nop,sack 4285:5713>
        +0    read(10000) = 2856
        """);

    [Fact]
    public void NagleHoldsTheSmallTailUntilTheAck() => new TcpScript().Run(PassiveOpen + "\n" + """
        +0    write(2000)
        +0    > . 1:1429(1428) ack 1 <nop,nop,TS val * ecr 110>
        +.01  < . 1:1(0) ack 1429 win 2025 <nop,nop,TS val 120 ecr 0>
        +0    > P. 1429:2001(572) ack 1 <nop,nop,TS val * ecr 120>
        """);

    [Fact]
    public void NoDelaySendsTheTailAtOnce() => new TcpScript().Run(PassiveOpen + "\n" + """
        +0    nodelay()
        +0    write(2000)
        +0    > . 1:1429(1428) ack 1
        +0    > P. 1429:2001(572) ack 1
        """);

    [Fact]
    public void RetransmissionTimeoutBacksOffExponentially()
    {
        // RTO from the handshake's 10 ms RTT is clamped to 200 ms (Linux's minimum), then doubles (RFC 6298 §5.5).
        new TcpScript().Run(PassiveOpen + "\n" + """
            +0    write(1000)
            +0    > P. 1:1001(1000) ack 1
            +.2   > P. 1:1001(1000) ack 1
            +.4   > P. 1:1001(1000) ack 1
            +.8   > P. 1:1001(1000) ack 1
            +.01  < . 1:1(0) ack 1001 win 2025 <nop,nop,TS val 300 ecr 0>
            +0    write(100)
            +0    > P. 1001:1101(100) ack 1
            """);
    }

    [Fact]
    public void ThreeSackedSegmentsTriggerOneFastRetransmit() => new TcpScript().Run(PassiveOpen + "\n" + """
        +0    nodelay()
        +0    write(5712)
        +0    > . 1:1429(1428) ack 1
        +0    > . 1429:2857(1428) ack 1
        +0    > . 2857:4285(1428) ack 1
        +0    > P. 4285:5713(1428) ack 1
        +.01  < . 1:1(0) ack 1 win 2025 <nop,nop,TS val 200 ecr 0,nop,nop,sack 1429:2857>
        +0    < . 1:1(0) ack 1 win 2025 <nop,nop,TS val 200 ecr 0,nop,nop,sack 1429:4285>
        +0    < . 1:1(0) ack 1 win 2025 <nop,nop,TS val 200 ecr 0,nop,nop,sack 1429:5713>
        +0    > . 1:1429(1428) ack 1
        +.01  < . 1:1(0) ack 5713 win 2025 <nop,nop,TS val 210 ecr 0>
        """);

    [Fact]
    public void ThreeDuplicateAcksWithoutSackTriggerNewRenoFastRetransmit() => new TcpScript().Run("""
        0     bind(8080)
        +0    listen(1)
        +0    < S 0:0(0) win 65535 <mss 1440>
        +0    > S. 0:0(0) ack 1 <mss 1440>
        +.01  < . 1:1(0) ack 1 win 65535
        +0    accept()
        +0    nodelay()
        +0    write(5760)
        +0    > . 1:1441(1440) ack 1
        +0    > . 1441:2881(1440) ack 1
        +0    > . 2881:4321(1440) ack 1
        +0    > P. 4321:5761(1440) ack 1
        +.01  < . 1:1(0) ack 1 win 65535
        +0    < . 1:1(0) ack 1 win 65535
        +0    < . 1:1(0) ack 1 win 65535
        +0    > . 1:1441(1440) ack 1
        +.01  < . 1:1(0) ack 2881 win 65535
        +0    > . 2881:4321(1440) ack 1
        +.01  < . 1:1(0) ack 5761 win 65535
        """);

    [Fact]
    public void ResetInTheWindowButNotAtRcvNxtGetsAChallengeAck() => new TcpScript().Run(PassiveOpen + "\n" + """
        +0    < R. 500:500(0) ack 1 win 2025
        +0    > . 1:1(0) ack 1
        +0    state(Established)
        +0    < R. 1:1(0) ack 1 win 2025
        +0    state(Closed)
        +0    error(ECONNRESET)
        """);

    [Fact]
    public void SynOnAnEstablishedConnectionGetsAChallengeAck() => new TcpScript().Run(PassiveOpen + "\n" + """
        +0    < S 100:100(0) win 65535 <mss 1440>
        +0    > . 1:1(0) ack 1
        +0    state(Established)
        """);

    [Fact]
    public void ActiveCloseWaitsInTimeWaitAndReAcksARetransmittedFin() => new TcpScript().Run(PassiveOpen + "\n" + """
        +0    close()
        +0    > F. 1:1(0) ack 1
        +.01  < F. 1:1(0) ack 2 win 2025 <nop,nop,TS val 200 ecr 0>
        +0    > . 2:2(0) ack 2
        +0    state(TimeWait)
        +1    < F. 1:1(0) ack 2 win 2025 <nop,nop,TS val 300 ecr 0>
        +0    > . 2:2(0) ack 2
        +60   state(Closed)
        """);

    [Fact]
    public void PassiveCloseGoesThroughCloseWaitAndLastAck() => new TcpScript().Run(PassiveOpen + "\n" + """
        +0    < F. 1:1(0) ack 1 win 2025 <nop,nop,TS val 200 ecr 0>
        +0    > . 1:1(0) ack 2
        +0    state(CloseWait)
        +0    read(10) = 0
        +0    close()
        +0    > F. 1:1(0) ack 2
        +0    state(LastAck)
        +.01  < . 2:2(0) ack 2 win 2025 <nop,nop,TS val 210 ecr 0>
        +0    state(Closed)
        """);

    [Fact]
    public void ZeroWindowIsProbedWithBackoffUntilItOpens() => new TcpScript().Run(PassiveOpen + "\n" + """
        +0    < . 1:1(0) ack 1 win 0 <nop,nop,TS val 120 ecr 0>
        +0    write(1000)
        +.2   > . 0:0(0) ack 1
        +.01  < . 1:1(0) ack 1 win 0 <nop,nop,TS val 130 ecr 0>
        +.39  > . 0:0(0) ack 1
        +.01  < . 1:1(0) ack 1 win 2025 <nop,nop,TS val 140 ecr 0>
        +0    > P. 1:1001(1000) ack 1
        """);

    [Fact]
    public void KeepaliveProbesThenGivesUp() => new TcpScript().Run(PassiveOpen + "\n" + """
        +0    keepalive(10, 5, 2)
        +10   > . 0:0(0) ack 1
        +5    > . 0:0(0) ack 1
        +5    > R. 1:1(0) ack 1
        +0    error(ETIMEDOUT)
        """);

    [Fact]
    public void ActiveOpenRetransmitsTheSynWithBackoff() => new TcpScript().Run("""
        0     connect(9000)
        +0    > S 0:0(0) <mss 1440,sackOK,TS val * ecr 0,nop,wscale 7>
        +1    > S 0:0(0) <mss 1440,sackOK,TS val * ecr 0,nop,wscale 7>
        +2    > S 0:0(0) <mss 1440,sackOK,TS val * ecr 0,nop,wscale 7>
        +.01  < S. 0:0(0) ack 1 win 65535 <mss 1440,sackOK,TS val 500 ecr 0,nop,wscale 7>
        +0    > . 1:1(0) ack 1 <nop,nop,TS val * ecr 500>
        +0    state(Established)
        """);

    [Fact]
    public void SimultaneousOpen() => new TcpScript().Run("""
        0     connect(9000)
        +0    > S 0:0(0) <mss 1440,sackOK,TS val * ecr 0,nop,wscale 7>
        +.01  < S 0:0(0) win 65535 <mss 1440,sackOK,TS val 100 ecr 0,nop,wscale 7>
        +0    > S. 0:0(0) ack 1 <mss 1440,sackOK,TS val * ecr 100,nop,wscale 7>
        +.01  < . 1:1(0) ack 1 win 2025 <nop,nop,TS val 110 ecr 0>
        +0    state(Established)
        """);

    [Fact]
    public void ConnectionRefusedByReset() => new TcpScript().Run("""
        0     connect(9000)
        +0    > S 0:0(0) <mss 1440,sackOK,TS val * ecr 0,nop,wscale 7>
        +.01  < R. 0:0(0) ack 1 win 0
        +0    state(Closed)
        +0    error(ECONNREFUSED)
        """);

    [Fact]
    public void OldTimestampIsRejectedByPaws() => new TcpScript().Run(PassiveOpen + "\n" + """
        +0    < P. 1:101(100) ack 1 win 2025 <nop,nop,TS val 50 ecr 0>
        +0    > . 1:1(0) ack 1 <nop,nop,TS val * ecr 110>
        +0    read(1000) = EAGAIN
        """);

    [Fact]
    public void LingerZeroCloseSendsAReset() => new TcpScript().Run(PassiveOpen + "\n" + """
        +0    linger0()
        +0    close()
        +0    > R. 1:1(0) ack 1
        """);

    [Fact]
    public void CloseWithUnreadDataSendsAReset() => new TcpScript().Run(PassiveOpen + "\n" + """
        +0    < P. 1:101(100) ack 1 win 2025 <nop,nop,TS val 120 ecr 0>
        +0    close()
        +0    > R. 1:1(0) ack 101
        """);
}

/// <summary>RST in every state (RFC 9293 §3.10.7, RFC 5961 §3) and the SYN option combinations Linux sends.</summary>
public sealed class TcpScriptStateTests
{
    private const string PassiveOpen = """
        0     bind(8080)
        +0    listen(1)
        +0    < S 0:0(0) win 64800 <mss 1440,sackOK,TS val 100 ecr 0,nop,wscale 5>
        +0    > S. 0:0(0) ack 1 <mss 1440,sackOK,TS val * ecr 100,nop,wscale 7>
        +.01  < . 1:1(0) ack 1 win 2025 <nop,nop,TS val 110 ecr 0>
        +0    accept()

        """;

    [Fact]
    public void ResetInSynReceivedDropsTheHalfOpenConnection() => new TcpScript().Run("""
        0     bind(8080)
        +0    listen(1)
        +0    < S 0:0(0) win 64800 <mss 1440>
        +0    > S. 0:0(0) ack 1 <mss 1440>
        +.01  < R 1:1(0) win 0
        +1    < . 1:1(0) ack 1 win 2025
        +0    > R 1:1(0)
        """);

    [Theory]
    [InlineData("FinWait1", "+0 close()\n+0 > F. 1:1(0) ack 1")]
    [InlineData("FinWait2", "+0 close()\n+0 > F. 1:1(0) ack 1\n+.01 < . 1:1(0) ack 2 win 2025 <nop,nop,TS val 120 ecr 0>")]
    [InlineData("CloseWait", "+0 < F. 1:1(0) ack 1 win 2025 <nop,nop,TS val 120 ecr 0>\n+0 > . 1:1(0) ack 2")]
    public void ResetAtRcvNxtClosesFromEveryState(string state, string reach)
    {
        bool peerFin = state == "CloseWait";
        new TcpScript().Run(PassiveOpen + reach + $"""

            +0    state({state})
            +.01  < R. {(peerFin ? 2 : 1)}:{(peerFin ? 2 : 1)}(0) ack {(state == "FinWait2" ? 2 : 1)} win 2025
            +0    state(Closed)
            """);
    }

    [Fact]
    public void ResetInClosingAndLastAckCloses()
    {
        new TcpScript().Run(PassiveOpen + """
            +0    close()
            +0    > F. 1:1(0) ack 1
            +.01  < F. 1:1(0) ack 1 win 2025 <nop,nop,TS val 120 ecr 0>
            +0    > . 2:2(0) ack 2
            +0    state(Closing)
            +.01  < R. 2:2(0) ack 1 win 2025
            +0    state(Closed)
            """);
        new TcpScript().Run(PassiveOpen + """
            +0    < F. 1:1(0) ack 1 win 2025 <nop,nop,TS val 120 ecr 0>
            +0    > . 1:1(0) ack 2
            +0    close()
            +0    > F. 1:1(0) ack 2
            +0    state(LastAck)
            +.01  < R. 2:2(0) ack 1 win 2025
            +0    state(Closed)
            """);
    }

    [Fact]
    public void ResetInTimeWaitEndsIt() => new TcpScript().Run(PassiveOpen + """
        +0    close()
        +0    > F. 1:1(0) ack 1
        +.01  < F. 1:1(0) ack 2 win 2025 <nop,nop,TS val 120 ecr 0>
        +0    > . 2:2(0) ack 2
        +0    state(TimeWait)
        +.01  < R. 2:2(0) ack 2 win 0
        +0    state(Closed)
        """);

    [Fact]
    public void ResetOutsideTheWindowIsSilentlyDropped() => new TcpScript().Run(PassiveOpen + """
        +0    < R. 5000000:5000000(0) ack 1 win 2025
        +1    state(Established)
        """);

    [Theory]
    [InlineData(false, false, false)]
    [InlineData(true, false, false)]
    [InlineData(false, true, false)]
    [InlineData(false, false, true)]
    [InlineData(true, true, false)]
    [InlineData(true, false, true)]
    [InlineData(false, true, true)]
    [InlineData(true, true, true)]
    public void SynAckEchoesExactlyTheOptionsOffered(bool sack, bool ts, bool wscale)
    {
        var offered = new List<string> { "mss 1440" };
        var answered = new List<string> { "mss 1440" };
        if (sack)
        {
            offered.Add("sackOK");
            answered.Add("sackOK");
        }

        if (ts)
        {
            offered.Add("TS val 100 ecr 0");
            answered.Add("TS val * ecr 100");
        }

        if (wscale)
        {
            offered.Add("nop,wscale 5");
            answered.Add("wscale 7");
        }

        string data = ts ? "<nop,nop,TS val 120 ecr 0>" : string.Empty;
        int mss = 1440 - (ts ? 12 : 0);
        new TcpScript().Run($"""
            0     bind(8080)
            +0    listen(1)
            +0    < S 0:0(0) win 65535 <{string.Join(',', offered)}>
            +0    > S. 0:0(0) ack 1 <{string.Join(',', answered)}>
            +.01  < . 1:1(0) ack 1 win 65535 {data}
            +0    accept()
            +0    nodelay()
            +0    write({mss + 10})
            +0    > . 1:{mss + 1}({mss}) ack 1
            +0    > P. {mss + 1}:{mss + 11}(10) ack 1
            """);
    }
}
