// Server-sent events as llama.cpp's server streams them (a recording, scripts/record_openai_stream.py)
// and as the format allows them: split anywhere, CR/LF/CRLF, comments, multi-line data, limits.

import Foundation
import Testing
import SiroccoRemote

func fixture(_ name: String) throws -> Data {
    let url = try #require(Bundle.module.url(forResource: "Fixtures/" + name, withExtension: nil))
    return try Data(contentsOf: url)
}

struct ServerSentEventTests {
    func events(_ text: String, chunk: Int = .max) throws -> [ServerSentEvent] {
        var parser = ServerSentEventParser()
        let bytes = Array(text.utf8)
        var out: [ServerSentEvent] = []
        var i = 0
        while i < bytes.count {
            out += try parser.push(bytes[i..<min(bytes.count, i + chunk)])
            i += chunk
        }
        return out
    }

    @Test func llamaCppsStreamGivesTheAnswerItGivesWhole() throws {
        let stream = try fixture("chat-stream.sse")
        let whole = try JSONDecoder().decode(ChatCompletion.self, from: try fixture("chat.json"))
        // split at every byte boundary one time in a few, and whole
        for chunk in [1, 7, 64, stream.count] {
            var parser = ServerSentEventParser()
            var text = "", finish: String?, done = false
            var i = 0
            let bytes = Array(stream)
            while i < bytes.count {
                for event in try parser.push(bytes[i..<min(bytes.count, i + chunk)]) {
                    if event.data == streamDoneMarker { done = true; continue }
                    let c = try JSONDecoder().decode(ChatCompletionChunk.self, from: Data(event.data.utf8))
                    text += c.content
                    finish = c.finishReason ?? finish
                }
                i += chunk
            }
            #expect(done)
            #expect(text == whole.choices[0].message.content, "chunks of \(chunk)")
            #expect(finish == "length" && whole.choices[0].finishReason == "length")
        }
        #expect(whole.usage == CompletionUsage(promptTokens: 22, completionTokens: 24))
        let models = try JSONDecoder().decode(ModelList.self, from: try fixture("models.json"))
        #expect(models.data.first?.id.hasSuffix("SmolLM2-135M-Instruct.Q4_1.gguf") == true)
    }

    @Test(arguments: [1, 2, 3, 100])
    func theFormatsCornersParseAlikeHoweverTheBytesArrive(chunk: Int) throws {
        let text = ": keep-alive\r\ndata: one\r\n\r\nevent: error\ndata:two\ndata:  three\nid: 7\n\n\rdata\r\rdata: x\n"
        #expect(try events(text, chunk: chunk) == [
            ServerSentEvent(data: "one"),
            ServerSentEvent(type: "error", data: "two\n three", id: "7"),
            ServerSentEvent(data: "", id: "7"),  // a bare `data` line is an empty line of data
        ])
    }

    @Test func anEventNotEndedIsDropped() throws {
        var parser = ServerSentEventParser()
        #expect(try parser.push(Array("data: cut off".utf8)).isEmpty)
        parser.finish()
        #expect(try parser.push(Array("\n".utf8)).isEmpty)
    }

    @Test func aHostileServerCannotGrowAnEventWithoutBound() throws {
        var parser = ServerSentEventParser(maxEventBytes: 1024)
        #expect(throws: ServerSentEventError.eventTooLarge(limit: 1024)) {
            _ = try parser.push(Array(repeating: UInt8(ascii: "a"), count: 2000))
        }
        var lines = ServerSentEventParser(maxEventBytes: 1024)
        #expect(throws: ServerSentEventError.eventTooLarge(limit: 1024)) {
            for _ in 0..<200 { _ = try lines.push(Array("data: 0123456789\n".utf8)) }
        }
    }
}

struct ChatCompletionRequestTests {
    @Test func settingsBecomeTheRequestsParameters() throws {
        var s = SamplerSettingsFixture.settings
        s.seed = 42
        let request = ChatCompletionRequest(model: "m", messages: [.system("Be brief."), .user("Hi")], settings: s,
                                            maxTokens: 64, stop: ["</s>"])
        let json = try #require(try JSONSerialization.jsonObject(with: request.body()) as? [String: Any])
        #expect(json["model"] as? String == "m" && json["stream"] as? Bool == true)
        #expect((json["messages"] as? [[String: String]]) == [["role": "system", "content": "Be brief."], ["role": "user", "content": "Hi"]])
        #expect(json["temperature"] as? Double == 0.5 && json["top_p"] as? Double == 0.75 && json["max_tokens"] as? Int == 64)
        #expect(json["top_k"] as? Int == 20 && json["min_p"] as? Double == 0.125 && json["repeat_penalty"] as? Double == 1.25)
        #expect(json["seed"] as? Int == 42 && (json["stop"] as? [String]) == ["</s>"])
        #expect(json["frequency_penalty"] == nil && json["presence_penalty"] == nil)
        // OpenAI's own API refuses parameters outside its set; a random seed is the server's to draw
        var plain = request
        plain.extendedSampling = false
        plain.settings.seed = nil
        let strict = try #require(try JSONSerialization.jsonObject(with: plain.body()) as? [String: Any])
        #expect(strict["top_k"] == nil && strict["min_p"] == nil && strict["repeat_penalty"] == nil && strict["seed"] == nil)
    }

    @Test func aRepeatPenaltyThatIsOffIsSentToo() throws {
        // llama-cpp-python's server applies 1.1 to a request that does not say, and a greedy answer
        // is then not the greedy answer
        let request = ChatCompletionRequest(model: "m", messages: [.user("Hi")], settings: SamplerSettings())
        let json = try #require(try JSONSerialization.jsonObject(with: request.body()) as? [String: Any])
        #expect(json["repeat_penalty"] as? Double == 1)
    }

    @Test(arguments: [
        (#"{"error": {"message": "model 'x' not found", "type": "invalid_request_error"}}"#, "model 'x' not found"),
        (#"{"error": "Unauthorized"}"#, "Unauthorized"),
        (#"{"detail": "Not Found"}"#, "Not Found"),
        (#"{"detail": [{"loc": ["body"], "msg": "bad"}]}"#, #"[{"loc":["body"],"msg":"bad"}]"#),
        ("<html>502 Bad Gateway</html>", nil),
    ] as [(String, String?)])
    func errorBodiesGiveTheirMessage(body: String, message: String?) {
        #expect(RemoteErrorBody.message(in: Data(body.utf8)) == message)
    }
}

import SiroccoEngine

/// Sampling settings with values that survive Float → Double exactly.
enum SamplerSettingsFixture {
    static var settings: SamplerSettings {
        var s = SamplerSettings()
        s.temperature = 0.5
        s.topP = 0.75
        s.topK = 20
        s.minP = 0.125
        s.repeatPenalty = 1.25
        return s
    }
}
