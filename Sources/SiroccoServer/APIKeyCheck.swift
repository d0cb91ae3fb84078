// APIKeyCheck: `Authorization: Bearer KEY` against the server's key, compared in constant time
// (the time taken depends on the length of what the client sent, never on how much of the key it
// guessed right). The key is never printed, logged or echoed back.

import HTTPTypes
import Hummingbird

/// The API key requests must carry, or none.
struct APIKeyCheck: Sendable, CustomStringConvertible {
    private let key: [UInt8]?

    init(key: String?) { self.key = key.map { Array($0.utf8) } }

    var isRequired: Bool { key != nil }

    /// Throws 401 unless the request carries the key (or no key is set).
    func check(_ headers: HTTPFields) throws(APIError) {
        guard let key else { return }
        guard let value = headers[.authorization] else { throw .unauthorized }
        let scheme = "bearer "
        guard value.count > scheme.count, value.prefix(scheme.count).lowercased() == scheme else { throw .unauthorized }
        var token = value.dropFirst(scheme.count)[...]
        while token.first == " " { token = token.dropFirst() }
        while token.last == " " { token = token.dropLast() }
        let offered = Array(token.utf8)
        guard Self.constantTimeEqual(offered, key) else { throw .unauthorized }
    }

    /// Whether `a == b`, looking at every byte of `a` whatever matches.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard !b.isEmpty else { return a.isEmpty }
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count) | (a.count == b.count ? 0 : 1)
        for i in 0..<a.count { difference |= a[i] ^ b[i % b.count] }
        return difference == 0
    }

    /// Never the key itself.
    var description: String { key == nil ? "no API key" : "API key required" }
}
