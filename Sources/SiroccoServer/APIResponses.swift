// APIResponses: what the server sends, in the shapes of OpenAI's API — the model list, whole chat
// and text completions, their streamed chunks and the usage — and how a value becomes a JSON
// response or one server-sent event. Encoding only; SiroccoRemote holds the client's decoders.

import Foundation
import HTTPTypes
import Hummingbird
import SiroccoEngine

/// `GET /v1/models`.
struct ModelListBody: Encodable {
    struct Entry: Encodable {
        var id: String
        var object = "model"
        var created: Int
        var ownedBy = "sirocco"
        enum CodingKeys: String, CodingKey {
            case id, object, created
            case ownedBy = "owned_by"
        }
    }
    var object = "list"
    var data: [Entry]
}

/// Token counts of one answer.
struct UsageBody: Encodable {
    var promptTokens: Int
    var completionTokens: Int
    /// Prompt tokens found in the context's cache and not evaluated again (OpenAI's
    /// `prompt_tokens_details.cached_tokens`).
    var cachedTokens = 0
    var totalTokens: Int { promptTokens + completionTokens }

    init(promptTokens: Int, completionTokens: Int, cachedTokens: Int = 0) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.cachedTokens = cachedTokens
    }

    /// The usage of a job that ran `request` with these statistics.
    init(_ request: GenerationRequest, _ stats: GenerationStats) {
        self.init(promptTokens: request.prompt.count, completionTokens: stats.generatedTokens, cachedTokens: stats.reusedTokens)
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(promptTokens, forKey: .promptTokens)
        try c.encode(completionTokens, forKey: .completionTokens)
        try c.encode(totalTokens, forKey: .totalTokens)
        var details = c.nestedContainer(keyedBy: DetailKeys.self, forKey: .promptTokensDetails)
        try details.encode(cachedTokens, forKey: .cachedTokens)
    }
    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens"
        case totalTokens = "total_tokens"
        case promptTokensDetails = "prompt_tokens_details"
    }
    enum DetailKeys: String, CodingKey { case cachedTokens = "cached_tokens" }
}

/// The fields every completion object and chunk starts with.
struct CompletionHeader: Sendable {
    var id: String
    var created: Int
    var model: String

    /// The keys of every completion object.
    enum Keys: String, CodingKey { case id, object, created, model, choices, usage }

    /// Writes the header's fields and `object`; the container goes on with choices and usage.
    func encode(object: String, to encoder: any Encoder) throws -> KeyedEncodingContainer<Keys> {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(id, forKey: .id)
        try c.encode(object, forKey: .object)
        try c.encode(created, forKey: .created)
        try c.encode(model, forKey: .model)
        return c
    }

    /// A new answer's header: `chatcmpl-…` or `cmpl-…` with 24 random hex digits.
    static func new(prefix: String, model: String) -> CompletionHeader {
        let hex = (0..<3).map { _ in String(format: "%016llx", UInt64.random(in: .min ... .max)) }.joined().prefix(24)
        return CompletionHeader(id: "\(prefix)-\(hex)", created: Int(Date().timeIntervalSince1970), model: model)
    }
}

/// `POST /v1/chat/completions` with `stream: false`.
struct ChatCompletionBody: Encodable {
    struct Choice: Encodable {
        var index = 0
        var message: ChatMessage
        var finishReason: String
        enum CodingKeys: String, CodingKey {
            case index, message
            case finishReason = "finish_reason"
        }
    }
    var header: CompletionHeader
    var choices: [Choice]
    var usage: UsageBody

    func encode(to encoder: any Encoder) throws {
        var c = try header.encode(object: "chat.completion", to: encoder)
        try c.encode(choices, forKey: .choices)
        try c.encode(usage, forKey: .usage)
    }
}

/// One event of a streamed chat answer: a delta (the first one carries the role), the finish
/// reason, or — with `stream_options.include_usage` — the usage with no choices.
struct ChatCompletionChunkBody: Encodable {
    struct Delta: Encodable {
        var role: String?
        var content: String?
    }
    var header: CompletionHeader
    var delta: Delta?
    var finishReason: String?
    var usage: UsageBody?

    func encode(to encoder: any Encoder) throws {
        var c = try header.encode(object: "chat.completion.chunk", to: encoder)
        if let usage {
            try c.encode([ChoiceBody](), forKey: .choices)
            try c.encode(usage, forKey: .usage)
        } else {
            try c.encode([ChoiceBody(delta: delta ?? Delta(), finishReason: finishReason)], forKey: .choices)
        }
    }
    private struct ChoiceBody: Encodable {
        var delta: Delta
        var finishReason: String?
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(0, forKey: .index)
            try c.encode(delta, forKey: .delta)
            try c.encode(finishReason, forKey: .finishReason)  // null until the last chunk
        }
        enum CodingKeys: String, CodingKey {
            case index, delta
            case finishReason = "finish_reason"
        }
    }
}

/// `POST /v1/completions`: a whole answer (`stream: false`) or one streamed chunk of it, which
/// share a shape (`object: text_completion`, `choices[0].text`).
struct TextCompletionBody: Encodable {
    var header: CompletionHeader
    var text: String
    var finishReason: String?
    var usage: UsageBody?
    /// The usage-only last chunk of a stream (no choices).
    var usageOnly = false

    func encode(to encoder: any Encoder) throws {
        var c = try header.encode(object: "text_completion", to: encoder)
        try c.encode(usageOnly ? [] : [ChoiceBody(text: text, finishReason: finishReason)], forKey: .choices)
        if let usage { try c.encode(usage, forKey: .usage) }
    }
    private struct ChoiceBody: Encodable {
        var text: String
        var finishReason: String?
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(text, forKey: .text)
            try c.encode(0, forKey: .index)
            try c.encodeNil(forKey: .logprobs)
            try c.encode(finishReason, forKey: .finishReason)
        }
        enum CodingKeys: String, CodingKey {
            case text, index, logprobs
            case finishReason = "finish_reason"
        }
    }
}

/// OpenAI's finish reason for why generation stopped.
func finishReason(_ stop: StopReason) -> String {
    switch stop {
    case .endOfGeneration, .stopString, .cancelled: return "stop"
    case .maxTokens, .contextFull: return "length"
    }
}

/// JSON bodies and server-sent events.
enum JSONResponse {
    static func data(_ value: some Encodable) -> Data {
        let encoder = JSONEncoder()  // one per call: requests encode on many threads at once
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // the bodies are plain structs of strings and numbers: encoding cannot fail
        return (try? encoder.encode(value)) ?? Data("{}".utf8)
    }

    static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok,
                     headers: [HTTPField.Name: String] = [:]) -> Response {
        var fields: HTTPFields = [.contentType: "application/json"]
        for (name, value) in headers { fields[name] = value }
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data(value))))
    }

    /// One server-sent event: `data: JSON` and a blank line.
    static func event(_ value: some Encodable) -> ByteBuffer {
        var buffer = ByteBuffer(string: "data: ")
        buffer.writeBytes(data(value))
        buffer.writeString("\n\n")
        return buffer
    }

    /// The stream's last event.
    static var done: ByteBuffer { ByteBuffer(string: "data: [DONE]\n\n") }
}
