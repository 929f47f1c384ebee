using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PluginProxy.Host.Config;

namespace PluginProxy.Host.Management;

/// <summary>
/// <c>/v0/management</c>: CLIProxyAPI's management API (paths, methods and JSON shapes) for what PluginProxy has. Every
/// endpoint sits behind <see cref="ManagementAuth"/>; each concern maps its own routes onto the group.
/// </summary>
internal static class ManagementApi
{
    public const string Prefix = "/v0/management";

    /// <summary>The services the endpoints use (called by the composition root before the app is built).</summary>
    public static IServiceCollection AddManagement(this IServiceCollection services) => services
        .AddSingleton<ConfigWriter>()
        .AddSingleton<ManagementLockout>()
        .AddSingleton<ManagementAuth>()
        .AddSingleton<CredentialView>()
        .AddSingleton<LoginSessions>();

    public static RouteGroupBuilder Map(WebApplication app)
    {
        var api = app.MapGroup(Prefix);
        api.AddEndpointFilter(app.Services.GetRequiredService<ManagementAuth>());
        api.MapConfig()
            .MapKeyBlocks()
            .MapAmp()
            .MapAuthFiles()
            .MapCooldowns()
            .MapLogin()
            .MapLogs()
            .MapUsage();
        HashPlaintextOnReload(app);
        return api;
    }

    private static void WarnIfTooLong(ILogger logger, string? secret)
    {
        if (ManagementSecret.TooLong(secret))
            logger.LogError("remote-management.secret-key is longer than {Max} bytes (bcrypt would check only the first {Max}); the management API stays disabled until a shorter key is set", ManagementSecret.MaxKeyBytes, ManagementSecret.MaxKeyBytes);
    }

    // A hand edit that puts a plaintext secret back is hashed too, through the same writer.
    private static void HashPlaintextOnReload(WebApplication app)
    {
        var config = app.Services.GetRequiredService<ConfigStore>();
        var writer = app.Services.GetRequiredService<ConfigWriter>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ManagementApi));
        WarnIfTooLong(logger, config.Config.RemoteManagement.SecretKey);
        config.Changed += (previous, next) =>
        {
            var secret = next.Config.RemoteManagement.SecretKey;
            WarnIfTooLong(logger, secret);
            if (string.IsNullOrEmpty(secret) || ManagementSecret.IsHash(secret)) return;
            _ = Task.Run(async () =>
            {
                try
                {
                    await writer.HashSecretAsync();
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    logger.LogWarning("Could not replace the plaintext management key by its hash: {Error}", e.GetType().Name);
                }
            });
        };
    }
}
