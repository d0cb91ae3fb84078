// `sirocco chat`: the terminal chat UI (also what `sirocco` alone runs). Argument checks and a
// missing model are reported as one line before the terminal is taken over. A `--model` that is a
// URL names a server (OpenAI-compatible API): it is passed on as it is, never pulled or resolved.

import ArgumentParser
import Foundation
import SiroccoEngine
import SiroccoModels
import SiroccoTUI

struct ChatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Chat in the terminal UI; several --model options compare models side by side.",
        discussion: """
            Keys: Enter sends, Ctrl-C stops the answer or clears the line, Ctrl-D on an empty line (or /bye) \
            quits, \"\"\" starts a multi-line message, F1 help, F2/F3 temperature, \
            F4/F5 top-p, F6/F7 top-k, F8/F9 min-p, F10/F11 repeat penalty, Tab focuses the next pane, \
            PageUp/PageDown scroll, F12 unfolds reasoning. Conversations are saved as they go under \
            $XDG_DATA_HOME/sirocco/conversations (default ~/.local/share/sirocco/conversations); \
            --resume reopens the last one.
            """)

    @Option(name: .shortAndLong, help: "A catalog name (pulled on first use), a GGUF file, or a server's API URL (http://host:8080/v1); repeat to compare models side by side (default: $SIROCCO_MODEL, else \(ModelCatalog.defaultChatModel)).")
    var model: [String] = []
    @OptionGroup var remote: RemoteOptions
    @Flag(help: "Reopen the most recent conversation.")
    var resume = false
    @Option(help: "Theme name (a file NAME.theme in ./themes, $SIROCCO_THEMES, …) or a theme file path.")
    var theme: String?
    @Option(help: "System prompt.")
    var system: String?
    @Option(help: "Chat template: \(ChatFormat.names.joined(separator: ", ")) (model: the model's own; completion: plain text, the default for a model without a template).")
    var template: String?
    @OptionGroup var sampling: SamplingOptions
    @Option(name: .shortAndLong, parsing: .unconditional, help: "Worker threads per model (default: cores / models, at least 1); fewer run while the machine is busy if that is faster.")
    var threads: Int?
    @Option(name: [.customShort("c"), .customLong("ctx-size")], parsing: .unconditional, help: "Context length in tokens.")
    var ctxSize = 4096
    @Option(name: [.customShort("n"), .long], parsing: .unconditional, help: "Most tokens in one answer.")
    var maxTokens = 2048
    @Option(help: cacheTypeHelp)
    var cacheType: KVCacheType = .f16
    @OptionGroup var draftOptions: DraftOptions

    func run() throws {
        try reportingErrors {
            let settings = try sampling.settings()
            var options = ChatOptions(
                modelPaths: [], defaultModelPath: "", missingDefaultModelHint: "", themeName: theme, resume: resume,
                systemPrompt: system, template: template, contextLength: ctxSize, maxAnswerTokens: maxTokens,
                threads: threads, cacheType: cacheType, settings: settings)
            // values first, so a typo costs no download
            do { try ChatTUI.checkValues(options) } catch let error as ChatStartError { throw CLIError(error.description) }
            // catalog names become paths, pulled first when missing (as `ollama run` does); with
            // --resume and no --model the saved chat's models are used, so nothing is pulled yet
            if let draft = draftOptions.draftModel {
                if BackendLocation.isRemote(draft) { throw CLIError("--draft-model needs a local model, not a server's URL") }
                options.draftModelPath = try ModelReference.path(for: draft, pull: true)
                options.draftMax = draftOptions.draftMax
                options.draftPMin = draftOptions.draftPMin
            }
            options.remoteModel = remote.remoteModel
            options.apiKeyEnvironmentVariable = remote.apiKeyEnv
            options.modelPaths = try model.map { BackendLocation.isRemote($0) ? $0 : try ModelReference.path(for: $0, pull: true) }
            let requested = ModelReference.requested(nil)
            if BackendLocation.isRemote(requested) {
                options.defaultModelPath = requested  // $SIROCCO_MODEL naming a server
            } else {
                options.defaultModelPath = model.isEmpty && !resume ? try ModelReference.path(for: requested, pull: true)
                    : ModelCatalog.entry(named: requested).map { ModelStore.standard().path(for: $0) } ?? requested
            }
            options.resolveModel = { try ModelReference.path(for: $0, pull: false) }  // /model: no pull inside the UI
            let open = remote.opener()
            options.openRemote = { url, model, chat in try open(url, model, chat.settings, chat.systemPrompt) }
            options.missingDefaultModelHint = "the default model \(requested) is not in \(options.defaultModelPath); run sirocco pull \(requested) or pass --model NAME|PATH"
            let status: Int32
            do { status = try ChatTUI.run(options) } catch let error as ChatStartError {
                throw CLIError(error.description)
            }
            if status != 0 { throw ExitCode(status) }
        }
    }
}
