using System.Threading.Tasks.Sources;

namespace Emu.Stack.Tcp;

/// <summary>
/// One pending asynchronous operation on a socket (connect, accept, send, receive), reused for every operation so that
/// waiting allocates nothing; it completes on the node's event loop, running the continuation inline.
/// </summary>
public sealed class Waiter<T> : IValueTaskSource<T>
{
    private ManualResetValueTaskSourceCore<T> _core = new() { RunContinuationsAsynchronously = false };

    public bool Pending { get; private set; }

    public ValueTask<T> Start()
    {
        if (Pending)
        {
            throw new InvalidOperationException("one operation of this kind at a time on a socket");
        }

        Pending = true;
        _core.Reset();
        return new ValueTask<T>(this, _core.Version);
    }

    public void Complete(T result)
    {
        if (!Pending)
        {
            return;
        }

        Pending = false;
        _core.SetResult(result);
    }

    T IValueTaskSource<T>.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<T>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<T>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _core.OnCompleted(continuation, state, token, flags);
}
