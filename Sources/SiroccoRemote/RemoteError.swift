// RemoteError: every way a remote answer can fail, each as one line a person can act on.

import SiroccoEngine

public enum RemoteError: Error, Equatable, CustomStringConvertible {
    case invalidURL(String)
    case connectionRefused(host: String)
    case hostNotFound(host: String)
    case connectTimeout(host: String, seconds: Double)
    /// The server sent nothing for `seconds` (before the answer or in the middle of it).
    case stalled(seconds: Double)
    /// 401 or 403.
    case unauthorized(status: Int, message: String?)
    case modelNotFound(model: String, message: String?)
    /// 429, or 503 with a Retry-After: the server refused the request for now; `retryAfter`: the
    /// seconds it asked to wait, when it said.
    case rateLimited(status: Int, message: String?, retryAfter: Int?)
    /// Any other status that is not a success.
    case http(status: Int, message: String?)
    /// A stream or body that is not the API's JSON.
    case malformed(String)
    /// The connection ended before the answer did.
    case closedMidAnswer
    case noModels
    /// Anything else the connection reported.
    case transport(String)

    public var description: String {
        switch self {
        case let .invalidURL(url):
            return "'\(TerminalText.escaped(url))' is not an API base URL (like http://127.0.0.1:8080/v1)"
        case let .connectionRefused(host):
            return "cannot connect to \(host): connection refused (is the server running?)"
        case let .hostNotFound(host):
            return "cannot find the host \(host) (DNS lookup failed)"
        case let .connectTimeout(host, seconds):
            return "\(host) did not accept a connection within \(Self.seconds(seconds))"
        case let .stalled(seconds):
            return "the server sent nothing for \(Self.seconds(seconds)); gave up waiting"
        case let .unauthorized(status, message):
            return "the server refused the request (\(status)\(Self.detail(message))): check the API key (the environment variable --api-key-env names)"
        case let .modelNotFound(model, message):
            return "the server has no model '\(TerminalText.escaped(model))' (404\(Self.detail(message)))"
        case let .rateLimited(status, message, retryAfter):
            return "the server is busy or rate-limiting (\(status)\(Self.detail(message)))"
                + (retryAfter.map { ": try again in \($0) s" } ?? "")
        case let .http(status, message):
            return "the server answered \(status)\(Self.detail(message))"
        case let .malformed(detail):
            return "the server's answer is not the API's format: \(TerminalText.escaped(detail))"
        case .closedMidAnswer:
            return "the server closed the connection before the answer ended"
        case .noModels:
            return "the server lists no models; name one with --remote-model"
        case let .transport(detail):
            return "connection failed: \(TerminalText.escaped(detail))"
        }
    }

    private static func detail(_ message: String?) -> String {
        guard let message, !message.isEmpty else { return "" }
        let line = message.split(whereSeparator: \.isNewline).first.map(String.init) ?? message
        return ": " + TerminalText.escaped(String(line.prefix(300)))
    }

    private static func seconds(_ s: Double) -> String {
        s == s.rounded() ? "\(Int(s)) s" : String(format: "%.1f s", s)
    }
}
