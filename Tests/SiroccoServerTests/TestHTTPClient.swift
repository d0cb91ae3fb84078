// A small HTTP/1.1 client on blocking sockets for the server tests: any bytes on the wire (bad
// JSON, oversized bodies, wrong methods), responses read whole or event by event, and a
// connection dropped mid-stream. Calls block a Dispatch thread, never the cooperative pool the
// in-process server answers on.

import Foundation
import SiroccoRemote

struct HTTPReply: Sendable {
    var status: Int
    /// Header names lowercased.
    var headers: [String: String]
    var body: Data

    var text: String { String(decoding: body, as: UTF8.self) }

    func json() throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: body) as? [String: Any] else { throw TestHTTPError("not a JSON object: \(text)") }
        return object
    }

    /// `error.code` and `error.message` of an OpenAI error body.
    func errorCode() throws -> (code: String?, message: String) {
        let error = try json()["error"] as? [String: Any]
        return (error?["code"] as? String, error?["message"] as? String ?? "")
    }
}

struct TestHTTPError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

/// One connection to 127.0.0.1:port.
final class HTTPConnection: @unchecked Sendable {
    private var fd: Int32
    private var buffer: [UInt8] = []

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestHTTPError("socket failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close()
            throw TestHTTPError("cannot connect to port \(port): \(String(cString: strerror(errno)))")
        }
    }

    deinit { close() }

    func close() {
        if fd >= 0 { _ = Glibc.close(fd) }
        fd = -1
    }

    /// Sends `data`; false when the server closed the connection first.
    @discardableResult
    func send(_ data: Data) -> Bool {
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if n <= 0 { return false }
                offset += n
            }
            return true
        }
    }

    /// Sends a request; `Connection: close` unless `headers` say otherwise.
    @discardableResult
    func send(method: String, path: String, headers: [String: String] = [:], body: Data? = nil) -> Bool {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        var all = headers
        if let body, all["Content-Length"] == nil, all["Transfer-Encoding"] == nil { all["Content-Length"] = "\(body.count)" }
        if all["Connection"] == nil { all["Connection"] = "close" }
        for (k, v) in all.sorted(by: { $0.key < $1.key }) { head += "\(k): \(v)\r\n" }
        head += "\r\n"
        return send(Data(head.utf8) + (body ?? Data()))
    }

    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = recv(fd, &chunk, chunk.count, 0)
        if n < 0 { throw TestHTTPError("recv failed: \(String(cString: strerror(errno)))") }
        if n == 0 { return false }
        buffer.append(contentsOf: chunk[0..<n])
        return true
    }

    private func readLine() throws -> String {
        while true {
            if let i = buffer.firstIndex(of: 0x0A) {
                let line = String(decoding: buffer[..<i], as: UTF8.self)
                buffer.removeFirst(i + 1)
                return line.hasSuffix("\r") ? String(line.dropLast()) : line
            }
            guard try fill() else { throw TestHTTPError("connection closed in a line") }
        }
    }

    private func read(count: Int) throws -> [UInt8] {
        while buffer.count < count { guard try fill() else { throw TestHTTPError("connection closed in a body") } }
        defer { buffer.removeFirst(count) }
        return Array(buffer[..<count])
    }

    /// The status line and headers.
    func readHead() throws -> (status: Int, headers: [String: String]) {
        let statusLine = try readLine()
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { throw TestHTTPError("bad status line: \(statusLine)") }
        var headers: [String: String] = [:]
        while true {
            let line = try readLine()
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return (status, headers)
    }

    /// The next piece of a body: a chunk (chunked), the rest (Content-Length), or what arrives
    /// until the server closes. nil at the end.
    func readBodyPiece(headers: [String: String], remaining: inout Int?) throws -> [UInt8]? {
        if headers["transfer-encoding"]?.lowercased() == "chunked" {
            let sizeLine = try readLine()
            guard let size = Int(sizeLine.split(separator: ";")[0], radix: 16) else { throw TestHTTPError("bad chunk size \(sizeLine)") }
            if size == 0 {
                while try !readLine().isEmpty {}
                return nil
            }
            let data = try read(count: size)
            _ = try readLine()
            return data
        }
        if let length = headers["content-length"].flatMap(Int.init) {
            let left = remaining ?? length
            if left == 0 { return nil }
            remaining = 0
            return try read(count: left)
        }
        if buffer.isEmpty, try !fill() { return nil }
        defer { buffer.removeAll() }
        return buffer
    }

    /// A whole response.
    func readReply() throws -> HTTPReply {
        let (status, headers) = try readHead()
        var body: [UInt8] = []
        var remaining: Int?
        while let piece = try readBodyPiece(headers: headers, remaining: &remaining) { body += piece }
        return HTTPReply(status: status, headers: headers, body: Data(body))
    }
}

/// A stream of server-sent events read as they come.
final class EventStream: @unchecked Sendable {
    let connection: HTTPConnection
    let status: Int
    let headers: [String: String]
    private var parser = ServerSentEventParser()
    private var pending: [ServerSentEvent] = []
    private var remaining: Int?

    init(connection: HTTPConnection) throws {
        self.connection = connection
        (status, headers) = try connection.readHead()
    }

    /// The next event's data, nil at the end of the body.
    func next() throws -> String? {
        while pending.isEmpty {
            guard let piece = try connection.readBodyPiece(headers: headers, remaining: &remaining) else { return nil }
            pending += try parser.push(piece)
        }
        return pending.removeFirst().data
    }

    /// Every remaining event's data.
    func rest() throws -> [String] {
        var all: [String] = []
        while let data = try next() { all.append(data) }
        return all
    }
}

/// Runs blocking client work on a Dispatch thread.
func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
    }
}

/// One request on a new connection, answered whole.
func request(_ port: Int, _ method: String, _ path: String, json: Any? = nil, body: Data? = nil,
             headers: [String: String] = [:]) async throws -> HTTPReply {
    let data = try json.map { try JSONSerialization.data(withJSONObject: $0) } ?? body
    var headers = headers
    if data != nil, headers["Content-Type"] == nil { headers["Content-Type"] = "application/json" }
    let sendHeaders = headers
    return try await blocking {
        let connection = try HTTPConnection(port: port)
        connection.send(method: method, path: path, headers: sendHeaders, body: data)
        return try connection.readReply()
    }
}
