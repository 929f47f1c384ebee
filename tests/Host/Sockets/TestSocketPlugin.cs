using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Host.Sockets;

/// <summary>
/// A provider plugin with a WebSocket endpoint on <c>/v1/test-ws</c>, compiled at test time: each connection greets with
/// what the host told it (client key, query, whether auth headers reached it), adds a runtime credential (id from
/// <c>?id=</c>) serving <c>sock-model</c>, and echoes text frames; <c>bad-type</c> tries to add a credential of a type it
/// does not own. Its executor reaches <c>http://sock.invalid</c>, which only its transport (<c>TransportFor</c>) can answer.
/// </summary>
internal static class TestSocketPlugin
{
    public const string Name = "TestSocket";
    public const string Path = "/v1/test-ws";
    public const string Model = "sock-model";

    public static byte[] Compile() => TestPluginCompiler.Compile(Name, "1.0.0", """
        using System.Net;
        using System.Net.WebSockets;
        using System.Text;
        using System.Text.Json;
        using System.Text.Json.Nodes;
        using PluginProxy.Abstractions.Canonical;
        using PluginProxy.Abstractions.Credentials;
        using PluginProxy.Abstractions.Plugins;
        using PluginProxy.Sdk.Execution;

        namespace TestSocket;

        public sealed class SocketProvider : IProviderPlugin
        {
            public string Id => "sock";
            public IReadOnlyList<string> CredentialTypes { get; } = new[] { "sock" };
            public Dialect NativeDialect => Dialect.OpenAIChat;
            public IReadOnlyList<ModelInfo> Models { get; } = new[] { new ModelInfo("sock-model") };
            public IExecutor Executor { get; } = new SockExecutor();
            public IAuthenticator? Authenticator => null;
            public IReadOnlyList<SocketEndpoint> SocketEndpoints { get; } = new[] { new SocketEndpoint("/v1/test-ws", RunAsync) };
            public HttpMessageHandler? TransportFor(CredentialRecord credential) => new Answering(credential.Id);

            private static async Task RunAsync(SocketSession session, CancellationToken ct)
            {
                var id = session.Query.TryGetValue("id", out var requested) ? requested : "sock-1";
                using var handle = session.Credentials.Add(new CredentialRecord { Id = id, Type = "sock", Provider = "sock", Label = id });
                var greeting = "hello key=" + (session.ClientKey ?? "-") + " query=" + string.Join(",", session.Query.Keys.OrderBy(k => k))
                    + " auth-header=" + (session.Headers.ContainsKey("Authorization") ? "yes" : "no");
                await Send(session.Socket, greeting, ct);
                var buffer = new byte[4096];
                while (true)
                {
                    var result = await session.Socket.ReceiveAsync(buffer, ct);
                    if (result.MessageType == WebSocketMessageType.Close) return;
                    var text = Encoding.UTF8.GetString(buffer, 0, result.Count);
                    if (text == "bad-type")
                    {
                        try
                        {
                            session.Credentials.Add(new CredentialRecord { Id = "x", Type = "not-mine", Provider = "x", Label = "x" });
                            await Send(session.Socket, "accepted", ct);
                        }
                        catch (ArgumentException e)
                        {
                            await Send(session.Socket, "refused: " + e.Message, ct);
                        }
                        continue;
                    }
                    await Send(session.Socket, "echo " + text, ct);
                }
            }

            private static Task Send(WebSocket socket, string text, CancellationToken ct) =>
                socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, ct);
        }

        public sealed class SockExecutor() : DialectHttpExecutor(Dialect.OpenAIChat)
        {
            protected override HttpRequestMessage CreateRequest(UpstreamCall call, UpstreamOperation operation, string? nativeOperation, string? query) =>
                new(HttpMethod.Post, "http://sock.invalid/v1/chat/completions");
        }

        /// <summary>Answers in place of the network: the credential id and the temperature it was sent (payload rules).</summary>
        public sealed class Answering(string credential) : HttpMessageHandler
        {
            protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
            {
                var body = JsonNode.Parse(await request.Content!.ReadAsStringAsync(ct))!;
                var text = "via transport " + credential + " temperature=" + body["temperature"]?.ToJsonString() + " header=" + string.Join(",", request.Headers.TryGetValues("x-sock", out var v) ? v : new string[0]);
                var answer = new JsonObject
                {
                    ["id"] = "c1", ["object"] = "chat.completion", ["model"] = "sock-model",
                    ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["finish_reason"] = "stop", ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = text } }),
                };
                return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(answer.ToJsonString(), Encoding.UTF8, "application/json") };
            }
        }
        """);
}
