namespace PluginProxy.Plugins.Gemini.CodeAssist;

/// <summary>The Gemini CLI's installed-app OAuth client (public values, the same the CLI ships with).</summary>
internal static class GeminiCliOAuth
{
    public const string ClientId = "681255809395-oo8ft2oprdrnp9e3aqf6av3hmdib135j.apps.googleusercontent.com";
    public const string ClientSecret = "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";
    public const int CallbackPort = 8085;
    public const string CallbackPath = "/oauth2callback";

    public static readonly string[] Scopes =
    [
        "https://www.googleapis.com/auth/cloud-platform",
        "https://www.googleapis.com/auth/userinfo.email",
        "https://www.googleapis.com/auth/userinfo.profile",
    ];
}
