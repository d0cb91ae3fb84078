// RemoteClient: the HTTP side of a remote backend, on async-http-client — the model list, and a
// chat completion streamed as server-sent events and decoded into chunks. Every failure comes out
// as a `RemoteError`; redirects are not followed (the API key goes to the URL given, nowhere else).

import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// Talks to one OpenAI-compatible API. Calls block the calling thread (a pane's worker, the CLI)
/// while the HTTP work runs on the client's event loops; no Swift concurrency pool is needed, so
/// they may be called from anywhere but an event loop.
public struct RemoteClient: Sendable {
    public let endpoint: RemoteEndpoint
    /// The longest error body read (its message goes into one line).
    static let maxErrorBody = 64 << 10
    /// The longest non-streamed body read (a model list, a whole answer).
    static let maxBody = 16 << 20

    public init(endpoint: RemoteEndpoint) { self.endpoint = endpoint }

    /// The ids `GET {base}/models` lists, in the server's order.
    public func models() throws -> [String] {
        let body: Data
        do {
            let response = try send(.GET, "/models", body: nil, handle: nil)
            try response.check(model: nil)
            body = try response.collect(limit: Self.maxBody)
        } catch {
            throw Self.classify(error, endpoint: endpoint)
        }
        do {
            return try JSONDecoder().decode(ModelList.self, from: body).data.map(\.id)
        } catch {
            throw RemoteError.malformed("the model list is not {\"data\": [{\"id\": …}]}")
        }
    }

    /// Streams the answer to `request` (sent with `stream: true`), handing each chunk to `onChunk`,
    /// until the server's `[DONE]`, or a finish reason and the end of the body. `handle.cancel()`
    /// from another thread ends it with `CancellationError`.
    public func streamChat(_ request: ChatCompletionRequest, handle: RemoteRequestHandle,
                           onChunk: (ChatCompletionChunk) -> Void) throws {
        var request = request
        request.stream = true
        do {
            let response = try send(.POST, "/chat/completions", body: try request.body(), handle: handle)
            try response.check(model: request.model)
            try Self.readEvents(from: response, onChunk: onChunk)
        } catch {
            throw Self.classify(error, endpoint: endpoint)
        }
    }

    /// Decodes the chunks of an event stream.
    private static func readEvents(from response: ResponseStream, onChunk: (ChatCompletionChunk) -> Void) throws {
        var parser = ServerSentEventParser()
        var sawFinish = false
        let decoder = JSONDecoder()
        do {
            while let bytes = try response.nextBodyPart() {
                let events: [ServerSentEvent]
                do { events = try parser.push(bytes) } catch { throw RemoteError.malformed("\(error)") }
                for event in events where event.type == "message" {
                    if response.handle?.isCancelled == true { throw CancellationError() }
                    let data = event.data.trimmingCharacters(in: .whitespaces)
                    if data == streamDoneMarker { return }
                    guard !data.isEmpty else { continue }
                    let chunk: ChatCompletionChunk
                    do { chunk = try decoder.decode(ChatCompletionChunk.self, from: Data(data.utf8)) } catch {
                        if let message = RemoteErrorBody.message(in: Data(data.utf8)) {
                            throw RemoteError.http(status: 200, message: message)  // an error sent inside the stream
                        }
                        throw RemoteError.malformed("a stream event is not a chat-completion chunk: \(data.prefix(80))")
                    }
                    if chunk.finishReason != nil { sawFinish = true }
                    onChunk(chunk)
                }
            }
        } catch let error as HTTPClientError where error == .remoteConnectionClosed && sawFinish {
            return  // the answer was whole; the server closed without [DONE]
        }
        parser.finish()
        if !sawFinish { throw RemoteError.closedMidAnswer }
    }

    // MARK: HTTP

    /// Sends a request and waits for the response's head.
    private func send(_ method: HTTPMethod, _ path: String, body: Data?, handle: RemoteRequestHandle?) throws -> ResponseStream {
        var headers = HTTPHeaders()
        headers.add(name: "User-Agent", value: "sirocco")
        if let key = endpoint.apiKey, !key.isEmpty { headers.add(name: "Authorization", value: "Bearer \(key)") }
        if body != nil {
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "Accept", value: "text/event-stream, application/json")
        }
        let request: HTTPClient.Request
        do {
            request = try HTTPClient.Request(url: endpoint.url(path), method: method, headers: headers,
                                             body: body.map { .byteBuffer(ByteBuffer(bytes: $0)) })
        } catch {
            throw RemoteError.invalidURL(endpoint.baseURL)
        }
        let stream = ResponseStream(handle: handle)
        let task = client.execute(request: request, delegate: stream)
        task.futureResult.whenFailure { stream.parts.close($0) }
        handle?.attach(task)
        try stream.waitForHead()
        return stream
    }

    /// One response as it arrives, read on the calling thread: its head, then its body's bytes.
    final class ResponseStream: HTTPClientResponseDelegate, @unchecked Sendable {
        typealias Response = Void
        enum Part: Sendable {
            case head(status: Int, headers: HTTPHeaders)
            case body([UInt8])
        }
        let parts = Mailbox<Part>()
        /// Cancelling it stops the reading at once, whatever parts are already here.
        let handle: RemoteRequestHandle?
        init(handle: RemoteRequestHandle?) { self.handle = handle }
        private(set) var status = 0
        private(set) var headers = HTTPHeaders()

        func didReceiveHead(task: HTTPClient.Task<Void>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
            parts.put(.head(status: Int(head.status.code), headers: head.headers))
            return task.eventLoop.makeSucceededVoidFuture()
        }

        func didReceiveBodyPart(task: HTTPClient.Task<Void>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
            parts.put(.body(Array(buffer.readableBytesView)))
            return task.eventLoop.makeSucceededVoidFuture()
        }

        func didReceiveError(task: HTTPClient.Task<Void>, _ error: Error) { parts.close(error) }
        func didFinishRequest(task: HTTPClient.Task<Void>) throws { parts.close(nil) }

        func waitForHead() throws {
            guard case let .head(status, headers) = parts.take() else {
                throw parts.error ?? RemoteError.closedMidAnswer
            }
            self.status = status
            self.headers = headers
        }

        /// The next bytes of the body; nil at its end; the connection's error if it failed.
        func nextBodyPart() throws -> [UInt8]? {
            while let part = parts.take() {
                if handle?.isCancelled == true { throw CancellationError() }
                if case let .body(bytes) = part { return bytes }
            }
            if let error = parts.error { throw error }
            return nil
        }

        /// A body's bytes, reading no more than `limit` (a larger one is `RemoteError.malformed`).
        func collect(limit: Int) throws -> Data {
            var data = Data()
            while let bytes = try nextBodyPart() {
                guard data.count + bytes.count <= limit else { throw RemoteError.malformed("a body larger than \(limit) bytes") }
                data.append(contentsOf: bytes)
            }
            return data
        }

        /// Throws the `RemoteError` of a response that is not a success, with the server's message.
        func check(model: String?) throws {
            guard !(200..<300).contains(status) else { return }
            let body = (try? collect(limit: RemoteClient.maxErrorBody)) ?? Data()
            let message = RemoteErrorBody.message(in: body)
                ?? String(decoding: body.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            switch status {
            case 401, 403: throw RemoteError.unauthorized(status: status, message: message)
            case 404 where model != nil: throw RemoteError.modelNotFound(model: model!, message: message)
            case 429, 503:
                let retryAfter = headers.first(name: "Retry-After").flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
                if status == 503 && retryAfter == nil { throw RemoteError.http(status: status, message: message) }
                throw RemoteError.rateLimited(status: status, message: message, retryAfter: retryAfter)
            default: throw RemoteError.http(status: status, message: message)
            }
        }
    }

    // MARK: errors

    /// The `RemoteError` a thrown error is (cancellation stays `CancellationError`).
    static func classify(_ error: Error, endpoint: RemoteEndpoint) -> Error {
        if error is RemoteError || error is CancellationError { return error }
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout: return RemoteError.connectTimeout(host: endpoint.host, seconds: endpoint.connectTimeout)
            case .readTimeout: return RemoteError.stalled(seconds: endpoint.idleTimeout)
            case .remoteConnectionClosed: return RemoteError.closedMidAnswer
            case .cancelled: return CancellationError()
            default: return RemoteError.transport("\(error)")
            }
        }
        if let error = error as? HTTPParserError, error == .invalidEOFState { return RemoteError.closedMidAnswer }
        if let error = error as? NIOConnectionError {
            if error.connectionErrors.isEmpty && (error.dnsAError != nil || error.dnsAAAAError != nil) {
                return RemoteError.hostNotFound(host: endpoint.host)
            }
            if error.connectionErrors.contains(where: { ($0.error as? IOError)?.errnoCode == ECONNREFUSED }) {
                return RemoteError.connectionRefused(host: endpoint.host)
            }
            return RemoteError.transport("\(error.connectionErrors.first.map { "\($0.error)" } ?? "\(error)")")
        }
        if let error = error as? IOError {
            if error.errnoCode == ECONNREFUSED { return RemoteError.connectionRefused(host: endpoint.host) }
            if error.errnoCode == ECONNRESET || error.errnoCode == EPIPE { return RemoteError.closedMidAnswer }
        }
        return RemoteError.transport("\(error)")
    }

    // MARK: the HTTP client

    /// One `HTTPClient` per pair of timeouts, for the life of the process (a client owns a
    /// connection pool; the timeouts are its configuration, not a request's).
    private var client: HTTPClient { RemoteClient.client(connect: endpoint.connectTimeout, idle: endpoint.idleTimeout) }

    private static let clients = Mutex<[String: HTTPClient]>([:])

    private static func client(connect: Double, idle: Double) -> HTTPClient {
        clients.withLock { clients in
            let key = "\(connect)/\(idle)"
            if let client = clients[key] { return client }
            var configuration = HTTPClient.Configuration()
            configuration.redirectConfiguration = .disallow
            configuration.timeout = .init(connect: .milliseconds(Int64(connect * 1000)), read: .milliseconds(Int64(idle * 1000)))
            configuration.decompression = .disabled
            // a refused connection fails the request at once: retried, it would fail only when the
            // connect timeout ends (10 s for a server that is simply not running)
            configuration.connectionPool.retryConnectionEstablishment = false
            let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
            clients[key] = client
            return client
        }
    }
}

/// The request a session has in flight, cancellable from any thread; a cancel that comes before
/// the request is sent cancels it as soon as it is.
public final class RemoteRequestHandle: @unchecked Sendable {
    private let lock = NSLock()
    private var task: HTTPClient.Task<Void>?
    private var cancelled = false

    public init() {}

    func attach(_ task: HTTPClient.Task<Void>) {
        lock.lock()
        self.task = task
        let cancel = cancelled
        lock.unlock()
        if cancel { task.cancel() }
    }

    public func cancel() {
        lock.lock()
        cancelled = true
        let task = self.task
        lock.unlock()
        task?.cancel()
    }

    public var isCancelled: Bool {
        lock.lock()
        defer { lock.unlock() }
        return cancelled
    }
}
