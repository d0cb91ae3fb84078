// Sirocco's remote backend against `sirocco serve`: a conversation through HTTP answers, greedily,
// what the engine answers in process (the server renders the same template; the client streams
// every piece); the key, a cancel that frees the model, and four remote sessions at once.

import Foundation
import SiroccoEngine
import SiroccoRemote
@testable import SiroccoServer
import Testing

@Suite(.serialized) struct RemoteBackendTests {
    static var greedy: SamplerSettings {
        var settings = SamplerSettings()
        settings.temperature = 0
        return settings
    }

    /// A remote session on `server`'s first model, opened as the chat opens one.
    func remote(_ server: RunningServer, key: String? = nil) throws -> RemoteSession {
        let endpoint = try RemoteEndpoint(url: "http://127.0.0.1:\(server.port)/v1", apiKey: key, idleTimeout: 60)
        let session = try RemoteSession.open(endpoint: endpoint, model: nil, systemPrompt: "You are brief.", settings: Self.greedy)
        session.maxAnswerTokens = 24
        return session
    }

    @Test func aRemoteConversationAnswersWhatTheEngineAnswers() async throws {
        let questions = ["What is the capital of France?", "And of Italy?"]
        let local = try ChatSession(model: try TestModel.load(), contextLength: 1024, threads: 1, systemPrompt: "You are brief.",
                                    settings: Self.greedy)
        local.maxAnswerTokens = 24
        var expected: [GenerationResult] = []
        for question in questions { expected.append(try local.respond(to: question)) }

        try await withServer { server in
            let session = try remote(server)
            #expect(session.model == "smollm2")
            let results = try await blocking {
                try questions.map { question in
                    var pieces: [String] = []
                    let result = try session.respond(to: question, seed: nil) { event in
                        if case let .text(piece) = event { pieces.append(piece) }
                    }
                    return (result, pieces)
                }
            }
            for ((result, pieces), local) in zip(results, expected) {
                #expect(result.text == local.text)
                #expect(pieces.joined() == result.text && pieces.count > 3)  // streamed, not whole
                #expect(result.stop == local.stop)
                #expect(result.stats.generatedTokens == local.stats.generatedTokens)  // the server's usage
                #expect(result.stats.timeToFirstToken > 0)
            }
            #expect(session.messages == local.messages)
        }
    }

    @Test func theKeyIsAskedForAndAWrongOneIsRefused() async throws {
        var options = ServerOptions()
        options.apiKey = "sk-test-right"
        try await withServer(options) { server in
            #expect(throws: RemoteError.self) { try remote(server, key: "sk-wrong") }
            do {
                _ = try remote(server, key: nil)
                Issue.record("opened without a key")
            } catch let error as RemoteError {
                guard case .unauthorized(401, _) = error else { Issue.record("\(error)"); return }
            }
            let session = try remote(server, key: "sk-test-right")
            let answer = try await blocking { try session.respond(to: "Hi", seed: nil) { _ in } }
            #expect(!answer.text.isEmpty)
        }
    }

    @Test func aCancelledRemoteAnswerFreesTheModelForTheNext() async throws {
        try await withServer { server in
            let session = try remote(server)
            session.maxAnswerTokens = 400
            let cancelled = try await blocking {
                try session.respond(to: "Write a long story about the sea.", seed: nil) { event in
                    if case let .progress(stats) = event, stats.generatedTokens >= 3 { session.cancel() }
                }
            }
            #expect(cancelled.stop == .cancelled)
            #expect(cancelled.stats.generatedTokens < 40)
            session.maxAnswerTokens = 8
            let next = try await blocking { try session.respond(to: "Hi", seed: nil) { _ in } }
            #expect(next.stop == .maxTokens || next.stop == .endOfGeneration)
            #expect(session.messages.count == 4)  // the cancelled answer kept
        }
    }

    /// Four sessions, each asking five questions one after another, all at once: every answer
    /// arrives whole, none fails.
    @Test func fourRemoteSessionsAtOnceAllGetTheirAnswers() async throws {
        try await withServer { server in
            let sessions = try (0..<4).map { _ in try remote(server) }
            for session in sessions { session.maxAnswerTokens = 6 }
            let counts = try await withThrowingTaskGroup(of: Int.self) { group in
                for (i, session) in sessions.enumerated() {
                    group.addTask {
                        try await blocking {
                            var answered = 0
                            for j in 0..<5 {
                                let result = try session.respond(to: "Say the number \(i * 5 + j).", seed: nil) { _ in }
                                if !result.text.isEmpty && result.stop != .cancelled { answered += 1 }
                            }
                            return answered
                        }
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(counts == [5, 5, 5, 5])
        }
    }
}
