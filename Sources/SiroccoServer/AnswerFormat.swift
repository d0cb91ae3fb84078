// AnswerFormat: how a generation's events become a chat or a text completion — whole, or as the
// server-sent events of a stream (role first, text deltas, finish reason, optional usage, [DONE]).

import Foundation
import HTTPTypes
import Hummingbird
import SiroccoEngine

/// The two answer shapes: `chat.completion(.chunk)` and `text_completion`.
enum AnswerFormat: Sendable {
    case chat, text

    var idPrefix: String { self == .chat ? "chatcmpl" : "cmpl" }

    /// The stream's first event (the assistant's role), if the format has one.
    func startEvent(_ header: CompletionHeader) -> ByteBuffer? {
        guard self == .chat else { return nil }
        return JSONResponse.event(ChatCompletionChunkBody(header: header, delta: .init(role: "assistant", content: "")))
    }

    func textEvent(_ header: CompletionHeader, _ piece: String) -> ByteBuffer {
        switch self {
        case .chat: return JSONResponse.event(ChatCompletionChunkBody(header: header, delta: .init(content: piece)))
        case .text: return JSONResponse.event(TextCompletionBody(header: header, text: piece))
        }
    }

    func finishEvent(_ header: CompletionHeader, _ reason: String) -> ByteBuffer {
        switch self {
        case .chat: return JSONResponse.event(ChatCompletionChunkBody(header: header, delta: .init(), finishReason: reason))
        case .text: return JSONResponse.event(TextCompletionBody(header: header, text: "", finishReason: reason))
        }
    }

    func usageEvent(_ header: CompletionHeader, _ usage: UsageBody) -> ByteBuffer {
        switch self {
        case .chat: return JSONResponse.event(ChatCompletionChunkBody(header: header, usage: usage))
        case .text: return JSONResponse.event(TextCompletionBody(header: header, text: "", usage: usage, usageOnly: true))
        }
    }

    /// A whole answer (`stream: false`).
    func whole(_ header: CompletionHeader, text: String, reason: String, usage: UsageBody,
               headers: [HTTPField.Name: String]) -> Response {
        switch self {
        case .chat:
            let body = ChatCompletionBody(header: header, choices: [.init(message: .assistant(text), finishReason: reason)], usage: usage)
            return JSONResponse.make(body, headers: headers)
        case .text:
            return JSONResponse.make(TextCompletionBody(header: header, text: text, finishReason: reason, usage: usage), headers: headers)
        }
    }
}

/// Where a request waited, as response headers (whole answers) or a stream comment, for clients
/// and tests that watch the queue: `x-sirocco-queue-wait-ms`, `x-sirocco-arrival`, `x-sirocco-start`.
extension QueueTiming {
    static let waitHeader = HTTPField.Name("x-sirocco-queue-wait-ms")!
    static let arrivalHeader = HTTPField.Name("x-sirocco-arrival")!
    static let startHeader = HTTPField.Name("x-sirocco-start")!

    var waitMilliseconds: Int { Int((waitSeconds * 1000).rounded()) }

    var headers: [HTTPField.Name: String] {
        [Self.waitHeader: "\(waitMilliseconds)", Self.arrivalHeader: "\(arrival)", Self.startHeader: "\(start)"]
    }

    /// An SSE comment clients ignore: `: queue arrival=3 start=3 wait_ms=120`.
    var comment: ByteBuffer { ByteBuffer(string: ": queue arrival=\(arrival) start=\(start) wait_ms=\(waitMilliseconds)\n\n") }
}
