// FaultServer: an HTTP/1.1 server on 127.0.0.1 that answers each request with a script of raw
// steps — bytes, chunks of a chunked body, pauses, an abrupt close, a hang — so that tests can
// play every way a remote API fails. A connection per thread; `stop` ends the hangs.

import Foundation

public final class FaultServer: @unchecked Sendable {
    public struct Request: Sendable {
        public var method: String
        public var path: String
        /// Header names in lower case.
        public var headers: [String: String]
        public var body: Data

        public var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] }
    }

    public enum Step: Sendable {
        /// Bytes as they are.
        case raw(String)
        case data(Data)
        /// One chunk of a chunked body.
        case chunk(String)
        /// The last chunk of a chunked body.
        case endChunks
        case pause(seconds: Double)
        /// Closes the connection at once (whatever the response said it would send).
        case close
        /// Sends nothing more until the server stops.
        case hang
    }

    public private(set) var port: UInt16 = 0
    private var listener: Int32 = -1
    private let lock = NSLock()
    private var recorded: [Request] = []
    private var clients: Set<Int32> = []
    private let stopped = DispatchSemaphore(value: 0)
    private let handler: @Sendable (Request) -> [Step]

    public init(_ handler: @escaping @Sendable (Request) -> [Step]) throws {
        self.handler = handler
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw FaultServerError("socket failed") }
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 32) == 0 else { throw FaultServerError("bind/listen failed") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = getsockname(listener, $0, &length) }
        }
        port = UInt16(bigEndian: address.sin_port)
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    deinit { stop() }

    /// The API base this server plays.
    public var baseURL: String { "http://127.0.0.1:\(port)/v1" }

    /// Requests received so far, in order.
    public var requests: [Request] {
        lock.lock()
        defer { lock.unlock() }
        return recorded
    }

    public func stop() {
        lock.lock()
        let fd = listener
        listener = -1
        let open = clients
        lock.unlock()
        guard fd >= 0 else { return }
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
        for client in open { shutdown(client, Int32(SHUT_RDWR)) }
        for _ in 0..<64 { stopped.signal() }  // wakes the hangs
    }

    // MARK: scripts

    /// A whole JSON response.
    public static func json(_ status: Int, _ body: String, headers: [String: String] = [:]) -> [Step] {
        var head = "HTTP/1.1 \(status) \(reason(status))\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        return [.raw(head + "Connection: close\r\n\r\n" + body)]
    }

    /// The head of a chunked event stream.
    public static let streamHead = Step.raw("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")

    /// A chat-completion chunk's data with `content` (and `finish`), as llama-server writes it.
    public static func chunkData(_ content: String?, finish: String? = nil, reasoning: String? = nil) -> String {
        var delta: [String: Any] = [:]
        if let content { delta["content"] = content }
        if let reasoning { delta["reasoning_content"] = reasoning }
        let choice: [String: Any] = ["index": 0, "delta": delta, "finish_reason": finish as Any? ?? NSNull()]
        let object: [String: Any] = ["object": "chat.completion.chunk", "choices": [choice]]
        return String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    /// An event stream of `pieces`, then a chunk that finishes, usage and `[DONE]`, each event
    /// after `pause` seconds.
    public static func answer(_ pieces: [String], pause: Double = 0, finish: String = "stop") -> [Step] {
        var steps: [Step] = [streamHead]
        for piece in pieces {
            if pause > 0 { steps.append(.pause(seconds: pause)) }
            steps.append(.chunk("data: \(chunkData(piece))\n\n"))
        }
        steps.append(.chunk("data: \(chunkData(nil, finish: finish))\n\n"))
        steps.append(.chunk(#"data: {"choices":[],"usage":{"prompt_tokens":11,"completion_tokens":\#(pieces.count),"total_tokens":\#(11 + pieces.count)}}"# + "\n\n"))
        steps.append(.chunk("data: [DONE]\n\n"))
        steps.append(.endChunks)
        return steps
    }

    /// A model list of `ids`.
    public static func models(_ ids: [String]) -> [Step] {
        json(200, #"{"object":"list","data":["# + ids.map { #"{"id":"\#($0)","object":"model"}"# }.joined(separator: ",") + "]}")
    }

    private static func reason(_ status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 429: return "Too Many Requests"
        case 500: return "Internal Server Error"
        case 503: return "Service Unavailable"
        default: return "Status"
        }
    }

    // MARK: serving

    private func acceptLoop() {
        while true {
            lock.lock()
            let fd = listener
            lock.unlock()
            guard fd >= 0 else { return }
            let client = accept(fd, nil, nil)
            guard client >= 0 else { return }
            lock.lock()
            clients.insert(client)
            lock.unlock()
            let thread = Thread { [self] in
                serve(client)
                lock.lock()
                clients.remove(client)
                lock.unlock()
                close(client)
            }
            thread.start()
        }
    }

    private func serve(_ client: Int32) {
        guard let request = readRequest(client) else { return }
        lock.lock()
        recorded.append(request)
        lock.unlock()
        for step in handler(request) {
            switch step {
            case let .raw(text): send(client, Array(text.utf8))
            case let .data(data): send(client, Array(data))
            case let .chunk(text):
                send(client, Array((String(text.utf8.count, radix: 16) + "\r\n" + text + "\r\n").utf8))
            case .endChunks: send(client, Array("0\r\n\r\n".utf8))
            case let .pause(seconds): Thread.sleep(forTimeInterval: seconds)
            case .close:
                shutdown(client, Int32(SHUT_RDWR))
                return
            case .hang:
                stopped.wait()
                return
            }
        }
    }

    private func readRequest(_ client: Int32) -> Request? {
        var bytes = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        var headerEnd: Int?
        while headerEnd == nil {
            let n = read(client, &buffer, buffer.count)
            guard n > 0 else { return nil }
            bytes += buffer[..<n]
            if let range = bytes.firstRange(of: [13, 10, 13, 10]) { headerEnd = range.upperBound }
            if bytes.count > 1 << 20 { return nil }
        }
        let head = String(decoding: bytes[..<headerEnd!], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let first = lines.removeFirst().split(separator: " ")
        guard first.count >= 2 else { return nil }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        var body = Array(bytes[headerEnd!...])
        while body.count < length {
            let n = read(client, &buffer, buffer.count)
            guard n > 0 else { return nil }
            body += buffer[..<n]
        }
        return Request(method: String(first[0]), path: String(first[1]), headers: headers, body: Data(body))
    }

    private func send(_ client: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { return }
            offset += n
        }
    }
}

public struct FaultServerError: Error, CustomStringConvertible {
    public let description: String
    init(_ d: String) { description = d }
}

/// A listening socket that never accepts, its queue already full: a new connection to it is
/// neither accepted nor refused (the kernel drops its SYNs), as with a server too busy to answer.
public final class FullListener {
    public private(set) var port: UInt16 = 0
    private var descriptors: [Int32] = []

    public init() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        descriptors.append(listener)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let size = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, size) } }
        guard bound == 0, listen(listener, 0) == 0 else { throw FaultServerError("bind/listen failed") }
        var length = size
        withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = getsockname(listener, $0, &length) } }
        port = UInt16(bigEndian: address.sin_port)
        // fill the accept queue (a backlog of 0 holds one connection, and one more completes)
        for _ in 0..<2 {
            let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            descriptors.append(client)
            _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, size) } }
        }
        Thread.sleep(forTimeInterval: 0.1)
    }

    deinit { for fd in descriptors { close(fd) } }
}
