using PluginProxy.Abstractions.Plugins;

namespace PluginProxy.Tests.Plugins.Amp;

/// <summary>
/// The plugin's decision for Amp's own routes. All tests touching the Amp key sources live in this class (xunit runs a
/// class's tests one at a time), because one of them sets the process-wide AMP_API_KEY.
/// </summary>
public sealed class AmpForwardingDecisionTests
{
    private const string Upstream = "http://127.0.0.1:9/amp-base";

    private static ForwardingDecision Forward(string ampcode, string route = "api-threads", string method = "GET", string? clientKey = "client-1",
        bool fromLoopback = true, string apiKeys = """["client-1","client-2"]""", IReadOnlyDictionary<string, string>? headers = null) =>
        AmpPlugin.Create().Forward(new ForwardingContext
        {
            Route = route,
            Method = method,
            Path = "/api/threads/t-1",
            ClientKey = clientKey,
            FromLoopback = fromLoopback,
            Headers = headers ?? new Dictionary<string, string>(),
            Settings = AmpPlugin.Settings("{\"api-keys\":" + apiKeys + ",\"ampcode\":{" + ampcode + "}}"),
        });

    [Fact]
    public void Without_an_upstream_url_the_request_is_refused_with_503_saying_what_to_set()
    {
        var decision = Forward(""" "upstream-api-key":"amp-key" """);

        Assert.Equal(503, decision.ErrorStatus);
        Assert.Contains("ampcode.upstream-url", decision.ErrorMessage);
        Assert.Null(decision.Destination);
    }

    [Fact]
    public void Restricted_to_localhost_refuses_a_remote_peer_whatever_its_forwarding_headers_say()
    {
        const string config = $""" "upstream-url":"{Upstream}","upstream-api-key":"amp-key","restrict-management-to-localhost":"true" """;
        var spoofed = new Dictionary<string, string> { ["X-Forwarded-For"] = "127.0.0.1", ["X-Real-IP"] = "127.0.0.1", ["Forwarded"] = "for=127.0.0.1" };

        var remote = Forward(config, fromLoopback: false, headers: spoofed);
        Assert.Equal(403, remote.ErrorStatus);
        Assert.Contains("restricted to localhost", remote.ErrorMessage);
        Assert.Null(remote.Destination);

        Assert.Equal(Upstream, Forward(config, fromLoopback: true).Destination);
        // Not restricted: a remote peer with a client key is relayed.
        Assert.Equal(Upstream, Forward(config.Replace("\"true\"", "\"false\""), fromLoopback: false).Destination);
    }

    [Fact]
    public void The_amp_key_follows_the_client_key_then_the_configured_key()
    {
        const string config = $$"""
            "upstream-url":"{{Upstream}}","upstream-api-key":"amp-default",
            "upstream-api-keys":[
              {"upstream-api-key":"amp-for-2","api-keys":["client-2"]},
              {"upstream-api-key":"amp-duplicate","api-keys":["client-2"]}
            ]
            """;

        var mapped = Forward(config, clientKey: "client-2");
        Assert.Equal("Bearer amp-for-2", mapped.SetHeaders["Authorization"]);
        Assert.Equal("amp-for-2", mapped.SetHeaders["X-Api-Key"]);
        Assert.Equal(Upstream, mapped.Destination);

        var fallback = Forward(config, clientKey: "client-1");
        Assert.Equal("Bearer amp-default", fallback.SetHeaders["Authorization"]);
        Assert.Equal("amp-default", fallback.SetHeaders["X-Api-Key"]);
    }

    [Fact]
    public void Without_a_configured_key_the_environment_then_amps_secrets_file_supply_it()
    {
        var secrets = Path.Combine(Directory.CreateTempSubdirectory("amp-secrets-").FullName, "secrets.json");
        File.WriteAllText(secrets, """{"apiKey@https://ampcode.com/":"amp-from-file","other":"x"}""");
        var config = $""" "upstream-url":"{Upstream}","secrets-file":"{secrets}" """;
        var missing = $""" "upstream-url":"{Upstream}","secrets-file":"{secrets}.absent" """;
        var before = Environment.GetEnvironmentVariable("AMP_API_KEY");
        try
        {
            Environment.SetEnvironmentVariable("AMP_API_KEY", null);
            Assert.Equal("Bearer amp-from-file", Forward(config).SetHeaders["Authorization"]);
            // No key anywhere: relayed without one (the client's own key never goes upstream; the host drops it).
            var none = Forward(missing);
            Assert.Equal(Upstream, none.Destination);
            Assert.Empty(none.SetHeaders);

            Environment.SetEnvironmentVariable("AMP_API_KEY", "amp-from-env");
            Assert.Equal("Bearer amp-from-env", Forward(config).SetHeaders["Authorization"]);
            Assert.Equal("Bearer amp-configured", Forward(config + ""","upstream-api-key":"amp-configured" """).SetHeaders["Authorization"]);
        }
        finally
        {
            Environment.SetEnvironmentVariable("AMP_API_KEY", before);
            File.Delete(secrets);
        }
    }

    [Fact]
    public void Api_routes_need_a_client_key_when_api_keys_are_set_while_pages_go_through_without_the_amp_key()
    {
        const string config = $""" "upstream-url":"{Upstream}","upstream-api-key":"amp-key" """;

        var api = Forward(config, clientKey: null);
        Assert.Equal(401, api.ErrorStatus);
        Assert.Equal(401, Forward(config, route: "threads-rss", clientKey: null).ErrorStatus);

        var page = Forward(config, route: "threads", clientKey: null);
        Assert.Equal(Upstream, page.Destination);
        Assert.Empty(page.SetHeaders);
        Assert.Equal("Bearer amp-key", Forward(config, route: "auth", method: "POST", clientKey: "client-1").SetHeaders["Authorization"]);

        // No api-keys (a loopback-only proxy): everyone is the operator.
        Assert.Equal("Bearer amp-key", Forward(config, clientKey: null, apiKeys: "[]").SetHeaders["Authorization"]);
    }

    [Fact]
    public void Preflights_on_api_routes_and_writes_to_pages_are_refused()
    {
        const string config = $""" "upstream-url":"{Upstream}","upstream-api-key":"amp-key" """;

        Assert.Equal(403, Forward(config, method: "OPTIONS").ErrorStatus);
        Assert.Equal(405, Forward(config, route: "settings", method: "POST").ErrorStatus);
        Assert.Equal(404, Forward(config, route: "unknown-route").ErrorStatus);
    }
}
