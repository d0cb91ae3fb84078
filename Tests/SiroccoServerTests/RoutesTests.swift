// The API over real HTTP: the model list, chat and text completions whole and streamed (greedy:
// the same text either way, in the shapes SiroccoRemote's client decodes), and every error in
// OpenAI's shape with its status.

import Foundation
import SiroccoEngine
import SiroccoRemote
@testable import SiroccoServer
import Testing

/// Chunks' `data:` payloads decoded, the [DONE] marker checked and dropped.
func chunks<T: Decodable>(_ events: [String], as type: T.Type) throws -> [T] {
    #expect(events.last == streamDoneMarker)
    return try events.dropLast().map { try JSONDecoder().decode(T.self, from: Data($0.utf8)) }
}

@Suite(.serialized) struct RoutesTests {
    static let question: [String: Any] = ["role": "user", "content": "What is the capital of France?"]

    @Test func modelsListHasOpenAIShape() async throws {
        try await withServer(ids: ["smollm2", "second.gguf"]) { server in
            let reply = try await server.request("GET", "/v1/models")
            #expect(reply.status == 200)
            #expect(reply.headers["content-type"] == "application/json")
            let list = try JSONDecoder().decode(ModelList.self, from: reply.body)
            #expect(list.data.map(\.id) == ["smollm2", "second.gguf"])
            let json = try reply.json()
            #expect(json["object"] as? String == "list")
            let first = try #require((json["data"] as? [[String: Any]])?.first)
            #expect(first["object"] as? String == "model")
            #expect(first["owned_by"] as? String == "sirocco")
            #expect((first["created"] as? Int ?? 0) > 1_600_000_000)

            let one = try await server.request("GET", "/v1/models/second.gguf")
            #expect(one.status == 200)
            #expect(try one.json()["id"] as? String == "second.gguf")
        }
    }

    @Test func chatStreamedEqualsWholeWhenGreedy() async throws {
        try await withServer { server in
            let request: [String: Any] = ["messages": [Self.question], "temperature": 0, "max_tokens": 24]
            let whole = try await server.request("POST", "/v1/chat/completions", json: request)
            #expect(whole.status == 200, "\(whole.text)")
            let answer = try JSONDecoder().decode(ChatCompletion.self, from: whole.body)
            let text = try #require(answer.choices.first?.message.content)
            #expect(!text.isEmpty)
            #expect(answer.choices.first?.message.role == "assistant")
            let usage = try #require(answer.usage)
            #expect(usage.promptTokens > 5 && usage.completionTokens > 0)
            let json = try whole.json()
            #expect(json["object"] as? String == "chat.completion")
            #expect((json["id"] as? String)?.hasPrefix("chatcmpl-") == true)
            #expect(json["model"] as? String == "smollm2")
            #expect((json["usage"] as? [String: Any])?["total_tokens"] as? Int == usage.promptTokens + usage.completionTokens)
            #expect(whole.headers["x-sirocco-arrival"] == "1")

            var streamed = request
            streamed["stream"] = true
            streamed["stream_options"] = ["include_usage": true]
            let stream = try await server.openStream("/v1/chat/completions", json: streamed)
            #expect(stream.status == 200)
            #expect(stream.headers["content-type"] == "text/event-stream")
            let events = try await blocking { try stream.rest() }
            let parsed = try chunks(events, as: ChatCompletionChunk.self)
            #expect(parsed.map(\.content).joined() == text)
            let raw = try events.dropLast().map { try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
            let firstDelta = (raw.first?["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any]
            #expect(firstDelta?["role"] as? String == "assistant")
            #expect(raw.allSatisfy { $0["object"] as? String == "chat.completion.chunk" })
            // the finish reason in the last chunk with a choice, then a usage chunk without choices
            #expect(parsed[parsed.count - 2].finishReason == answer.choices.first?.finishReason)
            #expect(parsed.dropLast(2).allSatisfy { $0.finishReason == nil })
            #expect(parsed.last?.choices.isEmpty == true)
            #expect(parsed.last?.usage == usage)
        }
    }

    @Test func textCompletionStreamedEqualsWhole() async throws {
        try await withServer { server in
            let request: [String: Any] = ["prompt": "The first three planets are", "temperature": 0, "max_tokens": 12]
            let whole = try await server.request("POST", "/v1/completions", json: request)
            #expect(whole.status == 200, "\(whole.text)")
            let json = try whole.json()
            #expect(json["object"] as? String == "text_completion")
            let choice = try #require((json["choices"] as? [[String: Any]])?.first)
            let text = try #require(choice["text"] as? String)
            #expect(!text.isEmpty)
            #expect(choice["finish_reason"] as? String == "length")
            #expect((json["usage"] as? [String: Any])?["completion_tokens"] as? Int == 12)

            var streamed = request
            streamed["stream"] = true
            let stream = try await server.openStream("/v1/completions", json: streamed)
            let events = try await blocking { try stream.rest() }
            #expect(events.last == streamDoneMarker)
            let pieces = try events.dropLast().map { try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
                .compactMap { ($0["choices"] as? [[String: Any]])?.first }
            #expect(pieces.compactMap { $0["text"] as? String }.joined() == text)
            #expect(pieces.last?["finish_reason"] as? String == "length")
        }
    }

    @Test func stopStringEndsTheAnswer() async throws {
        try await withServer { server in
            let base: [String: Any] = ["prompt": "1, 2, 3, 4, 5,", "temperature": 0, "max_tokens": 16]
            let free = try await server.request("POST", "/v1/completions", json: base)
            let text = try #require(((try free.json()["choices"] as? [[String: Any]])?.first?["text"]) as? String)
            guard let cut = text.range(of: "8") else { return }  // SmolLM2 counts on; if not, nothing to cut
            var stopped = base
            stopped["stop"] = ["8"]
            let reply = try await server.request("POST", "/v1/completions", json: stopped)
            let choice = try #require((try reply.json()["choices"] as? [[String: Any]])?.first)
            #expect(choice["text"] as? String == String(text[..<cut.lowerBound]))
            #expect(choice["finish_reason"] as? String == "stop")
        }
    }

    static let badRequests: [(String, String, String, Int, String?)] = [
        // (method, path, body, status, error code)
        ("POST", "/v1/chat/completions", "{not json", 400, "invalid_json"),
        ("POST", "/v1/chat/completions", "[1, 2]", 400, "invalid_json"),
        ("POST", "/v1/chat/completions", "", 400, "invalid_json"),
        ("POST", "/v1/chat/completions", String(repeating: "[", count: 100_000), 400, "invalid_json"),
        ("POST", "/v1/chat/completions", #"{"model": 5, "messages": [{"role": "user", "content": "hi"}]}"#, 400, "invalid_value"),
        ("POST", "/v1/chat/completions", #"{}"#, 400, "invalid_value"),
        ("POST", "/v1/chat/completions", #"{"messages": "hi"}"#, 400, "invalid_value"),
        ("POST", "/v1/chat/completions", #"{"messages": []}"#, 400, "invalid_value"),
        ("POST", "/v1/chat/completions", #"{"messages": [{"role": "wizard", "content": "hi"}]}"#, 400, "invalid_value"),
        ("POST", "/v1/chat/completions", #"{"messages": [{"role": "user", "content": 5}]}"#, 400, "invalid_value"),
        ("POST", "/v1/chat/completions", #"{"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}"#, 400, "invalid_value"),
        ("POST", "/v1/chat/completions", #"{"messages": [{"role": "user", "content": "hi"}], "temperature": "hot"}"#, 400, "invalid_value"),
        ("POST", "/v1/chat/completions", #"{"messages": [{"role": "user", "content": "hi"}], "temperature": 3}"#, 400, "invalid_value"),
        ("POST", "/v1/chat/completions", #"{"messages": [{"role": "user", "content": "hi"}], "top_p": 1.5}"#, 400, "invalid_value"),
        ("POST", "/v1/chat/completions", #"{"messages": [{"role": "user", "content": "hi"}], "top_k": 2.5}"#, 400, "invalid_value"),
        ("POST", "/v1/chat/completions", #"{"messages": [{"role": "user", "content": "hi"}], "min_p": -1}"#, 400, "invalid_value"),
        ("POST", "/v1/chat/completions", #"{"messages": [{"role": "user", "content": "hi"}], "repeat_penalty": 0}"#, 400, "invalid_value"),
        ("POST", "/v1/chat/completions", #"{"messages": [{"role": "user", "content": "hi"}], "frequency_penalty": 9}"#, 400, "invalid_value"),
        ("POST", "/v1/chat/completions", #"{"messages": [{"role": "user", "content": "hi"}], "seed": -5}"#, 400, "invalid_value"),
        ("POST", "/v1/chat/completions", #"{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 0}"#, 400, "invalid_value"),
        ("POST", "/v1/chat/completions", #"{"messages": [{"role": "user", "content": "hi"}], "max_tokens": "10"}"#, 400, "invalid_value"),
        ("POST", "/v1/chat/completions", #"{"messages": [{"role": "user", "content": "hi"}], "stop": 5}"#, 400, "invalid_value"),
        ("POST", "/v1/chat/completions", #"{"messages": [{"role": "user", "content": "hi"}], "stream": "yes"}"#, 400, "invalid_value"),
        ("POST", "/v1/chat/completions", #"{"messages": [{"role": "user", "content": "hi"}], "n": 2}"#, 400, "invalid_value"),
        ("POST", "/v1/chat/completions", #"{"messages": [{"role": "user", "content": "hi"}], "tools": [{"type": "function"}]}"#, 400, "invalid_value"),
        ("POST", "/v1/chat/completions", #"{"model": "gpt-4", "messages": [{"role": "user", "content": "hi"}]}"#, 404, "model_not_found"),
        ("POST", "/v1/completions", #"{"prompt": 42}"#, 400, "invalid_value"),
        ("POST", "/v1/completions", #"{"prompt": ["a", "b"]}"#, 400, "invalid_value"),
        ("POST", "/v1/completions", #"{"model": "nope", "prompt": "hi"}"#, 404, "model_not_found"),
        ("GET", "/v1/models/nope", "", 404, "model_not_found"),
        ("GET", "/v1/chat/completions", "", 405, "method_not_allowed"),
        ("POST", "/v1/models", "{}", 405, "method_not_allowed"),
        ("DELETE", "/v1/completions", "", 405, "method_not_allowed"),
        ("GET", "/", "", 404, "not_found"),
        ("POST", "/v1/embeddings", "{}", 404, "not_found"),
    ]

    @Test func badRequestsGetJSONErrors() async throws {
        try await withServer { server in
            for (method, path, body, status, code) in Self.badRequests {
                let reply = try await server.request(method, path, body: body.isEmpty && method == "GET" ? nil : Data(body.utf8),
                                                     headers: ["Content-Type": "application/json"])
                #expect(reply.status == status, "\(method) \(path) \(body.prefix(80)): \(reply.status) \(reply.text)")
                #expect(reply.headers["content-type"] == "application/json", "\(method) \(path)")
                let error = try reply.errorCode()
                #expect(error.code == code, "\(method) \(path) \(body.prefix(80)): \(reply.text)")
                #expect(!error.message.isEmpty)
                #expect(try (reply.json()["error"] as? [String: Any])?["type"] as? String != nil)
                if status == 405 { #expect(reply.headers["allow"] != nil) }
            }
            // the server still answers after all that
            let ok = try await server.request("POST", "/v1/completions", json: ["prompt": "Hi", "max_tokens": 2])
            #expect(ok.status == 200)
        }
    }

    @Test func errorMessagesNameTheField() async throws {
        try await withServer { server in
            let reply = try await server.request("POST", "/v1/chat/completions",
                                                 json: ["messages": [Self.question], "temperature": "hot"])
            #expect(try reply.errorCode().message == "'temperature' must be a number, got a string")
            let json = try reply.json()["error"] as? [String: Any]
            #expect(json?["param"] as? String == "temperature")
            #expect(json?["type"] as? String == "invalid_request_error")
            let unknown = try await server.request("POST", "/v1/chat/completions", json: ["model": "gpt-4", "messages": [Self.question]])
            #expect(try unknown.errorCode().message.contains("'gpt-4'"))
            #expect((try unknown.json()["error"] as? [String: Any])?["type"] as? String == "invalid_request_error")
        }
    }

    @Test func promptLongerThanContextNamesTheNumbers() async throws {
        try await withServer(contextLength: 64) { server in
            let long = String(repeating: "word ", count: 200)
            let reply = try await server.request("POST", "/v1/completions", json: ["prompt": long])
            #expect(reply.status == 400)
            let error = try reply.errorCode()
            #expect(error.code == "context_length_exceeded")
            #expect(error.message.contains("64 tokens"), "\(error.message)")
            #expect(error.message.contains("The prompt is 20"), "\(error.message)")
        }
    }

    @Test func modelFieldMayBeLeftOutOnlyWithOneModel() async throws {
        try await withServer(ids: ["a", "b"]) { server in
            let missing = try await server.request("POST", "/v1/completions", json: ["prompt": "Hi", "max_tokens": 1])
            #expect(missing.status == 400)
            #expect(try missing.errorCode().message.contains("a, b"))
            let picked = try await server.request("POST", "/v1/completions", json: ["model": "b", "prompt": "Hi", "max_tokens": 1])
            #expect(picked.status == 200)
            #expect(try picked.json()["model"] as? String == "b")
        }
    }

    @Test func maxTokensIsCappedByTheServer() async throws {
        var options = ServerOptions()
        options.maxTokens = 3
        try await withServer(options) { server in
            let reply = try await server.request("POST", "/v1/completions",
                                                 json: ["prompt": "Once upon a time", "max_tokens": 500, "temperature": 0])
            #expect(reply.status == 200)
            let usage = try reply.json()["usage"] as? [String: Any]
            #expect(usage?["completion_tokens"] as? Int == 3)
        }
    }

    @Test func bodyOverTheLimitIs413() async throws {
        try await withServer { server in
            // declared too large: refused before the body is read
            let declared = try await blocking { [port = server.port] in
                let connection = try HTTPConnection(port: port)
                connection.send(method: "POST", path: "/v1/chat/completions",
                                headers: ["Content-Length": "\(5 << 20)", "Content-Type": "application/json"], body: Data("{".utf8))
                return try connection.readReply()
            }
            #expect(declared.status == 413)
            #expect(try declared.errorCode().code == "request_too_large")
            // chunked, found too large while reading
            let chunked = try await blocking { [port = server.port] in
                let connection = try HTTPConnection(port: port)
                connection.send(method: "POST", path: "/v1/completions", headers: ["Transfer-Encoding": "chunked"])
                let piece = Data(String(repeating: "x", count: 1 << 20).utf8)
                for _ in 0..<5 {
                    guard connection.send(Data("100000\r\n".utf8) + piece + Data("\r\n".utf8)) else { break }
                }
                connection.send(Data("0\r\n\r\n".utf8))
                return try connection.readReply()
            }
            #expect(chunked.status == 413)
            let ok = try await server.request("GET", "/v1/models")
            #expect(ok.status == 200)
        }
    }
}
