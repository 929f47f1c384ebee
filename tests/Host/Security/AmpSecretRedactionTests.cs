using PluginProxy.Host.Config;
using PluginProxy.Host.Credentials;
using PluginProxy.Host.Security;

namespace PluginProxy.Tests.Host.Security;

public sealed class AmpSecretRedactionTests
{
    [Fact]
    public void The_ampcode_upstream_keys_are_redacted()
    {
        var loaded = ConfigLoader.Parse("""
            ampcode:
              upstream-url: https://ampcode.com
              upstream-api-key: amp-single-key-0001
              upstream-api-keys:
                - upstream-api-key: amp-listed-key-0002
                  api-keys: [client-a]
            """);
        var redactor = new SecretRedactor();
        redactor.Update(loaded.Config, CredentialSnapshot.Empty, loaded.Json);
        var text = redactor.Redact("sent amp-single-key-0001 then amp-listed-key-0002 to https://ampcode.com");
        Assert.Equal("sent [REDACTED] then [REDACTED] to https://ampcode.com", text);
    }
}
