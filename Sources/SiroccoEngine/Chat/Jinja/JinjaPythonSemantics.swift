// JinjaPythonSemantics: how values behave in a template, as the Python objects behind them do in
// jinja2 — truthiness, `str()` (what `{{ }}` prints), `repr()` (how lists and dicts print),
// `==` (1 == 1.0 == True, dicts ignore order), ordering, and Python's float repr.

extension JinjaValue {
    /// Python truthiness; undefined is false.
    var isTruthy: Bool {
        switch self {
        case .undefined, .none: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .double(let d): return d != 0
        case .string(let s): return !s.isEmpty
        case .array(let a): return !a.isEmpty
        case .object(let o): return o.isDict ? !o.isEmpty : true
        }
    }

    /// A Python dict (a mapping), not a namespace or method.
    var isMapping: Bool {
        if case .object(let o) = self { return o.isDict }
        return false
    }

    /// The Python type name, for error messages.
    var pythonTypeName: String {
        switch self {
        case .undefined: return "Undefined"
        case .none: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "float"
        case .string: return "str"
        case .array: return "list"
        case .object(let o):
            switch o.kind {
            case .dict: return "dict"
            case .namespace: return "Namespace"
            case .method: return "builtin_function_or_method"
            }
        }
    }

    /// Python `str()`: what `{{ value }}` prints. Undefined prints as "".
    var pythonString: String {
        switch self {
        case .undefined: return ""
        case .string(let s): return s
        default: return pythonRepr
        }
    }

    /// Python `repr()`: `'text'`, `[1, 'a']`, `{'k': None}`, `True`, `1.0`.
    var pythonRepr: String {
        switch self {
        case .undefined: return ""
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .double(let d): return JinjaValue.pythonFloatRepr(d)
        case .string(let s): return JinjaValue.pythonStringRepr(s)
        case .array(let a): return "[" + a.map(\.pythonRepr).joined(separator: ", ") + "]"
        case .object(let o):
            let dict = "{" + o.pairs.map { JinjaValue.pythonStringRepr($0.key) + ": " + $0.value.pythonRepr }.joined(separator: ", ") + "}"
            switch o.kind {
            case .dict: return dict
            case .namespace: return "<Namespace " + dict + ">"
            case .method(let name, let owner): return "<built-in method \(name) of \(owner) object>"
            }
        }
    }

    /// The value as a Python number (bools count as 0 and 1), if it is one.
    var number: JinjaNumber? {
        switch self {
        case .bool(let b): return .int(b ? 1 : 0)
        case .int(let i): return .int(i)
        case .double(let d): return .double(d)
        default: return nil
        }
    }

    /// Python `==`.
    func pythonEquals(_ other: JinjaValue) -> Bool {
        if let a = number, let b = other.number { return a.equals(b) }
        switch (self, other) {
        case (.undefined, .undefined), (.none, .none): return true
        case (.string(let a), .string(let b)): return JinjaPythonString.equal(a, b)
        case (.array(let a), .array(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.pythonEquals($1) }
        case (.object(let a), .object(let b)):
            guard a.count == b.count else { return false }
            return a.pairs.allSatisfy { pair in b[pair.key].map { pair.value.pythonEquals($0) } ?? false }
        default: return false
        }
    }

    /// Python ordering (`<`): -1, 0 or 1, or nil where Python raises TypeError.
    func pythonCompare(_ other: JinjaValue) -> Int? {
        if let a = number, let b = other.number { return a.compare(b) }
        switch (self, other) {
        case (.string(let a), .string(let b)):
            if JinjaPythonString.equal(a, b) { return 0 }
            return JinjaPythonString.less(a, b) ? -1 : 1
        case (.array(let a), .array(let b)):
            for (x, y) in zip(a, b) where !x.pythonEquals(y) { return x.pythonCompare(y) }
            return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
        default: return nil
        }
    }

    /// Python's `repr` of a string: single quotes unless the text has `'` and no `"`.
    static func pythonStringRepr(_ s: String) -> String {
        let quote: Unicode.Scalar = s.unicodeScalars.contains("'") && !s.unicodeScalars.contains("\"") ? "\"" : "'"
        var out = String.UnicodeScalarView()
        out.append(quote)
        for c in s.unicodeScalars {
            switch c {
            case "\\": out.append(contentsOf: "\\\\".unicodeScalars)
            case "\n": out.append(contentsOf: "\\n".unicodeScalars)
            case "\r": out.append(contentsOf: "\\r".unicodeScalars)
            case "\t": out.append(contentsOf: "\\t".unicodeScalars)
            case quote: out.append("\\"); out.append(c)
            default:
                if isPrintable(c) {
                    out.append(c)
                } else {
                    let hex = String(c.value, radix: 16)
                    let escape = c.value <= 0xFF ? "\\x" + String(repeating: "0", count: 2 - hex.count) + hex
                        : c.value <= 0xFFFF ? "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                        : "\\U" + String(repeating: "0", count: 8 - hex.count) + hex
                    out.append(contentsOf: escape.unicodeScalars)
                }
            }
        }
        out.append(quote)
        return String(out)
    }

    /// Python's `str.isprintable()` for one code point: not a control, format, surrogate,
    /// private-use, unassigned or separator character (the ASCII space is printable).
    private static func isPrintable(_ c: Unicode.Scalar) -> Bool {
        if c == " " { return true }
        switch c.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned,
             .spaceSeparator, .lineSeparator, .paragraphSeparator:
            return false
        default:
            return true
        }
    }

    /// Python's `repr(float)`: the shortest round-tripping digits, in positional notation for
    /// exponents -4 ..< 16 (with a trailing ".0" when integral) and scientific (`1e+16`) outside.
    static func pythonFloatRepr(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d < 0 ? "-inf" : "inf" }
        let (digits, exponent) = shortestDigits(abs(d))
        let sign = d.sign == .minus ? "-" : ""
        // `exponent` is the position of the decimal point: value = 0.digits × 10^exponent
        if digits == "0" { return sign + "0.0" }
        if exponent > -4 && exponent <= 16 {
            if exponent <= 0 {
                return sign + "0." + String(repeating: "0", count: -exponent) + digits
            }
            if exponent >= digits.count {
                return sign + digits + String(repeating: "0", count: exponent - digits.count) + ".0"
            }
            let point = digits.index(digits.startIndex, offsetBy: exponent)
            return sign + digits[..<point] + "." + digits[point...]
        }
        var mantissa = String(digits.first!)
        if digits.count > 1 { mantissa += "." + digits.dropFirst() }
        let e = exponent - 1
        let eDigits = String(abs(e))
        return sign + mantissa + "e" + (e < 0 ? "-" : "+") + (eDigits.count < 2 ? "0" : "") + eDigits
    }

    /// Shortest round-trip decimal digits of a finite non-negative double (from Swift's own
    /// shortest representation) and the decimal point position.
    private static func shortestDigits(_ d: Double) -> (String, Int) {
        let text = d.description  // e.g. "1.0", "0.0001", "1e-05", "1.2345e+20"
        var mantissa = Substring(text)
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = text[..<e]
            exponent = Int(text[text.index(after: e)...].replacingOccurrences(of: "+", with: ""))!
        }
        var integerPart = mantissa
        var fraction: Substring = ""
        if let dot = mantissa.firstIndex(of: ".") {
            integerPart = mantissa[..<dot]
            fraction = mantissa[mantissa.index(after: dot)...]
        }
        var digits = String(integerPart) + fraction
        var point = integerPart.count + exponent
        while digits.hasPrefix("0") && digits.count > 1 {
            digits.removeFirst()
            point -= 1
        }
        while digits.hasSuffix("0") && digits.count > 1 { digits.removeLast() }
        if digits == "0" { point = 1 }
        return (digits, point)
    }
}

/// A Python number: bools and ints are `.int`.
enum JinjaNumber {
    case int(Int)
    case double(Double)

    var doubleValue: Double {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        }
    }

    func equals(_ other: JinjaNumber) -> Bool {
        if case .int(let a) = self, case .int(let b) = other { return a == b }
        return doubleValue == other.doubleValue
    }

    func compare(_ other: JinjaNumber) -> Int {
        if case .int(let a) = self, case .int(let b) = other { return a == b ? 0 : (a < b ? -1 : 1) }
        let a = doubleValue
        let b = other.doubleValue
        return a == b ? 0 : (a < b ? -1 : 1)
    }

    var value: JinjaValue {
        switch self {
        case .int(let i): return .int(i)
        case .double(let d): return .double(d)
        }
    }
}
