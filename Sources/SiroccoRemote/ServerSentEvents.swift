// ServerSentEvents: the text/event-stream format OpenAI-compatible servers stream answers in, parsed
// incrementally from whatever byte chunks the connection delivers (WHATWG HTML §9.2.6). Pure: it
// reads no socket. A hostile server cannot make it hold more than `maxEventBytes`.

/// One dispatched event: its type ("message" unless an `event:` line named one) and its data lines
/// joined by newlines.
public struct ServerSentEvent: Equatable, Sendable {
    public var type: String
    public var data: String
    public var id: String?

    public init(type: String = "message", data: String, id: String? = nil) {
        self.type = type
        self.data = data
        self.id = id
    }
}

/// A stream that is not server-sent events as the format allows.
public enum ServerSentEventError: Error, Equatable, CustomStringConvertible {
    /// One event (or a line) grew past the limit without ending.
    case eventTooLarge(limit: Int)

    public var description: String {
        switch self {
        case let .eventTooLarge(limit): return "the server sent an event larger than \(limit / 1024) KiB"
        }
    }
}

/// Turns byte chunks into events; an event is dispatched by the blank line that ends it.
public struct ServerSentEventParser: Sendable {
    public let maxEventBytes: Int
    private var line: [UInt8] = []
    /// The previous chunk ended in CR: an LF starting the next one belongs to it.
    private var afterCR = false
    private var type = ""
    private var data: [UInt8] = []
    private var hasData = false
    private var lastID: String?

    public init(maxEventBytes: Int = 8 << 20) { self.maxEventBytes = maxEventBytes }

    /// The events completed by `bytes`, in order.
    public mutating func push(_ bytes: some Sequence<UInt8>) throws(ServerSentEventError) -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        for byte in bytes {
            if afterCR {
                afterCR = false
                if byte == 0x0A { continue }
            }
            switch byte {
            case 0x0A, 0x0D:
                afterCR = byte == 0x0D
                if let event = takeLine() { events.append(event) }
            default:
                line.append(byte)
                if line.count + data.count > maxEventBytes { throw .eventTooLarge(limit: maxEventBytes) }
            }
        }
        return events
    }

    /// At the end of the stream: an event not ended by a blank line is dropped, as the format says.
    public mutating func finish() {
        line = []
        data = []
        hasData = false
        type = ""
    }

    /// Handles the line just ended; an event when it was the blank line ending one.
    private mutating func takeLine() -> ServerSentEvent? {
        defer { line.removeAll(keepingCapacity: true) }
        if line.isEmpty {
            defer { data.removeAll(keepingCapacity: true); hasData = false; type = "" }
            guard hasData else { return nil }
            return ServerSentEvent(type: type.isEmpty ? "message" : type, data: String(decoding: data, as: UTF8.self), id: lastID)
        }
        if line.first == UInt8(ascii: ":") { return nil }  // a comment (keep-alive)
        let colon = line.firstIndex(of: UInt8(ascii: ":"))
        let field = String(decoding: line[..<(colon ?? line.endIndex)], as: UTF8.self)
        var value = colon.map { line[line.index(after: $0)...] } ?? []
        if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
        switch field {
        case "data":
            if hasData { data.append(0x0A) }
            data += value
            hasData = true
        case "event":
            type = String(decoding: value, as: UTF8.self)
        case "id" where !value.contains(0):
            lastID = String(decoding: value, as: UTF8.self)
        default:
            break  // "retry" and unknown fields: the client reconnects on its own terms
        }
        return nil
    }
}
