// RequestDecoding: the bodies of `POST /v1/chat/completions` and `POST /v1/completions` checked
// field by field and turned into the engine's terms (messages or a prompt, SamplerSettings, a
// token limit, stop strings). Every wrong type or range is a 400 naming the field. Fields OpenAI
// clients send that do not change the answer are accepted and ignored; those that would (n > 1,
// tools, logprobs) are refused rather than silently dropped.

import Foundation
import SiroccoEngine

/// What both endpoints share: which model, how to sample, how much, where to stop, how to answer.
struct GenerationParameters: Equatable, Sendable {
    var model: String?
    var settings: SamplerSettings
    /// Asked for (`max_tokens` or `max_completion_tokens`); nil: the server's limit.
    var maxTokens: Int?
    var stop: [String]
    var stream: Bool
    /// `stream_options.include_usage`: a last chunk with the usage.
    var includeUsage: Bool
}

/// `POST /v1/chat/completions`.
struct ChatCompletionParameters: Equatable {
    var messages: [ChatMessage]
    var generation: GenerationParameters
}

/// `POST /v1/completions`.
struct TextCompletionParameters: Equatable {
    var prompt: String
    var generation: GenerationParameters
}

/// Bounds on what one request may ask for.
struct RequestLimits: Sendable {
    var maxMessages = 4096
    var maxStopStrings = 16
    var maxStopLength = 1024
}

extension ChatCompletionParameters {
    init(json data: Data, limits: RequestLimits = RequestLimits()) throws(APIError) {
        let fields = RequestFields(try JSONValue.object(from: data))
        generation = try GenerationParameters(fields, limits: limits)
        guard let list = fields["messages"] else { throw .invalid("messages", "'messages' is required") }
        guard case let .array(items) = list else {
            throw .invalid("messages", "'messages' must be an array of messages, got \(list.typeName)")
        }
        guard !items.isEmpty else { throw .invalid("messages", "'messages' must contain at least one message") }
        guard items.count <= limits.maxMessages else {
            throw .invalid("messages", "'messages' has \(items.count) messages; at most \(limits.maxMessages) are accepted")
        }
        messages = try items.enumerated().map { i, item throws(APIError) in try Self.message(item, at: i) }
        try fields.refuseUnsupported(["tools", "functions"], "tool calls are not supported")
    }

    /// One message: a role and its text (a string, null, or an array of text parts).
    private static func message(_ value: JSONValue, at index: Int) throws(APIError) -> ChatMessage {
        let path = "messages[\(index)]"
        guard case let .object(object) = value else { throw .invalid(path, "'\(path)' must be an object, got \(value.typeName)") }
        let fields = RequestFields(object)
        guard let role = try fields.string("role", path: path) else { throw .invalid("\(path).role", "'\(path).role' is required") }
        let engineRole = role == "developer" ? "system" : role  // OpenAI's newer name for system
        guard ChatMessage.roles.contains(engineRole) else {
            throw .invalid("\(path).role", "'\(path).role' must be one of \((ChatMessage.roles + ["developer"]).joined(separator: ", ")), got '\(role)'")
        }
        let content: String
        switch fields["content"] {
        case nil, .null?: content = ""
        case let .string(text)?: content = text
        case let .array(parts)?: content = try textParts(parts, path: "\(path).content")
        case let other?:
            throw .invalid("\(path).content", "'\(path).content' must be a string or an array of text parts, got \(other.typeName)")
        }
        return ChatMessage(role: engineRole, content: content)
    }

    /// `[{"type": "text", "text": "…"}, …]` joined by newlines; images and audio are refused.
    private static func textParts(_ parts: [JSONValue], path: String) throws(APIError) -> String {
        var texts: [String] = []
        for (i, part) in parts.enumerated() {
            let partPath = "\(path)[\(i)]"
            guard case let .object(object) = part else { throw .invalid(partPath, "'\(partPath)' must be an object, got \(part.typeName)") }
            let fields = RequestFields(object)
            let type = try fields.string("type", path: partPath)
            guard type == "text" else {
                throw .invalid("\(partPath).type", "'\(partPath).type' must be 'text' (this server reads text only), got \(type.map { "'\($0)'" } ?? "nothing")")
            }
            guard let text = try fields.string("text", path: partPath) else { throw .invalid("\(partPath).text", "'\(partPath).text' is required") }
            texts.append(text)
        }
        return texts.joined(separator: "\n")
    }
}

extension TextCompletionParameters {
    init(json data: Data, limits: RequestLimits = RequestLimits()) throws(APIError) {
        let fields = RequestFields(try JSONValue.object(from: data))
        generation = try GenerationParameters(fields, limits: limits)
        switch fields["prompt"] {
        case let .string(text)?: prompt = text
        case let .array(items)? where items.count == 1:
            guard case let .string(text) = items[0] else {
                throw .invalid("prompt", "'prompt' must be a string or an array of one string, got an array of \(items[0].typeName)")
            }
            prompt = text
        case .array?: throw .invalid("prompt", "'prompt' must be one prompt: this server answers one prompt per request")
        case nil, .null?: throw .invalid("prompt", "'prompt' is required")
        case let other?: throw .invalid("prompt", "'prompt' must be a string, got \(other.typeName)")
        }
        if try fields.bool("echo") == true { throw .invalid("echo", "'echo' is not supported") }
        _ = try fields.integer("best_of", in: 1...1)
        try fields.refuseUnsupported(["suffix"], "'suffix' (insertion) is not supported")
    }
}

extension GenerationParameters {
    /// The fields both endpoints share, checked.
    init(_ fields: RequestFields, limits: RequestLimits) throws(APIError) {
        model = try fields.string("model")
        var s = SamplerSettings()
        if let v = try fields.number("temperature", in: 0...2) { s.temperature = Float(v) }
        if let v = try fields.number("top_p", in: 0...1) { s.topP = Float(v) }
        if let v = try fields.integer("top_k", in: 0...Int64(Int32.max)) { s.topK = v }
        if let v = try fields.number("min_p", in: 0...1) { s.minP = Float(v) }
        if let v = try fields.number("typical_p", in: 0...1) { s.typicalP = Float(v) }
        if let v = try fields.number("repeat_penalty", in: 0...100) {
            guard v > 0 else { throw .invalid("repeat_penalty", "'repeat_penalty' must be greater than 0 (1 = off), got 0") }
            s.repeatPenalty = Float(v)
        }
        if let v = try fields.number("frequency_penalty", in: -2...2) { s.frequencyPenalty = Float(v) }
        if let v = try fields.number("presence_penalty", in: -2...2) { s.presencePenalty = Float(v) }
        if let v = try fields.integer("seed", in: -1...Int64.max) { s.seed = v < 0 ? nil : UInt64(v) }
        do { try s.validate() } catch { throw .badRequest("\(error)", code: "invalid_value") }
        settings = s

        // max_completion_tokens is the newer name; either gives the limit
        let newer = try fields.integer("max_completion_tokens", in: 1...Int64(Int32.max))
        let older = try fields.integer("max_tokens", in: 1...Int64(Int32.max))
        maxTokens = newer ?? older
        stop = try fields.stopStrings(limits: limits)
        stream = try fields.bool("stream") ?? false
        includeUsage = false
        if let options = fields["stream_options"], options != .null {
            guard case let .object(object) = options else {
                throw .invalid("stream_options", "'stream_options' must be an object, got \(options.typeName)")
            }
            includeUsage = try RequestFields(object).bool("include_usage", path: "stream_options") ?? false
        }
        if let n = try fields.integer("n", in: 1...Int64(Int32.max)), n != 1 {
            throw .invalid("n", "'n' must be 1: this server generates one choice per request")
        }
        if try fields.bool("logprobs") == true { throw .invalid("logprobs", "'logprobs' is not supported") }
        if case let .object(bias)? = fields["logit_bias"], !bias.isEmpty {
            throw .invalid("logit_bias", "'logit_bias' is not supported")
        }
        if case let .object(format)? = fields["response_format"], let type = format["type"], type != .string("text") {
            throw .invalid("response_format", "'response_format' must be {\"type\": \"text\"}: structured output is not supported")
        }
    }
}

/// A JSON object's fields with typed, checked access; a null field reads as absent.
struct RequestFields {
    let object: [String: JSONValue]

    init(_ object: [String: JSONValue]) { self.object = object }

    subscript(key: String) -> JSONValue? { object[key] }

    private func present(_ key: String) -> JSONValue? {
        guard let value = object[key], value != .null else { return nil }
        return value
    }

    private func name(_ key: String, _ path: String?) -> String { path.map { "\($0).\(key)" } ?? key }

    func string(_ key: String, path: String? = nil) throws(APIError) -> String? {
        guard let value = present(key) else { return nil }
        guard case let .string(s) = value else {
            throw .invalid(name(key, path), "'\(name(key, path))' must be a string, got \(value.typeName)")
        }
        return s
    }

    func bool(_ key: String, path: String? = nil) throws(APIError) -> Bool? {
        guard let value = present(key) else { return nil }
        guard case let .bool(b) = value else {
            throw .invalid(name(key, path), "'\(name(key, path))' must be true or false, got \(value.typeName)")
        }
        return b
    }

    func number(_ key: String, in range: ClosedRange<Double>) throws(APIError) -> Double? {
        guard let value = present(key) else { return nil }
        let x: Double
        switch value {
        case let .integer(i): x = Double(i)
        case let .number(d): x = d
        default: throw .invalid(key, "'\(key)' must be a number, got \(value.typeName)")
        }
        guard range.contains(x) else {
            throw .invalid(key, "'\(key)' must be between \(Self.format(range.lowerBound)) and \(Self.format(range.upperBound)), got \(Self.format(x))")
        }
        return x
    }

    func integer(_ key: String, in range: ClosedRange<Int64>) throws(APIError) -> Int? {
        guard let value = present(key) else { return nil }
        let i: Int64
        switch value {
        case let .integer(v): i = v
        case let .number(d) where d == d.rounded() && abs(d) < 9e18: i = Int64(d)
        default: throw .invalid(key, "'\(key)' must be an integer, got \(value.typeName)")
        }
        guard range.contains(i) else {
            throw .invalid(key, "'\(key)' must be between \(range.lowerBound) and \(range.upperBound), got \(i)")
        }
        return Int(i)
    }

    /// `stop`: a string or an array of strings.
    func stopStrings(limits: RequestLimits) throws(APIError) -> [String] {
        let list: [String]
        switch present("stop") {
        case nil: return []
        case let .string(s)?: list = [s]
        case let .array(items)?:
            list = try items.map { item throws(APIError) in
                guard case let .string(s) = item else { throw .invalid("stop", "'stop' must be a string or an array of strings, got an array holding \(item.typeName)") }
                return s
            }
        case let other?: throw .invalid("stop", "'stop' must be a string or an array of strings, got \(other.typeName)")
        }
        guard list.count <= limits.maxStopStrings else {
            throw .invalid("stop", "'stop' has \(list.count) strings; at most \(limits.maxStopStrings) are accepted")
        }
        guard list.allSatisfy({ $0.utf8.count <= limits.maxStopLength }) else {
            throw .invalid("stop", "each 'stop' string must be at most \(limits.maxStopLength) bytes")
        }
        return list.filter { !$0.isEmpty }
    }

    /// Throws for the first of `keys` present with a value that asks for something (not null,
    /// false, an empty array or object).
    func refuseUnsupported(_ keys: [String], _ message: String) throws(APIError) {
        for key in keys {
            switch present(key) {
            case nil, .bool(false)?: continue
            case let .array(a)? where a.isEmpty: continue
            case let .object(o)? where o.isEmpty: continue
            default: throw .invalid(key, message)
            }
        }
    }

    private static func format(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : String(x)
    }
}
