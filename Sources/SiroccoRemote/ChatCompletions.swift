// ChatCompletions: the OpenAI-compatible chat-completions API as llama-server, vLLM, Ollama and LM
// Studio speak it — the request a conversation and its sampling settings become, and the chunks,
// whole answers and errors the server sends back. Pure values: no connection here.

import Foundation
import SiroccoEngine

/// A request to `POST {base}/chat/completions`.
public struct ChatCompletionRequest: Sendable, Equatable {
    public var model: String
    public var messages: [ChatMessage]
    public var settings: SamplerSettings
    /// Most tokens of the answer (nil: the server's limit).
    public var maxTokens: Int?
    public var stop: [String]
    public var stream: Bool
    /// Send the sampling parameters outside OpenAI's own set (top_k, min_p, repeat_penalty), which
    /// llama-server, vLLM and Ollama accept and OpenAI's API refuses.
    public var extendedSampling: Bool
    /// Ask a streaming server for a last chunk with the token counts (`stream_options`).
    public var includeUsage = true

    public init(model: String, messages: [ChatMessage], settings: SamplerSettings, maxTokens: Int? = nil,
                stop: [String] = [], stream: Bool = true, extendedSampling: Bool = true) {
        self.model = model
        self.messages = messages
        self.settings = settings
        self.maxTokens = maxTokens
        self.stop = stop
        self.stream = stream
        self.extendedSampling = extendedSampling
    }

    /// The JSON body. A fixed seed is sent; a random one is left to the server (each answer its own).
    public func body() throws -> Data {
        var json: [String: Any] = [
            "model": model,
            "messages": messages.map { ["role": $0.role, "content": $0.content] },
            "stream": stream,
            "temperature": Double(settings.temperature),
            "top_p": Double(settings.topP),
        ]
        if stream && includeUsage { json["stream_options"] = ["include_usage": true] }
        if let maxTokens { json["max_tokens"] = maxTokens }
        if !stop.isEmpty { json["stop"] = stop }
        if let seed = settings.seed { json["seed"] = seed }
        if settings.frequencyPenalty != 0 { json["frequency_penalty"] = Double(settings.frequencyPenalty) }
        if settings.presencePenalty != 0 { json["presence_penalty"] = Double(settings.presencePenalty) }
        if extendedSampling {
            json["top_k"] = settings.topK
            json["min_p"] = Double(settings.minP)
            // even when off (1): llama-cpp-python's server applies 1.1 to a request without it
            json["repeat_penalty"] = Double(settings.repeatPenalty)
        }
        return try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
    }
}

/// Token counts a server reports.
public struct CompletionUsage: Decodable, Equatable, Sendable {
    public var promptTokens: Int
    public var completionTokens: Int

    public init(promptTokens: Int, completionTokens: Int) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
    }

    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens"
    }
}

/// One streamed event of an answer (`data:` of a server-sent event).
public struct ChatCompletionChunk: Decodable, Equatable, Sendable {
    public struct Choice: Decodable, Equatable, Sendable {
        public struct Delta: Decodable, Equatable, Sendable {
            public var content: String?
            /// The reasoning some servers send apart (llama-server, vLLM: `reasoning_content`).
            public var reasoningContent: String?
            enum CodingKeys: String, CodingKey {
                case content
                case reasoningContent = "reasoning_content"
            }
        }
        public var delta: Delta?
        public var finishReason: String?
        enum CodingKeys: String, CodingKey {
            case delta
            case finishReason = "finish_reason"
        }
    }
    public var choices: [Choice]
    public var usage: CompletionUsage?
    /// llama-server's own numbers for the answer, on its last chunk.
    public var timings: ServerTimings?

    /// The text this chunk adds to the answer (reasoning wrapped in `<think>` tags by the caller).
    public var content: String { choices.first?.delta?.content ?? "" }
    public var finishReason: String? { choices.first?.finishReason }
}

/// What llama-server measured of an answer (`timings`, on its last chunk): prompt tokens
/// evaluated and reused from its cache, tokens generated, and their milliseconds.
public struct ServerTimings: Decodable, Equatable, Sendable {
    public var promptTokens: Int?
    public var promptMilliseconds: Double?
    public var cachedTokens: Int?
    public var predictedTokens: Int?
    public var predictedMilliseconds: Double?

    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_n"
        case promptMilliseconds = "prompt_ms"
        case cachedTokens = "cache_n"
        case predictedTokens = "predicted_n"
        case predictedMilliseconds = "predicted_ms"
    }
}

/// A whole answer (`stream: false`).
public struct ChatCompletion: Decodable, Equatable, Sendable {
    public struct Choice: Decodable, Equatable, Sendable {
        public var message: ChatMessage
        public var finishReason: String?
        enum CodingKeys: String, CodingKey {
            case message
            case finishReason = "finish_reason"
        }
    }
    public var choices: [Choice]
    public var usage: CompletionUsage?
}

/// `GET {base}/models`.
public struct ModelList: Decodable, Equatable, Sendable {
    public struct Entry: Decodable, Equatable, Sendable { public var id: String }
    public var data: [Entry]
}

/// The error body OpenAI-compatible servers answer with: `{"error": {"message": …}}`, or FastAPI's
/// `{"detail": …}`; the message of whichever is there.
public enum RemoteErrorBody {
    public static func message(in body: Data) -> String? {
        guard let json = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else { return nil }
        if let error = json["error"] as? [String: Any], let message = error["message"] as? String { return message }
        if let error = json["error"] as? String { return error }
        if let detail = json["detail"] as? String { return detail }
        if let detail = json["detail"] { return (try? JSONSerialization.data(withJSONObject: detail, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) } }
        return nil
    }
}

/// The end of a stream (`data: [DONE]`).
public let streamDoneMarker = "[DONE]"
