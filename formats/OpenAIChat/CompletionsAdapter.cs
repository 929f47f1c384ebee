using System.Text.Json.Nodes;
using PluginProxy.Abstractions.Canonical;

namespace PluginProxy.Formats.OpenAIChat;

/// <summary>Placeholder until the chat codec lands.</summary>
public static class CompletionsAdapter
{
    public static ChatRequest DecodeRequest(JsonObject body) => throw new NotImplementedException();
    public static JsonObject EncodeResponse(ChatResponse response, ChatRequest request) => throw new NotImplementedException();
    public static IStreamEncoder CreateStreamEncoder(ChatRequest request) => throw new NotImplementedException();
}
