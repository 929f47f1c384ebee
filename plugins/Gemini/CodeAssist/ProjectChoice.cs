using PluginProxy.Abstractions.Plugins;
using PluginProxy.Sdk.OAuth;

namespace PluginProxy.Plugins.Gemini.CodeAssist;

/// <summary>
/// Which Cloud projects a login sets up: <c>--project-id ID[,ID]</c> or <c>ALL</c>, otherwise asked from a numbered list
/// (Enter takes the first). <see cref="Auto"/> says the proxy picked it without asking (no terminal).
/// A null entry lets Code Assist name the account's own project (the account lists none).
/// </summary>
internal sealed record ProjectChoice(IReadOnlyList<string?> Projects, bool Auto)
{
    public static async Task<ProjectChoice> ChooseAsync(LoginContext context, IReadOnlyList<(string Id, string Name)> projects, CancellationToken cancellationToken)
    {
        var ids = projects.Select(p => p.Id).ToList();
        var option = context.Options.GetValueOrDefault("project-id")?.Trim();
        if (!string.IsNullOrEmpty(option) && option != "true")
        {
            if (option.Equals("ALL", StringComparison.OrdinalIgnoreCase))
                return ids.Count > 0
                    ? new ProjectChoice(ids, false)
                    : throw new OAuthException("choosing projects failed: --project-id ALL, but the account lists no Google Cloud projects");
            var wanted = option.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal).ToList();
            var unknown = ids.Count == 0 ? [] : wanted.Where(w => !ids.Contains(w)).ToList();
            if (unknown.Count > 0)
                throw new OAuthException($"choosing projects failed: {string.Join(", ", unknown)} is not among the account's projects ({string.Join(", ", ids)})");
            return new ProjectChoice([.. wanted], false);
        }
        if (ids.Count == 0) return new ProjectChoice([null], true);
        if (ids.Count == 1 || context.ReadLine is not { } readLine) return new ProjectChoice([ids[0]], true);

        var output = context.Output;
        await output.WriteLineAsync("Google Cloud projects of this account:").ConfigureAwait(false);
        for (var i = 0; i < projects.Count; i++)
            await output.WriteLineAsync($"  {i + 1}. {projects[i].Id}{(projects[i].Name != projects[i].Id ? $" ({projects[i].Name})" : "")}").ConfigureAwait(false);
        while (true)
        {
            await output.WriteLineAsync($"Project for Gemini CLI: a number, a project id, ALL, or Enter for 1 ({ids[0]}):").ConfigureAwait(false);
            var line = await readLine(cancellationToken).ConfigureAwait(false);
            if (line is null) return new ProjectChoice([ids[0]], true); // input closed: take the first, marked as chosen automatically
            line = line.Trim();
            if (line.Length == 0) return new ProjectChoice([ids[0]], false);
            if (line.Equals("ALL", StringComparison.OrdinalIgnoreCase)) return new ProjectChoice(ids, false);
            if (int.TryParse(line, out var index) && index >= 1 && index <= ids.Count) return new ProjectChoice([ids[index - 1]], false);
            if (ids.Contains(line)) return new ProjectChoice([line], false);
            await output.WriteLineAsync($"'{line}' is neither a number from 1 to {ids.Count} nor a listed project id.").ConfigureAwait(false);
        }
    }
}
