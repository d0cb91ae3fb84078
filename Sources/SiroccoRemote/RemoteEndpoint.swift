// RemoteEndpoint: where an OpenAI-compatible API is — its base URL, the API key that goes with it
// (never printed or saved) and how long to wait for it.

import Foundation
import SiroccoEngine

/// The base URL of an OpenAI-compatible API (`http://host:8080/v1`), checked, and how to reach it.
public struct RemoteEndpoint: Sendable, Equatable, CustomStringConvertible {
    /// Without a trailing slash; a URL given without a path gets `/v1`, where every such server
    /// (llama-server, vLLM, Ollama, LM Studio) has its API.
    public let baseURL: String
    /// host:port, for messages.
    public let host: String
    /// Sent as `Authorization: Bearer …`; kept out of `description`.
    public var apiKey: String?
    /// Seconds to wait for the server to accept a connection.
    public var connectTimeout: Double
    /// Seconds the server may stay silent: before the answer starts (it may be reading a long
    /// prompt) and between two pieces of it.
    public var idleTimeout: Double

    /// Checks `url`: http or https, a host, no query or credentials in it.
    public init(url: String, apiKey: String? = nil, connectTimeout: Double = 10, idleTimeout: Double = 120) throws {
        guard BackendLocation.isRemote(url), let parsed = URLComponents(string: url),
              let host = parsed.host, !host.isEmpty else {
            throw RemoteError.invalidURL(url)
        }
        guard parsed.user == nil, parsed.password == nil, parsed.query == nil, parsed.fragment == nil else {
            throw RemoteError.invalidURL(url)
        }
        var base = url
        while base.hasSuffix("/") { base.removeLast() }
        if parsed.path.isEmpty || parsed.path == "/" { base += "/v1" }
        baseURL = base
        self.host = parsed.port.map { "\(host):\($0)" } ?? host
        self.apiKey = apiKey
        self.connectTimeout = connectTimeout
        self.idleTimeout = idleTimeout
    }

    /// The URL of `path` (`/models`) under the base.
    public func url(_ path: String) -> String { baseURL + path }

    public var description: String { baseURL + (apiKey == nil ? "" : " (with an API key)") }
}
