// A tiny HTTP/1.1 server on 127.0.0.1 for the pull tests: fixed routes, one request per
// connection, and faults on demand (a body cut short, a status). On TestSupport's FaultServer.

import Foundation
import TestSupport

final class LoopbackServer: @unchecked Sendable {
    struct Response {
        var status = 200
        var body = Data()
        /// Bytes of the body actually sent (nil: all); the Content-Length still says the whole.
        var sendOnly: Int?
    }

    private let lock = NSLock()
    private var routes: [String: Response] = [:]
    private var server: FaultServer!

    init() throws {
        server = try FaultServer { [unowned self] request in
            lock.lock()
            let response = routes[request.path] ?? Response(status: 404, body: Data("not found".utf8))
            lock.unlock()
            let reason = response.status == 200 ? "OK" : "Error"
            let head = "HTTP/1.1 \(response.status) \(reason)\r\nContent-Length: \(response.body.count)\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n"
            return [.raw(head), .data(response.body.prefix(response.sendOnly ?? response.body.count))]
        }
    }

    var port: UInt16 { server.port }
    var baseURL: URL { URL(string: "http://127.0.0.1:\(port)/")! }

    func route(_ path: String, _ response: Response) {
        lock.lock()
        routes[path] = response
        lock.unlock()
    }

    /// Paths requested so far, in order.
    var requested: [String] { server.requests.map(\.path) }

    func stop() { server.stop() }
}
