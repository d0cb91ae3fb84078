// RemoteOptions: how a command reaches a model given as a server's URL (`--model http://…/v1`) —
// which of its models, where the API key is (an environment variable, never saved or printed), and
// how long to wait for it.

import ArgumentParser
import Foundation
import SiroccoEngine
import SiroccoRemote

struct RemoteOptions: ParsableArguments {
    @Option(help: "With --model URL: the server's model (default: the first one its /v1/models lists).")
    var remoteModel: String?
    @Option(help: "With --model URL: the environment variable that holds the server's API key (read at start; never saved or printed).")
    var apiKeyEnv = "SIROCCO_API_KEY"
    @Option(help: "With --model URL: seconds the server may stay silent (before an answer or inside it) before giving up.")
    var remoteTimeout: Double = 120

    func validate() throws {
        guard remoteTimeout > 0, remoteTimeout <= 86_400 else {
            throw ValidationError("--remote-timeout must be between 0 and 86400 seconds")
        }
    }

    /// The API key, when its environment variable is set and not empty.
    var apiKey: String? {
        ProcessInfo.processInfo.environment[apiKeyEnv].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// A session on the server at `url` (its model list asked for first) on `--remote-model`, or
    /// a one-line error.
    func open(_ url: String, settings: SamplerSettings, systemPrompt: String?) throws -> RemoteSession {
        try opener()(url, remoteModel, settings, systemPrompt)
    }

    /// Opens sessions on servers for the chat (its panes, /model URL), with these options' key and
    /// timeout; errors are one line naming the server.
    func opener() -> @Sendable (_ url: String, _ model: String?, _ settings: SamplerSettings, _ systemPrompt: String?) throws -> RemoteSession {
        let apiKey = self.apiKey, idleTimeout = remoteTimeout
        return { url, model, settings, systemPrompt in
            let endpoint: RemoteEndpoint
            do { endpoint = try RemoteEndpoint(url: url, apiKey: apiKey, idleTimeout: idleTimeout) } catch {
                throw CLIError("\(error)")
            }
            do {
                return try RemoteSession.open(endpoint: endpoint, model: model, systemPrompt: systemPrompt, settings: settings)
            } catch {
                throw CLIError("\(endpoint.baseURL): \(error)")
            }
        }
    }
}
