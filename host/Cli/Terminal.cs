namespace PluginProxy.Host.Cli;

/// <summary>Where a command talks to its user: the console for real, writers and scripted input in tests.</summary>
internal sealed class Terminal
{
    public required TextWriter Out { get; init; }
    public required TextWriter Error { get; init; }

    /// <summary>A line from the user (the paste-the-redirect-URL fallback); null at end of input.</summary>
    public Func<CancellationToken, Task<string?>>? ReadLine { get; init; }

    public Func<string, bool>? OpenBrowser { get; init; }

    /// <summary>Hooks Ctrl+C to <paramref name="cancel"/> for the returned scope.</summary>
    public Func<CancellationTokenSource, IDisposable> OnCancel { get; init; } = _ => NoScope.Instance;

    public static Terminal FromConsole() => new()
    {
        Out = Console.Out,
        Error = Console.Error,
        // Console reads block whatever token is passed; read on the pool so the wait for the browser's callback goes on.
        ReadLine = ct => Task.Run(Console.In.ReadLine, CancellationToken.None).WaitAsync(ct),
        OpenBrowser = Commands.OpenBrowser,
        OnCancel = cancel =>
        {
            ConsoleCancelEventHandler handler = (_, e) =>
            {
                e.Cancel = true;
                cancel.Cancel();
            };
            Console.CancelKeyPress += handler;
            return new Scope(() => Console.CancelKeyPress -= handler);
        },
    };

    private sealed class Scope(Action dispose) : IDisposable
    {
        public void Dispose() => dispose();
    }

    private sealed class NoScope : IDisposable
    {
        public static readonly NoScope Instance = new();

        public void Dispose()
        {
        }
    }
}
