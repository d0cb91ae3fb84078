// JinjaFilters: the `value | filter(args)` functions, each following jinja2's filters.py (and
// transformers' `tojson`). Filters that produce generators in jinja2 (map, select, unique,
// reverse, items) produce lists here, so `| length` works on them where jinja2 would raise.

import Foundation

extension JinjaEvaluator {
    /// Filters this interpreter implements.
    static let filterNames: Set<String> = [
        "abs", "attr", "capitalize", "center", "count", "d", "default", "dictsort", "e", "escape", "first",
        "float", "forceescape", "format", "indent", "int", "items", "join", "last", "length", "list", "lower",
        "map", "max", "min", "reject", "rejectattr", "replace", "reverse", "round", "safe", "select",
        "selectattr", "sort", "string", "sum", "title", "tojson", "trim", "truncate", "unique", "upper",
        "wordcount",
    ]

    /// jinja2 filters that exist but are not implemented (a template using one fails to compile
    /// with `.unsupported` rather than "no such filter").
    static let unsupportedFilterNames: Set<String> = [
        "batch", "filesizeformat", "groupby", "pprint", "random", "slice", "striptags", "urlencode", "urlize",
        "wordwrap", "xmlattr",
    ]

    func applyFilter(_ name: String, to value: JinjaValue, _ args: JinjaCallArguments) throws -> JinjaValue {
        switch name {
        case "abs":
            switch value.number {
            case .int(let i)?:
                guard i != .min else { throw failure("integer overflow") }
                return .int(abs(i))
            case .double(let d)?: return .double(abs(d))
            case nil: throw failure("bad operand type for abs(): '\(value.pythonTypeName)'")
            }
        case "attr":
            guard case .string(let attributeName)? = args.value(0, "name") else { return .undefined }
            return try attribute(attributeName, of: value)
        case "capitalize":
            return .string(JinjaPythonString.capitalize(value.pythonString))
        case "center":
            let width = try intArgument(args.value(0, "width")) ?? 80
            try charge(width)
            return .string(center(value.pythonString, width))
        case "count", "length":
            return .int(try length(of: value))
        case "d", "default":
            let fallback = args.value(0, "default_value") ?? .string("")
            let boolean = args.value(1, "boolean")?.isTruthy ?? false
            if case .undefined = value { return fallback }
            return boolean && !value.isTruthy ? fallback : value
        case "dictsort":
            guard case .object(let object) = value, object.isDict else {
                if case .undefined = value { return .array([]) }
                throw failure("dictsort expects a dict, got '\(value.pythonTypeName)'")
            }
            let caseSensitive = args.value(0, "case_sensitive")?.isTruthy ?? false
            let byValue: Bool
            switch args.value(1, "by") {
            case .string("value")?: byValue = true
            case .string("key")?, nil: byValue = false
            default: throw failure("You can only sort by either \"key\" or \"value\"")
            }
            let reverse = args.value(2, "reverse")?.isTruthy ?? false
            let pairs = object.pairs.map { JinjaValue.array([.string($0.key), $0.value]) }
            return .array(try sorted(pairs, reverse: reverse) { pair in
                guard case .array(let kv) = pair else { return pair }
                return self.sortKey(byValue ? kv[1] : kv[0], caseSensitive: caseSensitive)
            })
        case "e", "escape", "forceescape":
            return .string(htmlEscape(value.pythonString))
        case "first":
            return try iterate(value).first ?? .undefined
        case "float":
            let fallback = args.value(0, "default") ?? .double(0)
            switch value {
            case .bool(let b): return .double(b ? 1 : 0)
            case .int(let i): return .double(Double(i))
            case .double: return value
            case .string(let s): return parsePythonFloat(s).map { .double($0) } ?? fallback
            default: return fallback
            }
        case "format":
            if !args.keywords.isEmpty {
                return .string(try percentFormat(value.pythonString, .object(JinjaObject(args.keywords.map { ($0.name, $0.value) }))))
            }
            return .string(try percentFormat(value.pythonString, .array(args.positional)))
        case "indent":
            return .string(try indent(value.pythonString, args))
        case "int":
            return try toInt(value, default: args.value(0, "default") ?? .int(0), base: try intArgument(args.value(1, "base")) ?? 10)
        case "items":
            switch value {
            case .undefined: return .array([])
            case .object(let object) where object.isDict: return .array(object.pairs.map { .array([.string($0.key), $0.value]) })
            default: throw failure("Can only get item pairs from a mapping.")
            }
        case "join":
            var items = try iterate(value)
            if let attribute = args.value(1, "attribute") {
                items = try items.map { try self.lookupPath(attribute, in: $0) }
            }
            let separator = args.value(0, "d")?.pythonString ?? ""
            let parts = items.map(\.pythonString)
            try chargeJoin(parts, separator)
            return .string(parts.joined(separator: separator))
        case "last":
            return try iterate(value).last ?? .undefined
        case "list":
            return .array(try iterate(value))
        case "lower":
            return .string(JinjaPythonString.lower(value.pythonString))
        case "upper":
            return .string(JinjaPythonString.upper(value.pythonString))
        case "map":
            return try map(value, args)
        case "max", "min":
            let caseSensitive = args.value(0, "case_sensitive")?.isTruthy ?? false
            let attribute = args.value(1, "attribute")
            let items = try iterate(value)
            guard !items.isEmpty else { return .undefined }
            let keyed = try items.map { item in (item, self.sortKey(try attribute.map { try self.lookupPath($0, in: item) } ?? item, caseSensitive: caseSensitive)) }
            var best = keyed[0]
            for candidate in keyed.dropFirst() {
                guard let order = candidate.1.pythonCompare(best.1) else {
                    throw failure("'<' not supported between instances of '\(candidate.1.pythonTypeName)' and '\(best.1.pythonTypeName)'")
                }
                if name == "max" ? order > 0 : order < 0 { best = candidate }
            }
            return best.0
        case "reject", "select":
            return try select(value, args, byAttribute: false, keep: name == "select")
        case "rejectattr", "selectattr":
            return try select(value, args, byAttribute: true, keep: name == "selectattr")
        case "replace":
            let old = args.value(0, "old")?.pythonString ?? ""
            let new = args.value(1, "new")?.pythonString ?? ""
            let count = try intArgument(args.value(2, "count")) ?? -1
            try chargeReplace(value.pythonString, old, new, count)
            return .string(JinjaPythonString.replace(value.pythonString, old, new, count: count))
        case "reverse":
            if case .string(let s) = value { return .string(String(String.UnicodeScalarView(s.unicodeScalars.reversed()))) }
            return .array(try iterate(value).reversed())
        case "round":
            return try round(value, args)
        case "safe", "string":
            return .string(value.pythonString)
        case "sort":
            let reverse = args.value(0, "reverse")?.isTruthy ?? false
            let caseSensitive = args.value(1, "case_sensitive")?.isTruthy ?? false
            let attribute = args.value(2, "attribute")
            return .array(try sorted(try iterate(value), reverse: reverse) { item in
                self.sortKey((try? attribute.map { try self.lookupPath($0, in: item) }) ?? item, caseSensitive: caseSensitive)
            })
        case "sum":
            let attribute = args.value(0, "attribute")
            var total = args.value(1, "start") ?? .int(0)
            for item in try iterate(value) {
                let term = try attribute.map { try lookupPath($0, in: item) } ?? item
                total = try binary(.add, total, term)
            }
            return total
        case "title":
            return .string(JinjaPythonString.titleFilter(value.pythonString))
        case "tojson":
            return try toJSON(value, args)
        case "trim":
            let chars = args.value(0, "chars")
            let characters: String? = { if case .string(let c)? = chars { return c }; return nil }()
            return .string(JinjaPythonString.strip(value.pythonString, chars: characters))
        case "truncate":
            return .string(try truncate(value.pythonString, args))
        case "unique":
            let caseSensitive = args.value(0, "case_sensitive")?.isTruthy ?? false
            let attribute = args.value(1, "attribute")
            var seen: [JinjaValue] = []
            var result: [JinjaValue] = []
            for item in try iterate(value) {
                let key = sortKey(try attribute.map { try lookupPath($0, in: item) } ?? item, caseSensitive: caseSensitive)
                if !seen.contains(where: { $0.pythonEquals(key) }) {
                    seen.append(key)
                    result.append(item)
                }
            }
            return .array(result)
        case "wordcount":
            var count = 0
            var inWord = false
            for c in value.pythonString.unicodeScalars {
                let isWordCharacter = c == "_" || c.properties.isAlphabetic || c.properties.numericType != nil
                if isWordCharacter && !inWord { count += 1 }
                inWord = isWordCharacter
            }
            return .int(count)
        default:
            throw JinjaError.unsupported(line: line, feature: "the '\(name)' filter")
        }
    }

    // MARK: - helpers shared by filters

    func length(of value: JinjaValue) throws -> Int {
        switch value {
        case .undefined: return 0
        case .string(let s): return JinjaPythonString.length(s)
        case .array(let a): return a.count
        case .object(let o) where o.isDict: return o.count
        default: throw failure("object of type '\(value.pythonTypeName)' has no len()")
        }
    }

    func intArgument(_ value: JinjaValue?) throws -> Int? {
        guard let value else { return nil }
        if case .none = value { return nil }
        guard case .int(let i)? = value.number else {
            if case .double(let d) = value { return Int(d) }
            throw failure("'\(value.pythonTypeName)' object cannot be interpreted as an integer")
        }
        return i
    }

    /// The value at a dotted attribute path (`"function.name"`, `"0"`), as jinja2's attrgetter.
    func lookupPath(_ path: JinjaValue, in value: JinjaValue) throws -> JinjaValue {
        let parts: [JinjaValue]
        switch path {
        case .string(let s): parts = s.split(separator: ".", omittingEmptySubsequences: false).map { Int($0).map(JinjaValue.int) ?? .string(String($0)) }
        default: parts = [path]
        }
        var current = value
        for part in parts {
            if case .undefined = current { return .undefined }
            current = try item(part, of: current)
        }
        return current
    }

    /// jinja2's sort key: strings lower-cased unless case-sensitive.
    func sortKey(_ value: JinjaValue, caseSensitive: Bool) -> JinjaValue {
        if !caseSensitive, case .string(let s) = value { return .string(JinjaPythonString.lower(s)) }
        return value
    }

    /// A stable sort by Python ordering of `key`, failing where Python's `sorted` raises.
    func sorted(_ items: [JinjaValue], reverse: Bool, key: (JinjaValue) throws -> JinjaValue) throws -> [JinjaValue] {
        let keyed = try items.enumerated().map { (index: $0.offset, item: $0.element, key: try key($0.element)) }
        var failed: (JinjaValue, JinjaValue)? = nil
        let result = keyed.sorted { a, b in
            guard let order = a.key.pythonCompare(b.key) else {
                failed = (a.key, b.key)
                return a.index < b.index
            }
            if order == 0 { return a.index < b.index }
            return reverse ? order > 0 : order < 0
        }
        if let (a, b) = failed {
            throw failure("'<' not supported between instances of '\(a.pythonTypeName)' and '\(b.pythonTypeName)'")
        }
        return result.map(\.item)
    }

    private func htmlEscape(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&#34;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    private func center(_ s: String, _ width: Int) -> String {
        let length = JinjaPythonString.length(s)
        guard width > length else { return s }
        let margin = width - length
        let left = margin / 2 + (margin & width & 1)
        return String(repeating: " ", count: left) + s + String(repeating: " ", count: margin - left)
    }

    private func indent(_ text: String, _ args: JinjaCallArguments) throws -> String {
        let width = args.value(0, "width") ?? .int(4)
        let first = args.value(1, "first")?.isTruthy ?? false
        let blank = args.value(2, "blank")?.isTruthy ?? false
        let indentation: String
        if case .string(let s) = width { indentation = s } else {
            let n = try intArgument(width) ?? 4
            try charge(n)
            indentation = String(repeating: " ", count: max(0, n))
        }
        let lines = JinjaPythonString.splitLines(text + "\n")
        try charge(indentation.utf8.count, times: lines.count)
        var result: String
        if blank {
            result = lines.joined(separator: "\n" + indentation)
        } else {
            result = lines.first ?? ""
            let rest = lines.dropFirst()
            if !rest.isEmpty {
                result += "\n" + rest.map { $0.isEmpty ? $0 : indentation + $0 }.joined(separator: "\n")
            }
        }
        return first ? indentation + result : result
    }

    /// Python's `float(str)`: surrounding whitespace, signs, `inf`/`nan`, `_` between digits.
    func parsePythonFloat(_ text: String) -> Double? {
        let s = JinjaPythonString.strip(text)
        let lower = s.lowercased()
        switch lower {
        case "inf", "+inf", "infinity", "+infinity": return .infinity
        case "-inf", "-infinity": return -.infinity
        case "nan", "+nan", "-nan": return .nan
        default: break
        }
        guard !s.isEmpty, s.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.numericType != nil || "+-.eE_".unicodeScalars.contains($0)) }),
              !s.hasPrefix("_"), !s.hasSuffix("_"), !s.contains("__") else { return nil }
        return Double(s.replacingOccurrences(of: "_", with: ""))
    }

    /// jinja2's `int` filter: `int(value, base)` for strings, else `int(value)`, then
    /// `int(float(value))`, then the default.
    private func toInt(_ value: JinjaValue, default fallback: JinjaValue, base: Int) throws -> JinjaValue {
        switch value {
        case .bool(let b): return .int(b ? 1 : 0)
        case .int: return value
        case .double(let d):
            guard d.isFinite else { throw failure("cannot convert float infinity or NaN to integer") }
            guard let i = Int(exactly: d.rounded(.towardZero)) else { throw failure("integer overflow") }
            return .int(i)
        case .string(let s):
            if let i = parsePythonInt(s, base: base) { return .int(i) }
            if let d = parsePythonFloat(s), d.isFinite, let i = Int(exactly: d.rounded(.towardZero)) { return .int(i) }
            return fallback
        default:
            return fallback
        }
    }

    /// Python's `int(str, base)`: whitespace, sign, `_` separators, and a `0x`/`0o`/`0b` prefix
    /// matching the base (any prefix when the base is 0).
    private func parsePythonInt(_ text: String, base: Int) -> Int? {
        var s = Substring(JinjaPythonString.strip(text))
        var negative = false
        if let sign = s.first, sign == "+" || sign == "-" {
            negative = sign == "-"
            s = s.dropFirst()
        }
        var radix = base
        let lower = s.lowercased()
        for (prefix, r) in [("0x", 16), ("0o", 8), ("0b", 2)] where lower.hasPrefix(prefix) && (base == r || base == 0) {
            radix = r
            s = s.dropFirst(2)
            if s.hasPrefix("_") { s = s.dropFirst() }
            break
        }
        if radix == 0 { radix = 10 }
        guard !s.isEmpty, !s.hasPrefix("_"), !s.hasSuffix("_"), !s.contains("__"), (2...36).contains(radix) else { return nil }
        guard let magnitude = Int(s.replacingOccurrences(of: "_", with: ""), radix: radix) else { return nil }
        return negative ? -magnitude : magnitude
    }

    private func round(_ value: JinjaValue, _ args: JinjaCallArguments) throws -> JinjaValue {
        let precision = try intArgument(args.value(0, "precision")) ?? 0
        let method = args.value(1, "method")?.pythonString ?? "common"
        guard let number = value.number else {
            throw failure("type \(value.pythonTypeName) doesn't define __round__ method")
        }
        switch method {
        case "common":
            if case .int(let i) = number, precision >= 0 { return .int(i) }
            let d = number.doubleValue
            guard d.isFinite else { return .double(d) }
            if precision >= 0 {
                let text = String(format: "%.\(precision)f", d)
                return .double(Double(text) ?? d)
            }
            let scale = Foundation.pow(10.0, Double(-precision))
            return .double(Foundation.round(d / scale) * scale)
        case "ceil", "floor":
            let scale = Foundation.pow(10.0, Double(precision))
            let scaled = number.doubleValue * scale
            return .double((method == "ceil" ? scaled.rounded(.up) : scaled.rounded(.down)) / scale)
        default:
            throw failure("method must be common, ceil or floor")
        }
    }

    private func truncate(_ s: String, _ args: JinjaCallArguments) throws -> String {
        let length = try intArgument(args.value(0, "length")) ?? 255
        let killWords = args.value(1, "killwords")?.isTruthy ?? false
        let end = args.value(2, "end")?.pythonString ?? "..."
        let leeway = try intArgument(args.value(3, "leeway")) ?? 5
        let scalars = JinjaPythonString.scalars(s)
        if scalars.count <= length + leeway { return s }
        let cut = JinjaPythonString.string(scalars.prefix(max(0, length - JinjaPythonString.length(end))))
        if killWords { return cut + end }
        return (JinjaPythonString.rsplit(cut, separator: " ", maxSplit: 1).first ?? "") + end
    }

    private func toJSON(_ value: JinjaValue, _ args: JinjaCallArguments) throws -> JinjaValue {
        var options = JinjaJSONOptions()
        options.ensureASCII = args.value(0, "ensure_ascii")?.isTruthy ?? false
        switch args.value(1, "indent") {
        case nil, .none?: break
        case .string(let s)?: options.indent = s
        case let width?:
            let n = max(0, try intArgument(width) ?? 0)
            try charge(n)
            options.indent = String(repeating: " ", count: n)
        }
        // every value of the structure may start an indented line
        try charge(options.indent?.utf8.count ?? 0, times: JinjaEvaluator.size(of: value))
        if let separators = args.value(2, "separators"), case .array(let pair) = separators, pair.count == 2 {
            options.itemSeparator = pair[0].pythonString
            options.keySeparator = pair[1].pythonString
        }
        options.sortKeys = args.value(3, "sort_keys")?.isTruthy ?? false
        guard let json = value.pythonJSON(options) else {
            throw failure("Object of type \(value.pythonTypeName) is not JSON serializable")
        }
        return .string(json)
    }

    /// `map(attribute=…, default=…)` or `map('filter', args…)`.
    private func map(_ value: JinjaValue, _ args: JinjaCallArguments) throws -> JinjaValue {
        let items = try iterate(value)
        if let attribute = args.keywords.first(where: { $0.name == "attribute" })?.value {
            let fallback = args.keywords.first { $0.name == "default" }?.value
            return .array(try items.map { item in
                let result = try lookupPath(attribute, in: item)
                if case .undefined = result, let fallback { return fallback }
                return result
            })
        }
        guard case .string(let filter)? = args.positional.first else {
            throw failure("map requires a filter argument")
        }
        guard JinjaEvaluator.filterNames.contains(filter) else { throw failure("No filter named '\(filter)'.") }
        let rest = JinjaCallArguments(positional: Array(args.positional.dropFirst()), keywords: args.keywords)
        return .array(try items.map { try applyFilter(filter, to: $0, rest) })
    }

    /// `select`/`reject` (a test on each item) and `selectattr`/`rejectattr` (a test on an attribute).
    private func select(_ value: JinjaValue, _ args: JinjaCallArguments, byAttribute: Bool, keep: Bool) throws -> JinjaValue {
        var positional = args.positional
        var attribute: JinjaValue? = nil
        if byAttribute {
            guard !positional.isEmpty else { throw failure("Missing parameter for attribute name") }
            attribute = positional.removeFirst()
        }
        var test: String? = nil
        if !positional.isEmpty {
            test = positional.removeFirst().pythonString
            guard JinjaEvaluator.testNames.contains(test!) else { throw failure("No test named '\(test!)'.") }
        }
        let testArguments = JinjaCallArguments(positional: positional, keywords: args.keywords)
        return .array(try iterate(value).filter { item in
            let subject = try attribute.map { try lookupPath($0, in: item) } ?? item
            let passed = try test.map { try applyTest($0, to: subject, testArguments) } ?? subject.isTruthy
            return passed == keep
        })
    }
}
