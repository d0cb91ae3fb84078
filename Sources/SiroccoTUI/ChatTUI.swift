// ChatTUI: the entry point of `sirocco chat` — options, the checks that must fail before curses
// takes the terminal (missing model file, bad template name, bad settings, no terminal), then
// the event loop. The only public surface of the module.

import Foundation
import SiroccoEngine

/// What `sirocco chat` was asked to do.
public struct ChatOptions: Sendable {
    /// One model per pane (the same path twice is two panes on one loaded model). Empty: the
    /// resumed chat's models, else `defaultModelPath`.
    public var modelPaths: [String]
    /// Used when no model is named (and, with `--resume`, the saved chat names none).
    public var defaultModelPath: String
    /// Message shown when `defaultModelPath` is missing.
    public var missingDefaultModelHint: String
    public var themeName: String?
    public var resume: Bool
    public var systemPrompt: String?
    public var template: String?
    public var contextLength: Int
    /// Most tokens one answer may have.
    public var maxAnswerTokens: Int
    /// Worker threads per session (default: cores / panes, at least 1).
    public var threads: Int?
    /// How every session's KV cache stores keys and values.
    public var cacheType: KVCacheType
    public var settings: SamplerSettings
    /// What `/model NAME|PATH` names, as a GGUF path (the CLI resolves catalog names; this one
    /// takes paths as they are). Its error is shown as one line.
    public var resolveModel: @Sendable (String) throws -> String = { $0 }
    /// Opens a conversation with the model `model` (nil: the server's choice) of the server at
    /// `baseURL`, for a model reference that is a URL (`isRemote`). Nil: this build has no remote
    /// models, and naming one is a one-line error.
    public var openRemote: (@Sendable (_ baseURL: String, _ model: String?, _ options: ChatOptions) throws -> any ChatBackend)?
    /// The server model every URL in `modelPaths` asks for (nil: the server's choice; a resumed
    /// chat's own otherwise).
    public var remoteModel: String?
    /// The environment variable holding the servers' API key (read by `openRemote`, never saved).
    public var apiKeyEnvironmentVariable = "SIROCCO_API_KEY"
    /// A draft model (GGUF path) for every local pane: speculative decoding (see SpeculativeDraft),
    /// with its longest draft and the probability below which it stops.
    public var draftModelPath: String?
    public var draftMax = 16
    public var draftPMin: Float = 0.5
    /// The server models of the resumed chat's panes, by pane (filled when resuming without --model).
    var resumedRemoteModels: [String?] = []

    /// The model of each pane to open.
    var paneModels: [PaneModel] {
        modelPaths.enumerated().map { i, reference in
            guard BackendLocation.isRemote(reference) else { return PaneModel(reference: reference) }
            let resumed = resumedRemoteModels.indices.contains(i) ? resumedRemoteModels[i] : nil
            return PaneModel(reference: reference, remoteModel: remoteModel ?? resumed)
        }
    }

    public init(modelPaths: [String], defaultModelPath: String, missingDefaultModelHint: String, themeName: String? = nil,
                resume: Bool = false, systemPrompt: String? = nil, template: String? = nil, contextLength: Int = 4096,
                maxAnswerTokens: Int = 2048, threads: Int? = nil, cacheType: KVCacheType = .f16,
                settings: SamplerSettings = SamplerSettings()) {
        self.cacheType = cacheType
        self.modelPaths = modelPaths
        self.defaultModelPath = defaultModelPath
        self.missingDefaultModelHint = missingDefaultModelHint
        self.themeName = themeName
        self.resume = resume
        self.systemPrompt = systemPrompt
        self.template = template
        self.contextLength = contextLength
        self.maxAnswerTokens = maxAnswerTokens
        self.threads = threads
        self.settings = settings
    }
}

/// A reason `sirocco chat` cannot start (reported before the terminal is taken over).
public struct ChatStartError: Error, CustomStringConvertible {
    public let description: String
    init(_ message: String) { description = message }
}

/// A draft model that cannot draft for a pane's model (unreadable, or another vocabulary).
struct DraftModelError: Error, CustomStringConvertible {
    let path: String
    let reason: String
    var description: String { "--draft-model \(path): \(reason)" }
}

public enum ChatTUI {
    /// The most panes side by side.
    public static let maximumPanes = 4

    /// Runs the chat UI until the user quits; returns the exit status. Throws `ChatStartError`
    /// before touching the terminal when the chat cannot start.
    public static func run(_ options: ChatOptions) throws -> Int32 {
        var options = options
        let store = ConversationStore()
        var resumeFiles: [String] = []
        var resumeStem: String?
        if options.resume, let latest = store.latestChat() {
            resumeFiles = latest.files
            resumeStem = latest.stem
        }
        try chooseModels(&options, resumeFiles: resumeFiles)
        try preflight(options)

        let terminal: Terminal
        do { terminal = try Terminal() } catch { throw ChatStartError("\(error)") }
        let loop = try EventLoop(options: options, terminal: terminal, store: store, resumeFiles: resumeFiles,
                                 resumeStem: resumeStem)
        let status = loop.run()
        terminal.close()
        if let message = loop.exitMessage {
            FileHandle.standardError.write(Data("sirocco: \(message)\n".utf8))
        }
        if let saved = loop.savedNote {
            FileHandle.standardOutput.write(Data("\(saved)\n".utf8))
        }
        return status
    }

    /// The models of the panes when none is named: a resumed chat's own (servers, and files that
    /// still exist; a server's model as the chat saved it), else the default model.
    static func chooseModels(_ options: inout ChatOptions, resumeFiles: [String]) throws {
        guard options.modelPaths.isEmpty else { return }
        let saved = resumeFiles.compactMap(ConversationStore.savedModel)
        if !saved.isEmpty && saved.allSatisfy({ $0.isRemote || FileManager.default.fileExists(atPath: $0.reference) }) {
            options.modelPaths = saved.map(\.reference)
            options.resumedRemoteModels = saved.map(\.remoteModel)
            return
        }
        guard BackendLocation.isRemote(options.defaultModelPath)
                || FileManager.default.fileExists(atPath: options.defaultModelPath) else {
            throw ChatStartError(options.missingDefaultModelHint)
        }
        options.modelPaths = [options.defaultModelPath]
    }

    /// Everything that can be checked without loading a model or taking the terminal.
    static func preflight(_ options: ChatOptions) throws {
        guard options.modelPaths.count <= maximumPanes else {
            throw ChatStartError("at most \(maximumPanes) models side by side, got \(options.modelPaths.count)")
        }
        for model in options.paneModels {
            if model.isRemote { try checkRemoteAvailable(options) } else { try checkModelFile(model.reference) }
        }
        try checkValues(options)
        guard isatty(0) == 1, isatty(1) == 1 else { throw ChatStartError(TerminalError.notATerminal.description) }
    }

    /// A model file that exists, is not a directory and can be read (else a one-line error).
    static func checkModelFile(_ path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ChatStartError("\(path): No such file")
        }
        guard !isDirectory.boolValue else { throw ChatStartError("\(path): is a directory, not a GGUF model file") }
        guard FileManager.default.isReadableFile(atPath: path) else { throw ChatStartError("\(path): cannot read the file") }
    }

    /// Naming a server's model when `ChatOptions.openRemote` is nil.
    static let remoteUnavailable = "remote models are not available in this build"

    /// A server's model can be opened in this build (else a one-line error).
    static func checkRemoteAvailable(_ options: ChatOptions) throws {
        guard options.openRemote != nil else { throw ChatStartError(remoteUnavailable) }
    }

    /// The option values alone (template name, sampling, sizes): checked before any model is
    /// pulled or loaded, so a typo costs no download.
    public static func checkValues(_ options: ChatOptions) throws {
        if let template = options.template, !ChatFormat.names.contains(template) {
            throw ChatStartError("unknown chat template '\(template)' (known: \(ChatFormat.names.joined(separator: ", ")))")
        }
        do { try options.settings.validate() } catch { throw ChatStartError("\(error)") }
        guard (16...1_048_576).contains(options.contextLength) else {
            throw ChatStartError("--ctx-size must be between 16 and 1048576, got \(options.contextLength)")
        }
        guard (1...1_048_576).contains(options.maxAnswerTokens) else {
            throw ChatStartError("--max-tokens must be at least 1, got \(options.maxAnswerTokens)")
        }
        if let threads = options.threads, !(1...512).contains(threads) {
            throw ChatStartError("--threads must be between 1 and 512, got \(threads)")
        }
    }
}
