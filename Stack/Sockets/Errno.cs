namespace Emu.Stack.Sockets;

/// <summary>The errno values the sockets layer returns (negated, as the kernel returns them).</summary>
public static class Errno
{
    public const int EInval = 22;
    public const int EMsgSize = 90;
    public const int EProtoNoSupport = 93;
    public const int ESockTNoSupport = 94;
    public const int EAddrInUse = 98;
    public const int EAddrNotAvail = 99;
    public const int ENetUnreach = 101;
    public const int ENotConn = 107;
    public const int EDestAddrReq = 89;
    public const int EBadF = 9;
    public const int EAgain = 11;
    public const int EPipe = 32;
    public const int EConnReset = 104;
    public const int ENoBufs = 105;
    public const int EIsConn = 106;
    public const int ETimedOut = 110;
    public const int EConnRefused = 111;
    public const int EAlready = 114;
    public const int EInProgress = 115;
}
