// RemoteSession: a conversation answered by a server — the `ChatBackend` beside the engine's
// `ChatSession`. The server renders the template and holds the KV cache; this side keeps the
// messages, the live settings (sent with each request), the streamed text and what can be measured
// of it, and saves like a local chat. A failed answer keeps what had arrived.

import Foundation
import SiroccoEngine
import Synchronization

public final class RemoteSession: ChatBackend, @unchecked Sendable {
    public let client: RemoteClient
    /// The server's name of the model.
    public let model: String
    /// Send top_k, min_p and repeat_penalty (llama-server, vLLM, Ollama accept them; OpenAI does not).
    public var extendedSampling = true

    private let lock = NSLock()
    private var _messages: [ChatMessage] = []
    private var _systemPrompt: String?
    private var _settings: SamplerSettings
    private var _maxAnswerTokens = 2048
    private var _stopStrings: [String] = []
    private var _lastStats = GenerationStats()
    private var request: RemoteRequestHandle?
    private let cancelled = Atomic<Bool>(false)
    private let busy = Atomic<Bool>(false)

    public init(client: RemoteClient, model: String, systemPrompt: String? = nil, settings: SamplerSettings = SamplerSettings()) {
        self.client = client
        self.model = model
        _systemPrompt = systemPrompt
        _settings = settings
    }

    /// A session on the server at `endpoint`, on `model` or else the first model it lists. The
    /// model list is asked for either way: a server that cannot be reached, refuses the key or
    /// lacks the model fails here, before a message is typed. A server without the list (404) is
    /// taken at its word for a named model.
    public static func open(endpoint: RemoteEndpoint, model: String?, systemPrompt: String? = nil,
                            settings: SamplerSettings = SamplerSettings()) throws -> RemoteSession {
        let client = RemoteClient(endpoint: endpoint)
        let listed: [String]?
        do {
            listed = try client.models()
        } catch RemoteError.http(status: 404, _) where model != nil {
            listed = nil
        }
        let chosen: String
        if let model {
            if let listed, !listed.contains(model) {
                let names = listed.prefix(8).joined(separator: ", ")
                throw RemoteError.modelNotFound(model: model, message: listed.isEmpty ? nil : "it lists \(names)")
            }
            chosen = model
        } else {
            guard let first = listed?.first else { throw RemoteError.noModels }
            chosen = first
        }
        return RemoteSession(client: client, model: chosen, systemPrompt: systemPrompt, settings: settings)
    }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    // MARK: ChatBackend

    public var location: BackendLocation { .remote(baseURL: client.endpoint.baseURL, model: model) }
    public var messages: [ChatMessage] { locked { _messages } }
    /// The server fits the conversation to its context; nothing is dropped here.
    public var droppedMessages: Int { 0 }
    public var systemPrompt: String? {
        get { locked { _systemPrompt } }
        set { locked { _systemPrompt = newValue } }
    }
    public var effectiveSystemPrompt: String? {
        locked { _systemPrompt.flatMap { $0.isEmpty ? nil : $0 } }
    }
    public var settings: SamplerSettings {
        get { locked { _settings } }
        set { locked { _settings = newValue } }
    }
    public var maxAnswerTokens: Int {
        get { locked { _maxAnswerTokens } }
        set { locked { _maxAnswerTokens = newValue } }
    }
    public var stopStrings: [String] {
        get { locked { _stopStrings } }
        set { locked { _stopStrings = newValue } }
    }
    public var lastStats: GenerationStats { locked { _lastStats } }
    public var isGenerating: Bool { busy.load(ordering: .acquiring) }
    public var snapshot: ChatSession.Saved {
        locked {
            ChatSession.Saved(model: client.endpoint.baseURL, remoteModel: model, systemPrompt: _systemPrompt,
                              messages: _messages, settings: _settings)
        }
    }

    /// The server's tokenizer is not here.
    public func tokenCount(of text: String) -> Int? { nil }

    public func respond(to text: String, seed: UInt64?, onEvent: (GenerationEvent) -> Void) throws -> GenerationResult {
        guard !text.isEmpty else { throw ChatError.emptyMessage }
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else {
            throw ChatError.busy
        }
        defer { busy.store(false, ordering: .releasing) }
        cancelled.store(false, ordering: .releasing)

        let request = locked { () -> ChatCompletionRequest in
            _messages.append(.user(text))
            var settings = _settings
            if let seed { settings.seed = seed }
            var conversation = _messages.map(RemoteSession.withoutReasoning)
            if let system = _systemPrompt, !system.isEmpty { conversation.insert(.system(system), at: 0) }
            return ChatCompletionRequest(model: model, messages: conversation, settings: settings, maxTokens: _maxAnswerTokens,
                                         stop: _stopStrings, stream: true, extendedSampling: extendedSampling)
        }
        var answer = StreamedAnswer(seed: request.settings.seed)
        var outcome: Outcome
        var retries = 0
        while true {
            outcome = stream(request) { chunk in
                for piece in answer.take(chunk) { onEvent(.text(piece)) }
                let stats = answer.stats
                locked { _lastStats = stats }
                onEvent(.progress(stats))
            }
            // a refusal that says when to come back: nothing was answered, so asking again is safe
            guard case let .failed(error) = outcome, answer.text.isEmpty, retries < Self.maxRetries,
                  case let .rateLimited(status, _, retryAfter?) = error as? RemoteError,
                  retryAfter <= Self.longestRetryWait else { break }
            retries += 1
            let wait = max(1, retryAfter)
            onEvent(.notice("the server is busy (\(status)): asking again in \(wait) s (\(retries) of \(Self.maxRetries))"))
            guard pause(seconds: wait) else {
                outcome = .cancelled
                break
            }
            answer = StreamedAnswer(seed: request.settings.seed)
        }
        let stop: StopReason
        switch outcome {
        case let .finished(reason):
            stop = reason == "length" ? .maxTokens : .endOfGeneration
        case .cancelled:
            stop = .cancelled
        case let .failed(error):
            locked {
                // the partial answer stays; a request that brought nothing leaves no trace
                if answer.text.isEmpty { _messages.removeLast() } else { _messages.append(.assistant(answer.text)) }
                _lastStats = answer.stats
            }
            throw error
        }
        let stats = answer.finish()
        locked {
            _messages.append(.assistant(answer.text))
            _lastStats = stats
        }
        onEvent(.finished(stop, stats))
        return GenerationResult(tokens: [], text: answer.text, stop: stop, stats: stats)
    }

    public func takeBackLastExchange() throws -> String? {
        guard !isGenerating else { throw ChatError.busy }
        return locked {
            guard let last = _messages.lastIndex(where: { $0.role == "user" }) else { return nil }
            let text = _messages[last].content
            _messages.removeSubrange(last...)
            return text
        }
    }

    public func cancel() {
        cancelled.store(true, ordering: .releasing)
        locked { request }?.cancel()
    }

    public func clear() {
        locked {
            _messages = []
            _lastStats = GenerationStats()
        }
    }

    public func save(to path: String) throws { try snapshot.write(to: path) }

    public func load(from path: String) throws {
        let saved = try ChatSession.Saved.read(from: path)
        locked {
            _messages = saved.messages
            _systemPrompt = saved.systemPrompt
            _settings = saved.settings
        }
    }

    // MARK: streaming

    /// Times a refused request is sent again, and the longest wait the server may ask for.
    static let maxRetries = 2
    static let longestRetryWait = 10

    /// Waits `seconds` unless the answer is cancelled first (false then).
    private func pause(seconds: Int) -> Bool {
        let end = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < end {
            if cancelled.load(ordering: .acquiring) { return false }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return !cancelled.load(ordering: .acquiring)
    }

    private enum Outcome {
        case finished(reason: String?)
        case cancelled
        case failed(Error)
    }

    /// Streams `request`, handing each chunk to `onChunk`; `cancel()` ends it from another thread.
    private func stream(_ request: ChatCompletionRequest, onChunk: (ChatCompletionChunk) -> Void) -> Outcome {
        let handle = RemoteRequestHandle()
        locked { self.request = handle }
        defer { locked { self.request = nil } }
        if cancelled.load(ordering: .acquiring) { handle.cancel() }  // a cancel before the handle was known
        var reason: String?
        do {
            try client.streamChat(request, handle: handle) { chunk in
                if let finish = chunk.finishReason { reason = finish }
                onChunk(chunk)
            }
        } catch is CancellationError {
            return .cancelled
        } catch {
            return cancelled.load(ordering: .acquiring) ? .cancelled : .failed(error)
        }
        return cancelled.load(ordering: .acquiring) ? .cancelled : .finished(reason: reason)
    }

    /// An assistant message as the server should see it again: its reasoning block left out.
    private static func withoutReasoning(_ message: ChatMessage) -> ChatMessage {
        guard message.role == "assistant" else { return message }
        return .assistant(Reasoning.split(message.content).answer)
    }
}
