using PluginProxy.Host.Models;
using PluginProxy.Host.Scheduling;

namespace PluginProxy.Host.Routing;

/// <summary>
/// Answers <c>RouteContext.IsModelAvailable</c> from live state: a model is available when the registry resolves it
/// (exact id, else ignoring case; prefixed ids and aliases are registry ids; a thinking suffix is ignored) to some
/// credential that is not disabled and not cooling for it — neither for that model nor as a whole — in the scheduler's book.
/// The registry already leaves out disabled credentials and those no loaded plugin serves. <see cref="IsServed"/> ignores
/// cooldowns (<c>RouteContext.IsModelServed</c>).
/// </summary>
internal sealed class ModelAvailability(ModelRegistry registry, Scheduler scheduler)
{
    public bool IsAvailable(string model)
    {
        if (string.IsNullOrWhiteSpace(model)) return false;
        var (id, routes) = registry.Current.Resolve(ModelName.Parse(model).Base);
        var now = scheduler.Clock.GetUtcNow();
        foreach (var route in routes)
        {
            if (!route.Credential.Disabled && scheduler.Book.BlockedUntil(route.Credential.Id, id, now) is null) return true;
        }
        return false;
    }

    public bool IsServed(string model)
    {
        if (string.IsNullOrWhiteSpace(model)) return false;
        var (_, routes) = registry.Current.Resolve(ModelName.Parse(model).Base);
        foreach (var route in routes)
        {
            if (!route.Credential.Disabled) return true;
        }
        return false;
    }
}
