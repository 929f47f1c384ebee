namespace PluginProxy.Tests.Support;

/// <summary>
/// Source of a provider plugin whose executor implements <c>IExecutor</c> directly, without the SDK's base: it ignores
/// payload rules and credential headers entirely, so the host must apply them. It owns <c>openai-compatibility</c>
/// credentials (start it without the built-in plugins), speaks Gemini natively (so OpenAI chat clients are translated),
/// sends a fixed chat body to <c>{base-url}/chat/completions</c>, throws a bug for the prompt <c>boom</c>, and its token
/// count always fails with a 429. It only streams (<c>StreamsOnly</c>): non-streaming clients are served by the host from
/// the aggregated stream, and <c>CompleteAsync</c> throws if called.
/// </summary>
public static class RawExecutorPlugin
{
    public static byte[] Compile() => TestPluginCompiler.Compile("TestRaw", "1.0.0", """
        using System.Net.Http.Json;
        using System.Runtime.CompilerServices;
        using System.Text;
        using System.Text.Json.Nodes;
        using PluginProxy.Abstractions.Canonical;
        using PluginProxy.Abstractions.Plugins;
        using PluginProxy.Abstractions.Upstream;

        namespace TestRaw;

        public sealed class RawProvider : IProviderPlugin
        {
            public string Id => "raw";
            public IReadOnlyList<string> CredentialTypes { get; } = new[] { "openai-compatibility" };
            public Dialect NativeDialect => Dialect.Gemini;
            public IReadOnlyList<ModelInfo> Models { get; } = new ModelInfo[0];
            public IExecutor Executor { get; } = new RawExecutor();
            public IAuthenticator? Authenticator => null;
        }

        public sealed class RawExecutor : IExecutor
        {
            // The host must serve non-streaming clients from StreamAsync, aggregated.
            public bool StreamsOnly => true;

            public Task<ChatResponse> CompleteAsync(UpstreamCall call, ChatRequest request, CancellationToken ct) =>
                throw new InvalidOperationException("CompleteAsync called on a StreamsOnly executor");

            private async Task<ChatResponse> AskAsync(UpstreamCall call, ChatRequest request, CancellationToken ct)
            {
                var prompt = request.Messages.SelectMany(m => m.Parts).OfType<TextPart>().Select(t => t.Text).LastOrDefault() ?? "";
                if (prompt == "boom") throw new InvalidOperationException("a bug in the raw plugin");
                var body = "{\"model\":\"" + call.UpstreamModel + "\",\"messages\":[{\"role\":\"user\",\"content\":\"" + prompt + "\"}]}";
                using var message = new HttpRequestMessage(HttpMethod.Post, call.Credential.BaseUrl!.TrimEnd('/') + "/chat/completions")
                {
                    Content = new StringContent(body, Encoding.UTF8, "application/json"),
                };
                message.Headers.TryAddWithoutValidation("Authorization", "Bearer " + call.Credential.ApiKey);
                using var response = await call.Http.SendAsync(message, ct);
                var json = JsonNode.Parse(await response.Content.ReadAsStringAsync(ct))!;
                if (!response.IsSuccessStatusCode)
                    throw new UpstreamException(UpstreamException.KindFor((int)response.StatusCode), (int)response.StatusCode, "raw upstream failed");
                var text = (string?)json["choices"]?[0]?["message"]?["content"] ?? "";
                return new ChatResponse { Id = "raw", Model = call.UpstreamModel, Choices = { new Choice { Parts = { new TextPart(text) }, FinishReason = FinishReason.Stop } } };
            }

            public async IAsyncEnumerable<StreamEvent> StreamAsync(UpstreamCall call, ChatRequest request, [EnumeratorCancellation] CancellationToken ct)
            {
                var answer = await AskAsync(call, request, ct);
                yield return new ResponseStarted(answer.Id, answer.Model, 0);
                yield return new TextDelta(0, ((TextPart)answer.Choices[0].Parts[0]).Text);
                yield return new ChoiceFinished(0, FinishReason.Stop);
                yield return ResponseCompleted.Instance;
            }

            public Task<NativeResponse> SendNativeAsync(UpstreamCall call, NativeRequest request, CancellationToken ct) =>
                throw new NotSupportedException("the raw plugin has no passthrough");

            public Task<long> CountTokensAsync(UpstreamCall call, ChatRequest request, CancellationToken ct) =>
                throw new UpstreamException(FailureKind.Quota, 429, "token counting quota exhausted");
        }
        """);
}
