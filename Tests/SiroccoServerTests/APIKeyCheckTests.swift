// The API key: required on every route when set, compared whole, never echoed.

import Foundation
@testable import SiroccoServer
import Testing

@Suite(.serialized) struct APIKeyCheckTests {
    @Test(arguments: [
        ("secret", "secret", true), ("secret", "secreT", false), ("secret", "secret2", false), ("secret", "secre", false),
        ("secret", "", false), ("s", "ss", false), ("abc", "abcabc", false),
    ])
    func constantTimeEqual(key: String, offered: String, equal: Bool) {
        #expect(APIKeyCheck.constantTimeEqual(Array(offered.utf8), Array(key.utf8)) == equal)
    }

    @Test func everyRouteNeedsTheKey() async throws {
        var options = ServerOptions()
        options.apiKey = "test-key-123"
        try await withServer(options) { server in
            for (method, path) in [("GET", "/v1/models"), ("POST", "/v1/completions"), ("GET", "/nowhere")] {
                for headers in [[:], ["Authorization": "Bearer wrong-key"], ["Authorization": "test-key-123"],
                                ["Authorization": "Basic test-key-123"]] {
                    let reply = try await server.request(method, path, body: method == "POST" ? Data("{}".utf8) : nil, headers: headers)
                    #expect(reply.status == 401, "\(method) \(path) \(headers)")
                    #expect(try reply.errorCode().code == "invalid_api_key")
                    #expect(!reply.text.contains("test-key-123"))
                    #expect(reply.headers["www-authenticate"] == "Bearer")
                }
            }
            let ok = try await server.request("GET", "/v1/models", headers: ["Authorization": "Bearer test-key-123"])
            #expect(ok.status == 200)
            let lower = try await server.request("POST", "/v1/completions", json: ["prompt": "Hi", "max_tokens": 1],
                                                 headers: ["Authorization": "bearer test-key-123"])
            #expect(lower.status == 200)
        }
    }

    @Test(arguments: [("127.0.0.1", true), ("127.1.2.3", true), ("localhost", true), ("::1", true), ("0:0::1", true),
                      ("0.0.0.0", false), ("192.168.1.2", false), ("::", false), ("example.com", false), ("::2", false)])
    func loopbackHosts(host: String, loopback: Bool) {
        #expect(InferenceServer.isLoopback(host) == loopback)
    }
}
