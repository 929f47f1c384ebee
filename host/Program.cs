using PluginProxy.Host.Cli;

return await Commands.RunAsync(args);
