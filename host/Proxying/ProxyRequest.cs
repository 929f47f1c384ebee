using System.Text.Json;
using Microsoft.AspNetCore.Http;
using PluginProxy.Abstractions.Canonical;
using PluginProxy.Host.Config;
using PluginProxy.Host.Models;

namespace PluginProxy.Host.Proxying;

/// <summary>
/// One inference request after it was read and checked: the body, its model and stream flag, and the config snapshot
/// every later step uses (a reload mid-request changes nothing for it). The resolver adds the routed model; the first
/// translated attempt adds the canonical request, which later attempts reuse.
/// </summary>
internal sealed class ProxyRequest(HttpContext http, InferenceRequest endpoint, LoadedConfig config, ReadOnlyMemory<byte> body, JsonDocument document,
    string model, bool stream)
{
    public HttpContext Http { get; } = http;
    public InferenceRequest Endpoint { get; } = endpoint;
    public LoadedConfig Config { get; } = config;
    /// <summary>The client's bytes, for passthrough.</summary>
    public ReadOnlyMemory<byte> Body { get; } = body;
    /// <summary>
    /// The body decoded to canonical by the client's dialect, from the index the reader built when it checked the body (a
    /// JSON object without duplicated keys): the body is parsed once, and no DOM is built. The codec copies what it keeps,
    /// so nothing of the index is needed once this returns; the reader disposes it with the response.
    /// </summary>
    public ChatRequest DecodeBody() => Client.Decode(document.RootElement);

    /// <summary>The model as the client sent it.</summary>
    public string ClientModel { get; } = model;
    public bool Stream { get; } = stream;

    public ClientDialect Client => Endpoint.Client;
    public CancellationToken Aborted => Http.RequestAborted;

    /// <summary>The model after routing plugins, as text (for messages).</summary>
    public string RoutedModel { get; set; } = "";

    /// <summary>The model after routing plugins, split from its thinking suffix.</summary>
    public ModelName Routed { get; set; }

    /// <summary>The model name translated answers carry: the one a routing plugin says the client asked for, else the client's.</summary>
    public string? ResponseModel { get; set; }

    public ChatRequest? Canonical { get; set; }

    /// <summary>Set when a routing plugin serves the request elsewhere (<c>RouteDecision.Forward</c>); no local account is used then.</summary>
    public PluginProxy.Abstractions.Plugins.ForwardingDecision? Forward { get; set; }

    /// <summary>The id of the routing plugin that set <see cref="Forward"/>.</summary>
    public string? ForwardedBy { get; set; }

    /// <summary>
    /// Session affinity with a Responses client: the id of the answer this request gets is learned
    /// (<see cref="ResponseId"/>), so a later <c>previous_response_id</c> finds the conversation.
    /// </summary>
    public bool LearnsResponseId => Client.Dialect == Dialect.OpenAIResponses && Config.Config.Routing.SessionAffinity;

    /// <summary>The Responses id the client was given by the attempt that served it (with <see cref="LearnsResponseId"/>).</summary>
    public string? ResponseId { get; set; }

    /// <summary>The reasoning settings as the client sent them, before any suffix applied (set when decoding).</summary>
    public ReasoningConfig? ClientReasoning { get; set; }
}
