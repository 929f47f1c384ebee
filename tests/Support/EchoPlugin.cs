namespace PluginProxy.Tests.Support;

/// <summary>
/// Source of a small provider plugin used by the host tests, compiled at test time in as many versions as needed.
/// Credential type <c>echo</c>, model <c>echo-model</c>, native dialect OpenAI chat. Its passthrough answer names its
/// version; a body containing <c>"slow"</c> streams one event, waits for the file named by the credential's
/// <c>release_file</c>, then finishes; a body containing <c>throw-secret</c> throws with the credential's token in
/// the message (a careless plugin, for the redaction test).
/// </summary>
public static class EchoPlugin
{
    public const string CredentialType = "echo";
    public const string Model = "echo-model";

    public static byte[] Compile(string version, string name = "TestEcho") => TestPluginCompiler.Compile(name, version, Source(version));

    public static string Source(string version) => """
        using System.Runtime.CompilerServices;
        using System.Text;
        using PluginProxy.Abstractions.Canonical;
        using PluginProxy.Abstractions.Plugins;

        namespace TestEcho;

        public sealed class EchoProvider : IProviderPlugin
        {
            public string Id => "echo";
            public IReadOnlyList<string> CredentialTypes { get; } = new[] { "echo" };
            public Dialect NativeDialect => Dialect.OpenAIChat;
            public IReadOnlyList<ModelInfo> Models { get; } = new[] { new ModelInfo("echo-model") { OwnedBy = "echo" } };
            public IExecutor Executor { get; } = new EchoExecutor();
            public IAuthenticator? Authenticator => null;
        }

        public sealed class EchoExecutor : IExecutor
        {
            public const string Version = "VERSION";

            public Task<ChatResponse> CompleteAsync(UpstreamCall call, ChatRequest request, CancellationToken ct) =>
                Task.FromResult(new ChatResponse { Id = "echo", Model = call.UpstreamModel, Choices = { new Choice { Parts = { new TextPart("echo " + Version) }, FinishReason = FinishReason.Stop } } });

            public async IAsyncEnumerable<StreamEvent> StreamAsync(UpstreamCall call, ChatRequest request, [EnumeratorCancellation] CancellationToken ct)
            {
                await Task.Yield();
                yield return new ResponseStarted("echo", call.UpstreamModel, 0);
                yield return new TextDelta(0, "echo " + Version);
                yield return new ChoiceFinished(0, FinishReason.Stop);
                yield return ResponseCompleted.Instance;
            }

            public Task<NativeResponse> SendNativeAsync(UpstreamCall call, NativeRequest request, CancellationToken ct)
            {
                var body = Encoding.UTF8.GetString(request.Body.Span);
                if (body.Contains("throw-secret"))
                    throw new InvalidOperationException("careless plugin leaked " + call.Credential.GetString("access_token"));
                var headers = new Dictionary<string, string>();
                if (!body.Contains("\"slow\""))
                {
                    var json = "{\"served_by\":\"" + Version + "\",\"model\":\"" + call.UpstreamModel + "\"}";
                    return Task.FromResult(new NativeResponse(200, "application/json", new MemoryStream(Encoding.UTF8.GetBytes(json)), headers));
                }
                var release = call.Credential.GetString("release_file") ?? "";
                return Task.FromResult(new NativeResponse(200, "text/event-stream", new SlowStream(release, ct), headers));
            }

            public Task<long> CountTokensAsync(UpstreamCall call, ChatRequest request, CancellationToken ct) => Task.FromResult(42L);
        }

        /// <summary>Yields "start", then blocks until the release file exists, then yields "end".</summary>
        internal sealed class SlowStream(string releaseFile, CancellationToken ct) : Stream
        {
            private int _stage;

            public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
            {
                string chunk;
                switch (_stage++)
                {
                    case 0:
                        chunk = "data: {\"v\":\"" + EchoExecutor.Version + " start\"}\n\n";
                        break;
                    case 1:
                        while (!File.Exists(releaseFile)) await Task.Delay(20, cancellationToken);
                        chunk = "data: {\"v\":\"" + EchoExecutor.Version + " end\"}\n\ndata: [DONE]\n\n";
                        break;
                    default:
                        return 0;
                }
                var bytes = Encoding.UTF8.GetBytes(chunk);
                bytes.CopyTo(buffer);
                return bytes.Length;
            }

            public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
            public override bool CanRead => true;
            public override bool CanSeek => false;
            public override bool CanWrite => false;
            public override long Length => throw new NotSupportedException();
            public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
            public override void Flush() { }
            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
            public override void SetLength(long value) => throw new NotSupportedException();
            public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        }
        """.Replace("VERSION", version);

    /// <summary>A credential file for the echo plugin.</summary>
    public static string Credential(string accessToken = "echo-token-0000", string? releaseFile = null) =>
        $$"""{"type":"echo","email":"echo@example.test","access_token":"{{accessToken}}","release_file":"{{releaseFile?.Replace("\\", "\\\\") ?? ""}}"}""";
}
