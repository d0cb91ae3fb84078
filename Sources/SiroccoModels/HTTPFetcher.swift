// HTTPFetcher: blocking HTTP GETs on URLSession that stream the body to a consumer as it arrives,
// with a timeout between chunks and cancellation polled while waiting. Failures become PullErrors.

import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization

/// Fetches URLs for a pull. One request at a time per call; safe to use from any thread.
public final class HTTPFetcher: Sendable {
    /// Seconds without a byte before a request fails (connecting included).
    public let idleTimeout: Double
    private let isCancelled: @Sendable () -> Bool

    public init(idleTimeout: Double = 30, isCancelled: @escaping @Sendable () -> Bool = { false }) {
        self.idleTimeout = idleTimeout
        self.isCancelled = isCancelled
    }

    /// GETs `url` and returns the whole body (for small documents such as index pages).
    /// `notFound` is the error a 404 becomes.
    public func fetchAll(_ url: URL, notFound: PullError) throws -> Data {
        var body = Data()
        try stream(url, notFound: notFound) { chunk in
            body.append(contentsOf: chunk)
            if body.count > 16 << 20 { throw PullError.badArchive(url: url.absoluteString, reason: "an index page over 16 MiB") }
        }
        return body
    }

    /// GETs `url` and hands each chunk of the body to `consume` as it arrives; returns the number
    /// of body bytes. A body shorter than its Content-Length is `PullError.truncated`.
    @discardableResult
    public func stream(_ url: URL, notFound: PullError, consume: @escaping (UnsafeRawBufferPointer) throws -> Void) throws -> Int64 {
        if isCancelled() { throw PullError.cancelled }
        let cancelled = isCancelled
        let request = Request(url: url, notFound: notFound) { chunk in
            if cancelled() { throw PullError.cancelled }
            try consume(chunk)
        }
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = idleTimeout
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        let session = URLSession(configuration: configuration, delegate: request, delegateQueue: queue)
        defer { session.invalidateAndCancel() }
        let task = session.dataTask(with: url)
        task.resume()
        while request.done.wait(timeout: .now() + .milliseconds(100)) == .timedOut {
            if isCancelled() {
                request.fail(PullError.cancelled)
                task.cancel()
                _ = request.done.wait(timeout: .now() + .seconds(5))
                throw PullError.cancelled
            }
        }
        if let error = request.error { throw error }
        return request.received
    }
}

/// The delegate of one request: checks the status, hands data on, records the first error.
private final class Request: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    let url: URL
    let notFound: PullError
    let consume: (UnsafeRawBufferPointer) throws -> Void
    let done = DispatchSemaphore(value: 0)
    // touched only on the session's serial delegate queue, read after `done`
    private(set) var error: Error?
    private(set) var received: Int64 = 0
    private var expected: Int64 = -1
    private let failed = Mutex<Error?>(nil)

    init(url: URL, notFound: PullError, consume: @escaping (UnsafeRawBufferPointer) throws -> Void) {
        self.url = url
        self.notFound = notFound
        self.consume = consume
    }

    func fail(_ error: Error) { failed.withLock { if $0 == nil { $0 = error } } }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        let status = (response as? HTTPURLResponse)?.statusCode ?? 200
        guard (200..<300).contains(status) else {
            fail(status == 404 ? notFound : PullError.httpStatus(url: url.absoluteString, status: status))
            completionHandler(.cancel)
            return
        }
        expected = response.expectedContentLength
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        guard failed.withLock({ $0 == nil }) else { return }
        do {
            try data.withUnsafeBytes { try consume($0) }
            received += Int64(data.count)
        } catch {
            fail(error)
            dataTask.cancel()
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        if let earlier = failed.withLock({ $0 }) {
            self.error = earlier
        } else if let error {
            self.error = received > 0 && expected > 0
                ? PullError.truncated(url: url.absoluteString, received: received, expected: expected)
                : PullError.unreachable(url: url.absoluteString, reason: Request.reason(error))
        } else if expected >= 0 && received != expected {
            self.error = PullError.truncated(url: url.absoluteString, received: received, expected: expected)
        }
        done.signal()
    }

    /// URLError codes as words.
    static func reason(_ error: Error) -> String {
        guard let e = error as? URLError else { return "\(error.localizedDescription)" }
        switch e.code {
        case .cannotConnectToHost: return "connection refused"
        case .cannotFindHost, .dnsLookupFailed: return "host not found"
        case .timedOut: return "timed out"
        case .notConnectedToInternet, .networkConnectionLost: return "no network connection"
        case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
             .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot: return "TLS failed (\(e.localizedDescription))"
        default: return e.localizedDescription
        }
    }
}
