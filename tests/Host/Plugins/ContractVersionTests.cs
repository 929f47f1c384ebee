using System.Reflection;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Host.Plugins;
using PluginProxy.Tests.Support;

namespace PluginProxy.Tests.Host.Plugins;

/// <summary>A plugin built against another major version of the contract is refused at load, with a message that says why.</summary>
public sealed class ContractVersionTests
{
    /// <summary>A plugin assembly that references <c>PluginProxy.Abstractions</c> at <paramref name="contractVersion"/>.</summary>
    private static byte[] PluginAgainst(string contractVersion)
    {
        var platform = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p) is "System.Runtime.dll" or "System.Private.CoreLib.dll" or "netstandard.dll")
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToArray();
        var contract = CSharpCompilation.Create("PluginProxy.Abstractions",
            [CSharpSyntaxTree.ParseText($"[assembly: System.Reflection.AssemblyVersion(\"{contractVersion}\")] namespace PluginProxy.Abstractions.Plugins {{ public interface IPlugin {{ string Id {{ get; }} }} }}")],
            platform, new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        using var contractImage = new MemoryStream();
        Assert.True(contract.Emit(contractImage).Success);
        var plugin = CSharpCompilation.Create("OldPlugin",
            [CSharpSyntaxTree.ParseText("namespace OldPlugin { public sealed class P : PluginProxy.Abstractions.Plugins.IPlugin { public string Id => \"old\"; } }")],
            [.. platform, MetadataReference.CreateFromImage(contractImage.ToArray())], new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        using var image = new MemoryStream();
        Assert.True(plugin.Emit(image).Success);
        return image.ToArray();
    }

    private static string? MismatchOf(byte[] image)
    {
        var context = new AssemblyLoadContext("contract-test", isCollectible: true);
        try
        {
            return PluginRuntime.ContractMismatch(context.LoadFromStream(new MemoryStream(image)));
        }
        finally
        {
            context.Unload();
        }
    }

    [Fact]
    public void The_host_contract_version_is_the_declared_one()
    {
        var version = typeof(IPlugin).Assembly.GetName().Version!;
        Assert.Equal((PluginContract.Major, PluginContract.Minor), (version.Major, version.Minor));
    }

    [Fact]
    public void Another_major_or_a_newer_minor_is_refused_and_the_same_contract_is_accepted()
    {
        var host = typeof(IPlugin).Assembly.GetName().Version!;
        Assert.Contains("built against PluginProxy.Abstractions 1.0", MismatchOf(PluginAgainst("1.0.0.0")));
        Assert.Contains($"this host has contract {host.Major}.{host.Minor}", MismatchOf(PluginAgainst($"{host.Major}.{host.Minor + 1}.0.0")));
        Assert.Null(MismatchOf(PluginAgainst($"{host.Major}.{host.Minor}.0.0")));
    }

    [Fact]
    public async Task A_plugin_for_an_old_contract_is_logged_with_the_reason_and_not_loaded()
    {
        await using var server = await TestServer.StartAsync(prepare: root =>
        {
            var folder = Path.Combine(root, "plugins", "OldPlugin");
            Directory.CreateDirectory(folder);
            File.WriteAllBytes(Path.Combine(folder, "OldPlugin.dll"), PluginAgainst("1.0.0.0"));
        });
        Assert.Empty(server.Server.Plugins.Current.Plugins);
        Assert.Contains("built against PluginProxy.Abstractions 1.0", server.Logs);
        Assert.Contains("rebuild the plugin", server.Logs);
    }
}
