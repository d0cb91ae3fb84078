// ChatSession: a conversation with a model — messages, the KV cache kept between turns (only the
// tokens new since the cached prefix are evaluated), live sampling settings, streaming answers,
// cancellation, context-overflow handling and atomic save/load.

import Foundation
import Synchronization

/// A multi-turn chat on one model. Answers stream as `GenerationEvent`s; one answer at a time.
/// Settings and cancellation may be used from any thread while an answer streams.
public final class ChatSession: @unchecked Sendable {
    public let model: Model
    public let context: InferenceContext
    /// Most tokens one answer may have.
    public var maxAnswerTokens = 2048
    public var overflowPolicy = ContextOverflowPolicy.dropOldestTurns
    /// Extra strings that end an answer (besides the model's end-of-turn tokens).
    public var stopStrings: [String] = []
    /// A draft model that proposes tokens for this one to check (speculative decoding); set
    /// between answers.
    public var draft: SpeculativeDraft?

    private let lock = NSLock()
    private var _messages: [ChatMessage] = []
    private var _systemPrompt: String?
    private var _settings: SamplerSettings
    private var _format: ChatFormat
    private var _droppedMessages = 0
    private var _lastStats = GenerationStats()
    private var sampler: SamplerChain
    private let cancelled = Atomic<Bool>(false)
    private let busy = Atomic<Bool>(false)

    /// Throws when the model's head size does not fit `cacheType`. With a `batcher` (of `model`),
    /// the answers are decoded together with those of the other sessions on it, on its threads
    /// (`threads` is then ignored).
    public init(model: Model, contextLength: Int = 4096, threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                cacheType: KVCacheType = .f16, format: ChatFormat? = nil, systemPrompt: String? = nil,
                settings: SamplerSettings = SamplerSettings(), batcher: SequenceBatcher? = nil) throws {
        self.model = model
        context = try InferenceContext(model: model, contextLength: contextLength, threads: batcher == nil ? threads : 1,
                                       cacheType: cacheType)
        context.batcher = batcher
        _format = format ?? ChatFormat.forModel(model)
        _systemPrompt = systemPrompt
        _settings = settings
        sampler = SamplerChain(settings: settings)
    }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    /// The conversation so far (without the system prompt).
    public var messages: [ChatMessage] { locked { _messages } }
    /// Messages dropped from the start because the context was full.
    public var droppedMessages: Int { locked { _droppedMessages } }
    public var systemPrompt: String? {
        get { locked { _systemPrompt } }
        set { locked { _systemPrompt = newValue } }
    }
    /// The system prompt the model sees: the session's own, else the one the format's template
    /// writes when there is none (nil when neither).
    public var effectiveSystemPrompt: String? {
        locked {
            if let system = _systemPrompt, !system.isEmpty { return system }
            return _format.defaultSystemPrompt
        }
    }
    /// Sampling settings; a change applies from the next token, even mid-answer.
    public var settings: SamplerSettings {
        get { locked { _settings } }
        set { locked { _settings = newValue } }
    }
    public var format: ChatFormat {
        get { locked { _format } }
        set { locked { _format = newValue } }
    }
    /// Statistics of the last answer (or of the prompt evaluation in progress).
    public var lastStats: GenerationStats { locked { _lastStats } }
    public var isGenerating: Bool { busy.load(ordering: .acquiring) }

    /// Every message the model sees: the system prompt, then the conversation.
    private func fullConversation(_ messages: [ChatMessage], system: String?) -> [ChatMessage] {
        if let system, !system.isEmpty { return [.system(system)] + messages }
        return messages
    }

    /// Tokens of `messages` (after the system prompt) rendered with the generation prompt.
    func promptTokens(for messages: [ChatMessage]) throws -> [TokenID] {
        let (system, format) = locked { (_systemPrompt, _format) }
        return try format.promptTokens(fullConversation(messages, system: system), tokenizer: model.tokenizer)
    }

    /// Sends a user message and waits for the whole answer, handing each event to `onEvent` on
    /// the calling thread as it comes: the one streaming primitive (`send` wraps it in a stream).
    /// The answer (even a cancelled, partial one) is added to the conversation. `seed`, when
    /// given, starts this answer's random draws instead of the settings' seed (a retry's new one).
    @discardableResult
    public func respond(to text: String, seed: UInt64? = nil,
                        onEvent: (GenerationEvent) -> Void = { _ in }) throws -> GenerationResult {
        guard !text.isEmpty else { throw ChatError.emptyMessage }
        return try exclusively {
            cancelled.store(false, ordering: .releasing)
            return try answer(text, seed: seed, onEvent: onEvent)
        }
    }

    /// `respond` on a thread of its own, as an `AsyncThrowingStream` for async callers; ending the
    /// iteration early cancels the answer.
    public func send(_ text: String) -> AsyncThrowingStream<GenerationEvent, Error> {
        AsyncThrowingStream { continuation in
            continuation.onTermination = { [weak self] reason in
                if case .cancelled = reason { self?.cancel() }
            }
            let thread = Thread { [self] in
                do {
                    try respond(to: text) { continuation.yield($0) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            thread.name = "sirocco-generate"
            thread.stackSize = 4 << 20
            thread.start()
        }
    }

    /// Takes the last exchange back: removes the last user message and the answer after it, and
    /// returns that message (nil when there is none). The KV cache keeps its cells, so the next
    /// answer evaluates only what its prompt does not share with them (a retry: one token).
    /// `ChatError.busy` while an answer is being generated.
    public func takeBackLastExchange() throws -> String? {
        try exclusively {
            locked {
                guard let last = _messages.lastIndex(where: { $0.role == "user" }) else { return nil }
                let text = _messages[last].content
                _messages.removeSubrange(last...)
                return text
            }
        }
    }

    /// Runs `body` as the one user of the context; `ChatError.busy` while another (an answer) is.
    private func exclusively<T>(_ body: () throws -> T) throws -> T {
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else {
            throw ChatError.busy
        }
        defer { busy.store(false, ordering: .releasing) }
        return try body()
    }

    /// One turn: fit the conversation into the context, then generate (the caller holds `busy`).
    private func answer(_ text: String, seed: UInt64?, onEvent: (GenerationEvent) -> Void) throws -> GenerationResult {
        var conversation = messages + [.user(text)]
        var tokens = try promptTokens(for: conversation)
        // keep room for at least a short answer
        let reserve = min(maxAnswerTokens, max(16, context.contextLength / 8))
        var dropped = 0
        while tokens.count + reserve > context.contextLength {
            guard overflowPolicy == .dropOldestTurns, conversation.count > 1 else {
                throw ChatError.conversationTooLong(tokens: tokens.count + reserve, capacity: context.contextLength)
            }
            // drop the oldest turn: a user message and the answers that follow it
            conversation.removeFirst()
            dropped += 1
            while conversation.count > 1, conversation.first?.role != "user" {
                conversation.removeFirst()
                dropped += 1
            }
            tokens = try promptTokens(for: conversation)
        }
        locked {
            _messages = conversation
            _droppedMessages += dropped
            sampler.settings = _settings
            sampler.reseed(to: seed)  // each answer from its own seed, so `seed` reproduces it
        }
        // a template that opens the reasoning block itself: the answer (streamed and kept) starts
        // with the opening tag, as the model saw it, so it folds and re-renders as written
        let opened = Reasoning.promptOpensBlock(model.tokenizer.decode(Array(tokens.suffix(8)), renderSpecial: true))
        let prefix = opened ? Reasoning.openTag + "\n" : ""
        if opened { onEvent(.text(prefix)) }
        let result = try context.generate(
            prompt: tokens, maxTokens: maxAnswerTokens, sampler: &sampler, stopStrings: stopStrings,
            startsInReasoning: opened, draft: draft,
            settings: { [unowned self] in self.settings },
            isCancelled: { [unowned self] in self.cancelled.load(ordering: .acquiring) },
            onEvent: { [unowned self] event in
                switch event {
                case let .progress(s), let .finished(_, s): self.locked { self._lastStats = s }
                case .text, .notice: break
                }
                onEvent(event)
            })
        locked { _messages.append(.assistant(prefix + result.text)) }
        return result
    }

    /// Stops the answer being generated after the current token; the partial answer is kept.
    public func cancel() { cancelled.store(true, ordering: .releasing) }

    /// Forgets the conversation (the system prompt stays) and empties the cache.
    public func clear() {
        locked {
            _messages = []
            _droppedMessages = 0
        }
        context.reset()
        sampler.reset()
    }

    // MARK: persistence

    /// What a saved conversation file holds.
    public struct Saved: Codable, Equatable, Sendable {
        public var format = "sirocco-conversation"
        public var version = 1
        /// The GGUF's path, or a remote model's API base URL.
        public var model: String?
        /// The server's name of a remote model (absent for a local one).
        public var remoteModel: String?
        public var systemPrompt: String?
        public var messages: [ChatMessage]
        public var settings: SamplerSettings

        public init(model: String? = nil, remoteModel: String? = nil, systemPrompt: String? = nil, messages: [ChatMessage],
                    settings: SamplerSettings) {
            self.model = model
            self.remoteModel = remoteModel
            self.systemPrompt = systemPrompt
            self.messages = messages
            self.settings = settings
        }

        /// A saved conversation from a file's bytes, checked (format, settings, roles); any
        /// problem is `ChatError.badConversationFile` naming `path`.
        public static func decode(_ data: Data, path: String) throws -> Saved {
            let saved: Saved
            do { saved = try JSONDecoder().decode(Saved.self, from: data) } catch {
                throw ChatError.badConversationFile(path: path, reason: "not a Sirocco conversation (invalid JSON)")
            }
            guard saved.format == "sirocco-conversation", saved.version == 1 else {
                throw ChatError.badConversationFile(path: path, reason: "unknown format or version")
            }
            do {
                try saved.settings.validate()
                try ChatMessage.checkRoles(saved.messages)
            } catch {
                throw ChatError.badConversationFile(path: path, reason: "\(error)")
            }
            return saved
        }

        /// The conversation saved at `path` (a regular file), checked as `decode` does.
        public static func read(from path: String) throws -> Saved {
            let data: Data
            do { data = try RegularFile.contents(of: path) } catch let error as FileError {
                throw ChatError.badConversationFile(path: path, reason: error.reason)
            }
            return try decode(data, path: path)
        }

        /// Writes the conversation as JSON, atomically and durably (`AtomicFile`).
        public func write(to path: String) throws {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try AtomicFile.write(try encoder.encode(self), to: path)
        }
    }

    public var snapshot: Saved {
        locked { Saved(model: model.file.path, systemPrompt: _systemPrompt, messages: _messages, settings: _settings) }
    }

    /// Writes the conversation as JSON, atomically and durably (`AtomicFile`): a full disk is
    /// `FileError.noSpace` and the previous save stays as it was.
    public func save(to path: String) throws { try snapshot.write(to: path) }

    /// Writes the KV cache the conversation has filled to `path` (`InferenceContext.saveCache`), for
    /// `restoreCache` after a later `load`; `ChatError.busy` while an answer is being generated.
    public func saveCache(to path: String) throws {
        try exclusively { try context.saveCache(to: path) }
    }

    /// Restores the KV cache saved at `path` for as much of the conversation as it holds — the
    /// tokens it shares with the prompt the next message will be rendered into — so the next answer
    /// evaluates only what is new. Returns how many tokens; 0 (nothing changed) when the file is
    /// another model's, cache type's or conversation's. A damaged file throws `KVCacheFileError`;
    /// `ChatError.busy` while an answer is being generated.
    @discardableResult
    public func restoreCache(from path: String) throws -> Int {
        try exclusively {
            let expected = nextPromptPrefix()
            return expected.isEmpty ? 0 : try context.restoreCache(from: path, tokens: expected)
        }
    }

    /// The prompt the conversation renders to once a next message follows it (the message's text
    /// is a stand-in: the tokens from it on match nothing cached), as `answer` will render it;
    /// empty when there is no conversation or it cannot be rendered.
    private func nextPromptPrefix() -> [TokenID] {
        let conversation = messages
        guard !conversation.isEmpty else { return [] }
        return (try? promptTokens(for: conversation + [.user("…")])) ?? []
    }

    /// Replaces the conversation with the one saved at `path`.
    public func load(from path: String) throws {
        let saved = try Saved.read(from: path)
        locked {
            _messages = saved.messages
            _systemPrompt = saved.systemPrompt
            _settings = saved.settings
            _droppedMessages = 0
        }
        sampler = SamplerChain(settings: saved.settings)
    }
}
