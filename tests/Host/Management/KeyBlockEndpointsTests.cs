using System.Text.Json.Nodes;

namespace PluginProxy.Tests.Host.Management;

public sealed class KeyBlockEndpointsTests
{
    private const string Yaml = """
        api-keys:
          - client-key-1 # the first client
        # provider keys
        gemini-api-key:
          - api-key: g-key-1
            base-url: "https://g.invalid"
        ampcode:
          upstream-url: "https://amp.invalid"
        """;

    [Fact]
    public async Task Client_api_keys_put_patch_delete_and_a_new_key_works_at_once()
    {
        await using var server = await ManagementServer.StartAsync(Yaml);
        Assert.Equal("client-key-1", (string?)(await server.GetAsync("/api-keys")).Body!["api-keys"]![0]);
        Assert.Equal(200, (await server.PutAsync("/api-keys", """{"items":["k-a","k-b"]}""")).Status);
        Assert.Equal(["k-a", "k-b"], server.Server.Server.Config.Config.ApiKeys);
        Assert.Contains("# provider keys", server.ConfigText);

        Assert.Equal(200, (await server.PatchAsync("/api-keys", """{"old":"k-a","new":"k-c"}""")).Status);
        Assert.Equal(200, (await server.PatchAsync("/api-keys", """{"index":1,"value":"k-d"}""")).Status);
        Assert.Equal(["k-c", "k-d"], server.Server.Server.Config.Config.ApiKeys);
        Assert.Equal(200, (await server.DeleteAsync("/api-keys?value=k-c")).Status);
        Assert.Equal(["k-d"], server.Server.Server.Config.Config.ApiKeys);

        // The client key list is live for the API itself.
        var models = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        models.Headers.Authorization = new("Bearer", "k-d");
        using (var response = await server.Server.Client.SendAsync(models)) Assert.Equal(200, (int)response.StatusCode);

        Assert.Equal(400, (await server.PutAsync("/api-keys", """{"items":[]}""")).Status);
        Assert.Equal(400, (await server.PutAsync("/api-keys", """[1,2]""")).Status);
        Assert.Equal(400, (await server.PatchAsync("/api-keys", """{"new":"x"}""")).Status);
        Assert.Equal(400, (await server.DeleteAsync("/api-keys")).Status);
        Assert.Equal(404, (await server.DeleteAsync("/api-keys?index=9")).Status);
    }

    [Fact]
    public async Task Provider_key_blocks_are_replaced_patched_by_key_and_deleted()
    {
        await using var server = await ManagementServer.StartAsync(Yaml);
        var listed = (await server.GetAsync("/gemini-api-key")).Body!["gemini-api-key"]!.AsArray();
        Assert.Equal("g-key-1", (string?)listed.Single()!["api-key"]);

        Assert.Equal(200, (await server.PutAsync("/claude-api-key", """[{"api-key":"c-key-1","priority":2,"headers":{"X-T":"1"}},{"api-key":""}]""")).Status);
        var claude = server.Server.Server.Config.Config.ClaudeApiKey.Single();
        Assert.Equal(("c-key-1", 2, "1"), (claude.ApiKey, claude.Priority, claude.Headers["X-T"]));
        Assert.Contains(server.Server.Server.Credentials.Current.All, c => c.ApiKey == "c-key-1");

        Assert.Equal(200, (await server.PatchAsync("/claude-api-key", """{"match":"c-key-1","value":{"prefix":"team","priority":9}}""")).Status);
        claude = server.Server.Server.Config.Config.ClaudeApiKey.Single();
        Assert.Equal(("team", 2), (claude.Prefix, claude.Priority)); // priority only changes through PUT
        Assert.Equal(404, (await server.PatchAsync("/claude-api-key", """{"match":"nope","value":{}}""")).Status);
        Assert.Equal(400, (await server.PatchAsync("/claude-api-key", """{"value":{}}""")).Status);

        Assert.Equal(200, (await server.PutAsync("/codex-api-key", """[{"api-key":"x-1","base-url":"https://c.invalid"},{"api-key":"x-2"}]""")).Status);
        Assert.Equal(["x-1"], server.Server.Server.Config.Config.CodexApiKey.Select(e => e.ApiKey));

        Assert.Equal(200, (await server.DeleteAsync("/gemini-api-key?api-key=g-key-1")).Status);
        Assert.Empty(server.Server.Server.Config.Config.GeminiApiKey);
        Assert.Contains("gemini-api-key: []", server.ConfigText);
        Assert.Equal(404, (await server.DeleteAsync("/gemini-api-key?api-key=g-key-1")).Status);
        Assert.Equal("missing api-key or index", (string?)(await server.DeleteAsync("/vertex-api-key")).Body!["error"]);
    }

    [Fact]
    public async Task Openai_compatibility_entries_by_name()
    {
        await using var server = await ManagementServer.StartAsync(Yaml);
        Assert.Equal(200, (await server.PutAsync("/openai-compatibility",
            """[{"name":"local","base-url":"http://127.0.0.1:9","api-key-entries":[{"api-key":"o-1"}],"models":[{"name":"m","alias":"m2"}]}]""")).Status);
        var entry = server.Server.Server.Config.Config.OpenaiCompatibility.Single();
        Assert.Equal(("local", "o-1", "m2"), (entry.Name, entry.ApiKeyEntries.Single().ApiKey, entry.Models.Single().Alias));
        Assert.Equal(200, (await server.PatchAsync("/openai-compatibility", """{"name":"local","value":{"prefix":"loc"}}""")).Status);
        Assert.Equal("loc", server.Server.Server.Config.Config.OpenaiCompatibility.Single().Prefix);
        Assert.Equal("local", (string?)(await server.GetAsync("/openai-compatibility")).Body!["openai-compatibility"]![0]!["name"]);
        Assert.Equal(400, (await server.PutAsync("/openai-compatibility", """[{"base-url":"http://x"}]""")).Status);
        Assert.Equal(200, (await server.DeleteAsync("/openai-compatibility?name=local")).Status);
        Assert.Empty(server.Server.Server.Config.Config.OpenaiCompatibility);
        Assert.Equal(400, (await server.DeleteAsync("/openai-compatibility")).Status);
    }

    [Fact]
    public async Task Oauth_excluded_models_and_model_alias_maps()
    {
        await using var server = await ManagementServer.StartAsync(Yaml);
        Assert.Equal(200, (await server.PutAsync("/oauth-excluded-models", """{"items":{"Claude":["claude-3-*"]}}""")).Status);
        Assert.Equal(["claude-3-*"], server.Server.Server.Config.Config.OauthExcludedModels["claude"]);
        var twice = await server.PutAsync("/oauth-excluded-models", """{"Claude":["a"],"claude":["b"]}""");
        Assert.Equal(400, twice.Status);
        Assert.Contains("more than once", (string?)twice.Body!["error"]);
        Assert.Equal(200, (await server.PatchAsync("/oauth-excluded-models", """{"provider":"codex","models":["gpt-4*"]}""")).Status);
        Assert.Equal(2, server.Server.Server.Config.Config.OauthExcludedModels.Count);
        Assert.Equal(404, (await server.PatchAsync("/oauth-excluded-models", """{"provider":"qwen","models":[]}""")).Status);
        Assert.Equal(200, (await server.DeleteAsync("/oauth-excluded-models?provider=codex")).Status);
        Assert.Equal(["claude"], server.Server.Server.Config.Config.OauthExcludedModels.Keys);
        Assert.Equal(400, (await server.PutAsync("/oauth-excluded-models", """{"claude":"not a list"}""")).Status);

        Assert.Equal(200, (await server.PatchAsync("/oauth-model-alias", """{"channel":"gemini-cli","aliases":[{"name":"gemini-2.5-pro","alias":"g25","fork":true}]}""")).Status);
        var alias = server.Server.Server.Config.Config.OauthModelAlias["gemini-cli"].Single();
        Assert.Equal(("gemini-2.5-pro", "g25", true), (alias.Name, alias.Alias, alias.Fork));
        Assert.Equal("g25", (string?)(await server.GetAsync("/oauth-model-alias")).Body!["oauth-model-alias"]!["gemini-cli"]![0]!["alias"]);
        Assert.Equal(400, (await server.DeleteAsync("/oauth-model-alias")).Status);
        Assert.Equal(200, (await server.DeleteAsync("/oauth-model-alias?channel=gemini-cli")).Status);
        Assert.Empty(server.Server.Server.Config.Config.OauthModelAlias);
    }

    [Fact]
    public async Task Ampcode_settings_and_upserted_lists()
    {
        await using var server = await ManagementServer.StartAsync(Yaml);
        Assert.Equal("https://amp.invalid", (string?)(await server.GetAsync("/ampcode")).Body!["ampcode"]!["upstream-url"]);
        Assert.Equal(200, (await server.PutAsync("/ampcode/upstream-url", """{"value":"https://amp2.invalid"}""")).Status);
        Assert.Equal("https://amp2.invalid", (string?)(await server.GetAsync("/ampcode/upstream-url")).Body!["upstream-url"]);
        Assert.Equal(200, (await server.PutAsync("/ampcode/force-model-mappings", """{"value":true}""")).Status);
        Assert.True((bool?)(await server.GetAsync("/ampcode/force-model-mappings")).Body!["force-model-mappings"]);
        Assert.Equal(400, (await server.PutAsync("/ampcode/restrict-management-to-localhost", """{"value":"no"}""")).Status);

        Assert.Equal(200, (await server.PutAsync("/ampcode/model-mappings", """{"value":[{"from":"a","to":"b"}]}""")).Status);
        Assert.Equal(200, (await server.PatchAsync("/ampcode/model-mappings", """{"value":[{"from":"a","to":"c"},{"from":"x","to":"y"}]}""")).Status);
        var mappings = (await server.GetAsync("/ampcode/model-mappings")).Body!["model-mappings"]!.AsArray();
        Assert.Equal(["a:c", "x:y"], mappings.Select(m => $"{m!["from"]}:{m["to"]}"));
        Assert.Equal(200, (await server.DeleteAsync("/ampcode/model-mappings", """{"value":["a"]}""")).Status);
        Assert.Single((await server.GetAsync("/ampcode/model-mappings")).Body!["model-mappings"]!.AsArray());
        Assert.Equal(400, (await server.PutAsync("/ampcode/model-mappings", """{"value":[{"to":"b"}]}""")).Status);

        Assert.Equal(200, (await server.PutAsync("/ampcode/upstream-api-keys", """{"value":[{"upstream-api-key":"amp-1","api-keys":["client-key-1"]}]}""")).Status);
        Assert.Equal(400, (await server.DeleteAsync("/ampcode/upstream-api-keys")).Status);
        Assert.Equal(200, (await server.DeleteAsync("/ampcode/upstream-api-keys", """{"value":[]}""")).Status);
        Assert.Empty((await server.GetAsync("/ampcode/upstream-api-keys")).Body!["upstream-api-keys"]!.AsArray());
        Assert.Equal(200, (await server.DeleteAsync("/ampcode/upstream-url")).Status);
        Assert.DoesNotContain("upstream-url", server.ConfigText);
    }
}
