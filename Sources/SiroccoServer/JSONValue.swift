// JSONValue: a request body as JSON values with their types kept — a number is never read as a
// boolean, nor a string as a number — so a wrong type can be named in the error.

import Foundation

/// Any JSON value.
indirect enum JSONValue: Decodable, Equatable, Sendable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int64.self) { self = .integer(i) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    /// The body's JSON object, or a 400 saying what is wrong with it. Nesting deeper than
    /// `maxDepth` is refused before decoding (a hostile body must not exhaust the stack).
    static func object(from data: Data, maxDepth: Int = 64) throws(APIError) -> [String: JSONValue] {
        guard nestingDepth(of: data) <= maxDepth else {
            throw .badRequest("The request body nests JSON deeper than \(maxDepth) levels", code: "invalid_json")
        }
        let value: JSONValue
        do { value = try JSONDecoder().decode(JSONValue.self, from: data) } catch {
            throw .badRequest("The request body is not valid JSON", code: "invalid_json")
        }
        guard case let .object(fields) = value else {
            throw .badRequest("The request body must be a JSON object, got \(value.typeName)", code: "invalid_json")
        }
        return fields
    }

    /// How deeply arrays and objects nest in `data` (brackets inside strings not counted).
    static func nestingDepth(of data: Data) -> Int {
        var depth = 0, deepest = 0
        var inString = false, escaped = false
        for byte in data {
            if inString {
                if escaped { escaped = false }
                else if byte == UInt8(ascii: "\\") { escaped = true }
                else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                deepest = max(deepest, depth)
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            default: break
            }
        }
        return deepest
    }

    /// "a string", "an array", … for error messages.
    var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .integer: return "an integer"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}
