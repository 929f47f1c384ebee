using System.Text;
using Microsoft.Extensions.Logging;
using PluginProxy.Host.Config;
using PluginProxy.Host.Credentials;

namespace PluginProxy.Host.Management;

/// <summary>
/// Every management write to config.yaml goes through here, one at a time: read the file, edit it with
/// <see cref="YamlEditor"/> (comments and layout kept), validate the result exactly as a reload would, write it
/// atomically, and publish it through the config store, the same path a hand edit takes (the watcher then sees an
/// unchanged hash and does nothing). A result that does not validate is never written.
/// </summary>
internal sealed partial class ConfigWriter(ConfigStore store, ILogger<ConfigWriter> logger)
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>The config file; null while the server runs on defaults without one.</summary>
    public string? Path => store.Current.Path;

    /// <summary>
    /// Applies <paramref name="edit"/> to the file's text. The edit returns a reply to stop without writing (404, 400),
    /// or null to go on. Returns <c>{"status":"ok"}</c>, a 400 naming why the result is not a valid config, or a 500.
    /// </summary>
    public async Task<Reply> EditAsync(Func<YamlEditor, Reply?> edit, string what, CancellationToken cancellationToken = default)
    {
        if (Path is not { } path) return Reply.Error(500, "failed to save config: the server runs without a config file");
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var text = File.Exists(path) ? await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false) : "";
            var editor = new YamlEditor(text);
            Reply? stop;
            try
            {
                stop = edit(editor);
            }
            catch (Exception e) when (e is InvalidOperationException or YamlDotNet.Core.YamlException)
            {
                // The file's layout (flow style, aliases) or a broken file stops the edit: a conflict to fix by hand, not a server fault.
                return Reply.Error(409, $"failed to save config: {e.Message}");
            }
            if (stop is not null) return stop;
            return await WriteLockedAsync(path, editor.Text, what, cancellationToken).ConfigureAwait(false) ?? Reply.Ok();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Hashes a plaintext management key in the file; writes only when there was one to hash, so a reload that
    /// publishes the same config does not set off another write (and another reload) forever. True when it wrote.
    /// </summary>
    public async Task<bool> HashSecretAsync(CancellationToken cancellationToken = default)
    {
        if (Path is not { } path) return false;
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!File.Exists(path)) return false;
            var text = await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false);
            if (ManagementSecret.HashInText(text) is not { } hashed) return false;
            return await WriteLockedAsync(path, hashed, "remote-management.secret-key (hashed)", cancellationToken).ConfigureAwait(false) is null;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Replaces the whole file (PUT /config.yaml) after validating it; null on success, else the error reply.</summary>
    public async Task<Reply?> ReplaceAsync(string yaml, CancellationToken cancellationToken = default)
    {
        if (Path is not { } path) return Reply.Error(500, "failed to save config: the server runs without a config file");
        try
        {
            ConfigLoader.Parse(yaml, path, null, store.BoundHost);
        }
        catch (ConfigException e)
        {
            return e.InnerException is YamlDotNet.Core.YamlException
                ? Reply.Json(new System.Text.Json.Nodes.JsonObject { ["error"] = "invalid_yaml", ["message"] = e.Message }, 400)
                : Reply.Json(new System.Text.Json.Nodes.JsonObject { ["error"] = "invalid_config", ["message"] = e.Message }, 422);
        }
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await WriteLockedAsync(path, yaml, "config.yaml", cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<Reply?> WriteLockedAsync(string path, string text, string what, CancellationToken cancellationToken)
    {
        // A plaintext management key never reaches the disk through the API either.
        text = ManagementSecret.HashInText(text) ?? text;
        var bytes = new UTF8Encoding(false).GetBytes(text);
        LoadedConfig next;
        try
        {
            next = ConfigLoader.Parse(text, path, ConfigLoader.Hash(bytes), store.BoundHost);
        }
        catch (ConfigException e)
        {
            return Reply.Error(400, $"invalid config: {e.Message}");
        }
        try
        {
            await AtomicFile.WriteAsync(path, bytes, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Reply.Error(500, $"failed to save config: {e.Message}");
        }
        store.Publish(next);
        LogWritten(what, path);
        return null;
    }

    [LoggerMessage(LogLevel.Information, "Management API changed {What} in {Path}")]
    private partial void LogWritten(string what, string path);
}
