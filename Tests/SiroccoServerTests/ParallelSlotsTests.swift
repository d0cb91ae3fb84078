// A model served with several contexts (`--parallel`): concurrent requests are decoded together
// and each gets the answer it gets alone, and a conversation's next turn goes to the context
// that holds its earlier turns.

import Foundation
import SiroccoEngine
@testable import SiroccoServer
import Testing

@Suite(.serialized) struct ParallelSlotsTests {
    /// Prompts SmolLM2 continues greedily for all the tokens asked.
    static let prompts = ["1, 2, 3, 4, 5,", "10, 20, 30, 40,"]

    func complete(_ server: RunningServer, _ prompt: String) async throws -> String {
        let reply = try await server.request("POST", "/v1/completions", json: [
            "prompt": prompt, "max_tokens": 40, "temperature": 0,
        ])
        #expect(reply.status == 200, "\(reply.text)")
        let choices = try reply.json()["choices"] as? [[String: Any]]
        return try #require(choices?.first?["text"] as? String)
    }

    @Test func concurrentRequestsAreDecodedTogetherAndAnsweredAsAlone() async throws {
        var alone: [String] = []
        try await withServer { server in
            for prompt in Self.prompts { alone.append(try await complete(server, prompt)) }
        }
        try await withServer(parallel: 2) { server in
            let batcher = try #require(server.server.models[0].slots[0].batcher)
            #expect(server.server.models[0].slots.allSatisfy { $0.batcher === batcher })
            let together = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for (i, prompt) in Self.prompts.enumerated() {
                    group.addTask { (i, try await complete(server, prompt)) }
                }
                var answers = [String](repeating: "", count: Self.prompts.count)
                for try await (i, text) in group { answers[i] = text }
                return answers
            }
            #expect(together == alone)
            // the two answers shared forward calls: more than one request a step
            let perStep = Double(batcher.requestsServed) / Double(max(1, batcher.steps))
            #expect(perStep > 1.3, "\(batcher.requestsServed) requests in \(batcher.steps) steps")
        }
    }

    /// `usage.prompt_tokens_details.cached_tokens` of a chat request.
    func chat(_ server: RunningServer, _ messages: [[String: String]]) async throws -> (answer: String, prompt: Int, cached: Int) {
        let reply = try await server.request("POST", "/v1/chat/completions", json: [
            "messages": messages, "max_tokens": 8, "temperature": 0,
        ])
        #expect(reply.status == 200, "\(reply.text)")
        let body = try reply.json()
        let usage = try #require(body["usage"] as? [String: Any])
        let cached = (usage["prompt_tokens_details"] as? [String: Any])?["cached_tokens"] as? Int
        let answer = ((body["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"] as? String
        return (try #require(answer), try #require(usage["prompt_tokens"] as? Int), try #require(cached))
    }

    @Test func aConversationsNextTurnFindsItsEarlierTurnsCached() async throws {
        try await withServer(parallel: 2) { server in
            let first = [["role": "user", "content": "Name three colours."]]
            let a = try await chat(server, first)
            #expect(a.cached == 0)
            // another conversation takes the context not used yet, leaving the first one's
            let b = try await chat(server, [["role": "user", "content": "What is two plus two?"]])
            #expect(b.cached == 0, "the second conversation reused \(b.cached) tokens")
            let next = try await chat(server, first + [["role": "assistant", "content": a.answer],
                                                       ["role": "user", "content": "And two more?"]])
            #expect(next.cached >= a.prompt, "the next turn found \(next.cached) of the first turn's \(a.prompt) prompt tokens")
        }
    }
}
