// A ChatBackend for tests: a made-up server's model that answers each message with the next of
// its scripted answers, streamed in pieces and ending with the stats it was given — so a remote
// pane can be driven without a server.

import Foundation
@testable import SiroccoEngine

final class ScriptedBackend: ChatBackend, @unchecked Sendable {
    /// One answer: the pieces it streams and the numbers it ends with.
    struct Answer {
        var pieces: [String]
        var stats: GenerationStats
    }

    let location: BackendLocation
    private let lock = NSLock()
    private var answers: [Answer]
    private(set) var messages: [ChatMessage] = []
    let droppedMessages = 0
    var systemPrompt: String?
    var effectiveSystemPrompt: String? { systemPrompt.flatMap { $0.isEmpty ? nil : $0 } }
    var settings = SamplerSettings()
    var maxAnswerTokens = 2048
    var stopStrings: [String] = []
    private(set) var lastStats = GenerationStats()
    let isGenerating = false
    /// What `tokenCount(of:)` says (nil: the count cannot be known, as for most servers).
    var tokensPerCharacter: Int?
    /// Thrown by the next `respond` before it takes the message, as by a server that cannot be reached.
    var unreachable: Error?

    init(baseURL: String = "http://10.0.0.5:8080/v1", model: String = "qwen2.5-coder-7b", answers: [Answer] = []) {
        location = .remote(baseURL: baseURL, model: model)
        self.answers = answers
    }

    var snapshot: ChatSession.Saved {
        guard case let .remote(baseURL, model) = location else { preconditionFailure("a scripted backend is remote") }
        return ChatSession.Saved(model: baseURL, remoteModel: model, systemPrompt: systemPrompt, messages: messages,
                                 settings: settings)
    }

    @discardableResult
    func respond(to text: String, seed: UInt64?, onEvent: (GenerationEvent) -> Void) throws -> GenerationResult {
        if let error = unreachable {
            unreachable = nil
            throw error
        }
        let answer = lock.withLock { answers.isEmpty ? Answer(pieces: [], stats: GenerationStats()) : answers.removeFirst() }
        messages.append(.user(text))
        for piece in answer.pieces { onEvent(.text(piece)) }
        onEvent(.finished(.endOfGeneration, answer.stats))
        let whole = answer.pieces.joined()
        messages.append(.assistant(whole))
        lastStats = answer.stats
        return GenerationResult(tokens: [], text: whole, stop: .endOfGeneration, stats: answer.stats)
    }

    func takeBackLastExchange() throws -> String? {
        guard let last = messages.lastIndex(where: { $0.role == "user" }) else { return nil }
        defer { messages.removeSubrange(last...) }
        return messages[last].content
    }

    func cancel() {}
    func clear() { messages = [] }
    func save(to path: String) throws { try JSONEncoder().encode(snapshot).write(to: URL(fileURLWithPath: path)) }
    func load(from path: String) throws {
        messages = try ChatSession.Saved.decode(Data(contentsOf: URL(fileURLWithPath: path)), path: path).messages
    }
    func tokenCount(of text: String) -> Int? { tokensPerCharacter.map { $0 * text.count } }
}
