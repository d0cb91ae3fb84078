// JinjaJSON: JSON in and out of template values.
// Out: the `tojson` filter exactly as Hugging Face transformers defines it for chat templates —
// Python's `json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)`,
// with no HTML escaping (transformers replaces jinja2's own HTML-escaping, key-sorting tojson).
// In: an order-preserving parser, so tool schemas and arguments keep their key order.

/// Options of Python's `json.dumps` that `tojson` exposes.
struct JinjaJSONOptions {
    var ensureASCII = false
    /// `nil` for one line; otherwise the indentation unit (`indent=4` is four spaces).
    var indent: String? = nil
    var itemSeparator: String? = nil
    var keySeparator: String? = nil
    var sortKeys = false
}

extension JinjaValue {
    /// `json.dumps(self, …)`; nil for a value JSON cannot hold (undefined), where Python raises.
    func pythonJSON(_ options: JinjaJSONOptions = JinjaJSONOptions()) -> String? {
        var out = ""
        let itemSeparator = options.itemSeparator ?? (options.indent == nil ? ", " : ",")
        let keySeparator = options.keySeparator ?? ": "
        guard writeJSON(into: &out, options, itemSeparator, keySeparator, depth: 0) else { return nil }
        return out
    }

    private func writeJSON(into out: inout String, _ options: JinjaJSONOptions, _ itemSeparator: String,
                           _ keySeparator: String, depth: Int) -> Bool {
        func newline(_ level: Int) {
            guard let indent = options.indent else { return }
            out += "\n" + String(repeating: indent, count: level)
        }
        switch self {
        case .undefined:
            return false
        case .none:
            out += "null"
        case .bool(let b):
            out += b ? "true" : "false"
        case .int(let i):
            out += String(i)
        case .double(let d):
            if d.isNaN { out += "NaN" } else if d.isInfinite { out += d < 0 ? "-Infinity" : "Infinity" } else {
                out += JinjaValue.pythonFloatRepr(d)
            }
        case .string(let s):
            JinjaValue.writeJSONString(s, into: &out, ensureASCII: options.ensureASCII)
        case .array(let items):
            if items.isEmpty { out += "[]"; return true }
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += itemSeparator }
                newline(depth + 1)
                guard item.writeJSON(into: &out, options, itemSeparator, keySeparator, depth: depth + 1) else { return false }
            }
            newline(depth)
            out += "]"
        case .object(let object):
            guard object.isDict else { return false }
            if object.isEmpty { out += "{}"; return true }
            var pairs = object.pairs
            if options.sortKeys { pairs.sort { JinjaPythonString.less($0.key, $1.key) } }
            out += "{"
            for (i, pair) in pairs.enumerated() {
                if i > 0 { out += itemSeparator }
                newline(depth + 1)
                JinjaValue.writeJSONString(pair.key, into: &out, ensureASCII: options.ensureASCII)
                out += keySeparator
                guard pair.value.writeJSON(into: &out, options, itemSeparator, keySeparator, depth: depth + 1) else { return false }
            }
            newline(depth)
            out += "}"
        }
        return true
    }

    private static func writeJSONString(_ s: String, into out: inout String, ensureASCII: Bool) {
        func hex4(_ v: UInt32) -> String {
            let h = String(v, radix: 16)
            return "\\u" + String(repeating: "0", count: 4 - h.count) + h
        }
        out += "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if c.value < 0x20 {
                    out += hex4(c.value)
                } else if ensureASCII && c.value > 0x7F {
                    if c.value > 0xFFFF {
                        let v = c.value - 0x10000
                        out += hex4(0xD800 + (v >> 10)) + hex4(0xDC00 + (v & 0x3FF))
                    } else {
                        out += hex4(c.value)
                    }
                } else {
                    out.unicodeScalars.append(c)
                }
            }
        }
        out += "\""
    }

    /// A value parsed from JSON text, keeping object key order; numbers without a fraction or
    /// exponent become `.int`, as Python's `json.loads` does.
    public init(json text: String) throws {
        var parser = JinjaJSONParser(Array(text.utf8))
        self = try parser.parseDocument()
    }
}

/// A small strict JSON parser (RFC 8259) producing ordered JinjaValues.
private struct JinjaJSONParser {
    private let bytes: [UInt8]
    private var i = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    private func fail(_ message: String) -> JinjaError { .invalidJSON(offset: i, message: message) }

    mutating func parseDocument() throws -> JinjaValue {
        let value = try parseValue(depth: 0)
        skipWhitespace()
        guard i == bytes.count else { throw fail("extra data after the JSON value") }
        return value
    }

    private mutating func skipWhitespace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
    }

    private mutating func expectLiteral(_ literal: String, _ value: JinjaValue) throws -> JinjaValue {
        let l = Array(literal.utf8)
        guard i + l.count <= bytes.count, Array(bytes[i..<(i + l.count)]) == l else { throw fail("invalid literal") }
        i += l.count
        return value
    }

    private mutating func parseValue(depth: Int) throws -> JinjaValue {
        guard depth < 512 else { throw fail("nesting too deep") }
        skipWhitespace()
        guard i < bytes.count else { throw fail("unexpected end of input") }
        switch bytes[i] {
        case UInt8(ascii: "n"): return try expectLiteral("null", .none)
        case UInt8(ascii: "t"): return try expectLiteral("true", .bool(true))
        case UInt8(ascii: "f"): return try expectLiteral("false", .bool(false))
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "["):
            i += 1
            var items: [JinjaValue] = []
            skipWhitespace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            while true {
                items.append(try parseValue(depth: depth + 1))
                skipWhitespace()
                guard i < bytes.count else { throw fail("unterminated array") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
                throw fail("expected ',' or ']'")
            }
        case UInt8(ascii: "{"):
            i += 1
            var object = JinjaObject()
            skipWhitespace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(object) }
            while true {
                skipWhitespace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
                let key = try parseString()
                skipWhitespace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw fail("expected ':'") }
                i += 1
                object[key] = try parseValue(depth: depth + 1)
                skipWhitespace()
                guard i < bytes.count else { throw fail("unterminated object") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(object) }
                throw fail("expected ',' or '}'")
            }
        default:
            return try parseNumber()
        }
    }

    private mutating func parseNumber() throws -> JinjaValue {
        let start = i
        var isInteger = true
        if i < bytes.count, bytes[i] == UInt8(ascii: "-") { i += 1 }
        func digits() -> Int {
            let s = i
            while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 { i += 1 }
            return i - s
        }
        guard digits() > 0 else { throw fail("invalid number") }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            isInteger = false
            guard digits() > 0 else { throw fail("invalid number") }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            isInteger = false
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard digits() > 0 else { throw fail("invalid number") }
        }
        let text = String(decoding: bytes[start..<i], as: UTF8.self)
        if isInteger, let value = Int(text) { return .int(value) }
        guard let value = Double(text) else { throw fail("invalid number") }
        return .double(value)
    }

    private mutating func parseHex4() throws -> UInt32 {
        guard i + 4 <= bytes.count, let v = UInt32(String(decoding: bytes[i..<(i + 4)], as: UTF8.self), radix: 16) else {
            throw fail("invalid \\u escape")
        }
        i += 4
        return v
    }

    private mutating func parseString() throws -> String {
        i += 1  // opening quote
        var out = String.UnicodeScalarView()
        var runStart = i
        func flushRun() { out.append(contentsOf: String(decoding: bytes[runStart..<i], as: UTF8.self).unicodeScalars) }
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                flushRun()
                i += 1
                return String(out)
            }
            if b < 0x20 { throw fail("control character in string") }
            if b != UInt8(ascii: "\\") { i += 1; continue }
            flushRun()
            i += 1
            guard i < bytes.count else { break }
            let e = bytes[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""): out.append("\"")
            case UInt8(ascii: "\\"): out.append("\\")
            case UInt8(ascii: "/"): out.append("/")
            case UInt8(ascii: "b"): out.append("\u{08}")
            case UInt8(ascii: "f"): out.append("\u{0C}")
            case UInt8(ascii: "n"): out.append("\n")
            case UInt8(ascii: "r"): out.append("\r")
            case UInt8(ascii: "t"): out.append("\t")
            case UInt8(ascii: "u"):
                var v = try parseHex4()
                if (0xD800...0xDBFF).contains(v), i + 6 <= bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") {
                    let save = i
                    i += 2
                    let low = try parseHex4()
                    if (0xDC00...0xDFFF).contains(low) {
                        v = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        i = save
                    }
                }
                out.append(Unicode.Scalar(v) ?? "\u{FFFD}")
            default:
                throw fail("invalid escape")
            }
            runStart = i
        }
        throw fail("unterminated string")
    }
}
