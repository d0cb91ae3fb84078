// APIError: every failure a client can meet, answered in OpenAI's error shape
// (`{"error": {"message", "type", "param", "code"}}`) with its HTTP status. Never a stack trace,
// never a request's secrets.

import Foundation
import HTTPTypes
import Hummingbird

/// A failed request: the status, and the body OpenAI clients read (`openai.NotFoundError`, …).
struct APIError: Error, CustomStringConvertible, Equatable, Sendable {
    var status: HTTPResponse.Status
    var message: String
    var type = "invalid_request_error"
    var code: String?
    var param: String?
    /// Extra response headers (`Retry-After`, `Allow`, `WWW-Authenticate`).
    var headers: [HTTPField.Name: String] = [:]

    var description: String { message }

    /// A request field with the wrong type or value (400).
    static func invalid(_ param: String, _ message: String) -> APIError {
        APIError(status: .badRequest, message: message, code: "invalid_value", param: param)
    }

    /// A malformed or unusable request that no single field explains (400).
    static func badRequest(_ message: String, code: String = "invalid_request") -> APIError {
        APIError(status: .badRequest, message: message, code: code)
    }

    static func modelNotFound(_ id: String, served: [String]) -> APIError {
        APIError(status: .notFound,
                 message: "The model '\(id)' does not exist on this server (models: \(served.joined(separator: ", ")))",
                 code: "model_not_found", param: "model")
    }

    static func routeNotFound(_ method: HTTPRequest.Method, _ path: String) -> APIError {
        APIError(status: .notFound, message: "Unknown endpoint: \(method) \(path)", code: "not_found")
    }

    static func methodNotAllowed(_ method: HTTPRequest.Method, _ path: String, allowed: [HTTPRequest.Method]) -> APIError {
        let names = allowed.map(\.rawValue).joined(separator: ", ")
        return APIError(status: .methodNotAllowed, message: "\(path) does not accept \(method) (use \(names))",
                        code: "method_not_allowed", headers: [.allow: names])
    }

    static func bodyTooLarge(limit: Int) -> APIError {
        APIError(status: .contentTooLarge, message: "The request body is larger than \(limit) bytes", code: "request_too_large")
    }

    static var unauthorized: APIError {
        APIError(status: .unauthorized,
                 message: "Missing or incorrect API key: send the header Authorization: Bearer KEY",
                 code: "invalid_api_key", headers: [.wwwAuthenticate: "Bearer"])
    }

    static func queueFull(model: String, limit: Int, retryAfter: Int) -> APIError {
        APIError(status: .serviceUnavailable,
                 message: "The model '\(model)' has \(limit) requests waiting already; try again shortly",
                 type: "server_error", code: "queue_full", headers: [.retryAfter: "\(retryAfter)"])
    }

    static var shuttingDown: APIError {
        APIError(status: .serviceUnavailable, message: "The server is shutting down", type: "server_error", code: "shutting_down")
    }

    /// A failure inside the engine while answering (500).
    static func generationFailed(_ message: String) -> APIError {
        APIError(status: .internalServerError, message: "Generation failed: \(message)", type: "server_error", code: "generation_failed")
    }

    /// The error object alone (also the `error` of a stream's last event).
    var body: ErrorBody {
        ErrorBody(error: .init(message: message, type: type, param: param, code: code))
    }

    /// The JSON response.
    var response: Response {
        var response = JSONResponse.make(body, status: status)
        for (name, value) in headers { response.headers[name] = value }
        return response
    }
}

/// `{"error": {...}}`, as OpenAI sends it.
struct ErrorBody: Encodable {
    struct Detail: Encodable {
        var message: String
        var type: String
        var param: String?
        var code: String?

        // param and code are written as null when absent, as OpenAI does
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(message, forKey: .message)
            try c.encode(type, forKey: .type)
            try c.encode(param, forKey: .param)
            try c.encode(code, forKey: .code)
        }
        enum CodingKeys: String, CodingKey { case message, type, param, code }
    }
    var error: Detail
}
