// ChatBackend: what answers a conversation — the embedded engine (`ChatSession`) or a server that
// speaks the OpenAI-compatible API (SiroccoRemote's `RemoteSession`) — as the chat UI and the CLI
// use it. Local-only abilities (chat templates, KV cache files, threads) stay on `ChatSession`.

/// Where a backend's model runs.
public enum BackendLocation: Sendable, Equatable {
    /// In this process, from a GGUF file.
    case local(path: String)
    /// On a server: the API's base URL (`http://host:8080/v1`) and the server's model name.
    case remote(baseURL: String, model: String)

    /// Whether a model reference names a server (`http://…`, `https://…`, any case) rather than a
    /// GGUF file or a catalog name.
    public static func isRemote(_ reference: String) -> Bool {
        let lower = reference.lowercased()
        return lower.hasPrefix("http://") || lower.hasPrefix("https://")
    }

    /// A short place name for the UI: nil for a local model, the server's host:port for a remote one.
    public var host: String? {
        guard case let .remote(baseURL, _) = self else { return nil }
        var rest = Substring(baseURL)
        if let scheme = rest.range(of: "://") { rest = rest[scheme.upperBound...] }
        return String(rest.prefix { $0 != "/" })
    }
}

/// A multi-turn chat with a model; answers stream as `GenerationEvent`s, one answer at a time.
/// Settings and cancellation may be used from any thread while an answer streams.
public protocol ChatBackend: AnyObject, Sendable {
    var location: BackendLocation { get }
    /// The conversation so far (without the system prompt).
    var messages: [ChatMessage] { get }
    /// Messages dropped from the start because the context was full.
    var droppedMessages: Int { get }
    var systemPrompt: String? { get set }
    /// The system prompt the model sees (the session's own, else a template's default; nil: none).
    var effectiveSystemPrompt: String? { get }
    /// Sampling settings; a change applies from the next token (a remote one: the next request).
    var settings: SamplerSettings { get set }
    /// Most tokens one answer may have.
    var maxAnswerTokens: Int { get set }
    /// Extra strings that end an answer.
    var stopStrings: [String] { get set }
    /// Statistics of the last answer, or of the one in progress.
    var lastStats: GenerationStats { get }
    var isGenerating: Bool { get }
    /// The conversation as a saved file holds it.
    var snapshot: ChatSession.Saved { get }

    /// Sends a user message and waits for the whole answer, handing each event to `onEvent` on the
    /// calling thread as it comes. The answer, even a cancelled or failed partial one, is added to
    /// the conversation. `seed`, when given, replaces the settings' seed for this answer.
    @discardableResult
    func respond(to text: String, seed: UInt64?, onEvent: (GenerationEvent) -> Void) throws -> GenerationResult
    /// Removes the last user message and the answer after it, and returns that message.
    func takeBackLastExchange() throws -> String?
    /// Stops the answer being generated; the partial answer is kept.
    func cancel()
    /// Forgets the conversation (the system prompt stays).
    func clear()
    /// Writes the conversation atomically and durably.
    func save(to path: String) throws
    /// Replaces the conversation with the one saved at `path`.
    func load(from path: String) throws
    /// How many tokens `text` is for this model (nil when it cannot be known here).
    func tokenCount(of text: String) -> Int?
}

extension ChatSession: ChatBackend {
    public var location: BackendLocation { .local(path: model.file.path) }

    public func tokenCount(of text: String) -> Int? {
        model.tokenizer.encode(text, addSpecial: false, parseSpecial: false).count
    }
}
