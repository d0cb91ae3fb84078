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
        let alone = try await withServer { server in try await complete(server, Self.prompts[1]) }
        var options = ServerOptions()
        options.maxTokens = 100_000
        try await withServer(options, contextLength: 4096, parallel: 2) { server in
            let batcher = try #require(server.server.models[0].slots[0].batcher)
            #expect(server.server.models[0].slots.allSatisfy { $0.batcher === batcher })
            // a long answer is under way (it would run until the context is full) …
            let running = try await server.openStream("/v1/completions", json: ModelSchedulerTests.endless)
            #expect(running.status == 200)
            try await blocking {
                var texts = 0
                while texts < 2, let data = try running.next() { if data.contains("\"text\"") { texts += 1 } }
            }
            let (steps0, served0) = (batcher.steps, batcher.requestsServed)
            // … when another request comes: it is answered as it is alone, in steps shared with the first
            let together = try await complete(server, Self.prompts[1])
            let (steps, served) = (batcher.steps - steps0, batcher.requestsServed - served0)
            running.connection.close()
            #expect(together == alone)
            // each step the two shared served one request more than it took: the second answer's
            // 40 tokens were mostly decoded with the first's (apart, served == steps)
            #expect(served - steps >= 20, "\(served) requests in \(steps) steps")
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
