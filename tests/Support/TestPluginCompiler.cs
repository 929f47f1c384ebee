using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using PluginProxy.Abstractions.Plugins;
using PluginProxy.Formats;

namespace PluginProxy.Tests.Support;

/// <summary>Compiles plugin source into <c>&lt;folder&gt;/&lt;name&gt;/&lt;name&gt;.dll</c>, the layout the host loads.</summary>
public static class TestPluginCompiler
{
    private static readonly Lazy<MetadataReference[]> References = new(() =>
    {
        var platform = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p).StartsWith("System", StringComparison.Ordinal) || Path.GetFileName(p) is "netstandard.dll" or "mscorlib.dll");
        return [.. platform.Concat([typeof(IPlugin).Assembly.Location, typeof(IDialectCodec).Assembly.Location, typeof(PluginProxy.Sdk.Execution.DialectHttpExecutor).Assembly.Location]).Distinct()
            .Select(p => MetadataReference.CreateFromFile(p))];
    });

    /// <summary>Compiles to bytes; throws with the compiler's diagnostics on error.</summary>
    public static byte[] Compile(string assemblyName, string version, string source)
    {
        var options = new CSharpParseOptions(LanguageVersion.Latest);
        var assemblyInfo = $"""
            global using System;
            global using System.Collections.Generic;
            global using System.IO;
            global using System.Linq;
            global using System.Net.Http;
            global using System.Threading;
            global using System.Threading.Tasks;
            [assembly: System.Reflection.AssemblyVersion("{version}")]
            [assembly: System.Reflection.AssemblyInformationalVersion("{version}")]
            """;
        var compilation = CSharpCompilation.Create(assemblyName,
            [CSharpSyntaxTree.ParseText(assemblyInfo, options), CSharpSyntaxTree.ParseText(source, options)],
            References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        using var output = new MemoryStream();
        var result = compilation.Emit(output);
        if (!result.Success)
            throw new InvalidOperationException("test plugin does not compile:\n" + string.Join("\n", result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
        return output.ToArray();
    }

    /// <summary>Writes a compiled plugin into its folder (overwriting in place, as a copy tool would).</summary>
    public static string Deploy(string pluginsFolder, string name, byte[] assembly)
    {
        var dir = Directory.CreateDirectory(Path.Combine(pluginsFolder, name)).FullName;
        var path = Path.Combine(dir, name + ".dll");
        using (var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.ReadWrite))
            file.Write(assembly);
        return path;
    }
}
