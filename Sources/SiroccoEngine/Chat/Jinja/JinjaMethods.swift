// JinjaMethods: Python methods templates call on values — `content.strip()`,
// `message.get('x')`, `d.items()` … — limited to what jinja2's ImmutableSandboxedEnvironment
// allows (no `append`, `update`, `pop`: those are "unsafe" there and missing here).

extension JinjaEvaluator {
    /// The result of `value.name(args)`, or nil when the value's type has no such method.
    func callMethod(_ name: String, on value: JinjaValue, _ args: JinjaCallArguments) throws -> JinjaValue? {
        switch value {
        case .string(let s): return try callStringMethod(name, s, args)
        case .object(let object) where object.isDict: return try callDictMethod(name, object, args)
        case .array(let items): return try callListMethod(name, items, args)
        default: return nil
        }
    }

    /// Python methods reachable as attributes in jinja2's immutable sandbox; mutating list and
    /// dict methods are "unsafe" there and read as undefined.
    static let stringMethodNames: Set<String> = [
        "capitalize", "casefold", "center", "count", "encode", "endswith", "expandtabs", "find", "format", "format_map",
        "index", "isalnum", "isalpha", "isascii", "isdecimal", "isdigit", "isidentifier", "islower", "isnumeric",
        "isprintable", "isspace", "istitle", "isupper", "join", "ljust", "lower", "lstrip", "maketrans", "partition",
        "removeprefix", "removesuffix", "replace", "rfind", "rindex", "rjust", "rpartition", "rsplit", "rstrip", "split",
        "splitlines", "startswith", "strip", "swapcase", "title", "translate", "upper", "zfill",
    ]
    static let dictMethodNames: Set<String> = ["copy", "fromkeys", "get", "items", "keys", "values"]
    static let listMethodNames: Set<String> = ["copy", "count", "index"]

    /// The bound-method stand-in for `value.name`, if `name` is a safe method of the value's type.
    static func boundMethod(_ name: String, of value: JinjaValue) -> JinjaValue? {
        switch value {
        case .string where stringMethodNames.contains(name): return .object(.method(name, of: "str"))
        case .object(let o) where o.isDict && dictMethodNames.contains(name): return .object(.method(name, of: "dict"))
        case .array where listMethodNames.contains(name): return .object(.method(name, of: "list"))
        default: return nil
        }
    }

    private func stringArgument(_ args: JinjaCallArguments, _ index: Int, _ name: String) throws -> String? {
        guard let value = args.value(index, name) else { return nil }
        switch value {
        case .none: return nil
        case .string(let s): return s
        default: throw failure("expected a string argument, got '\(value.pythonTypeName)'")
        }
    }

    private func callStringMethod(_ name: String, _ s: String, _ args: JinjaCallArguments) throws -> JinjaValue? {
        switch name {
        case "strip", "lstrip", "rstrip":
            let chars = try stringArgument(args, 0, "chars")
            return .string(JinjaPythonString.strip(s, chars: chars, leading: name != "rstrip", trailing: name != "lstrip"))
        case "upper": return .string(JinjaPythonString.upper(s))
        case "lower": return .string(JinjaPythonString.lower(s))
        case "title": return .string(JinjaPythonString.title(s))
        case "capitalize": return .string(JinjaPythonString.capitalize(s))
        case "startswith", "endswith":
            let candidates: [JinjaValue]
            switch args.value(0, name == "startswith" ? "prefix" : "suffix") {
            case .string(let p)?: candidates = [.string(p)]
            case .array(let list)?: candidates = list
            default: throw failure("\(name) first arg must be str or a tuple of str")
            }
            return .bool(try candidates.contains { candidate in
                guard case .string(let c) = candidate else { throw failure("\(name) first arg must be str or a tuple of str") }
                return name == "startswith" ? JinjaPythonString.hasPrefix(s, c) : JinjaPythonString.hasSuffix(s, c)
            })
        case "split", "rsplit":
            let separator = try stringArgument(args, 0, "sep")
            if separator == "" { throw failure("empty separator") }
            let maxSplit = try intArgument(args.value(1, "maxsplit")) ?? -1
            let parts = name == "split" ? JinjaPythonString.split(s, separator: separator, maxSplit: maxSplit)
                : JinjaPythonString.rsplit(s, separator: separator, maxSplit: maxSplit)
            return .array(parts.map { .string($0) })
        case "splitlines":
            return .array(JinjaPythonString.splitLines(s).map { .string($0) })
        case "replace":
            guard let old = try stringArgument(args, 0, "old"), let new = try stringArgument(args, 1, "new") else {
                throw failure("replace expected at least 2 arguments")
            }
            let count = try intArgument(args.value(2, "count")) ?? -1
            try chargeReplace(s, old, new, count)
            return .string(JinjaPythonString.replace(s, old, new, count: count))
        case "find", "rfind", "index", "rindex":
            guard let needle = try stringArgument(args, 0, "sub") else { throw failure("\(name) expected a string") }
            let haystack = JinjaPythonString.scalars(s)
            let n = JinjaPythonString.scalars(needle)
            var found: Int? = nil
            if name.hasPrefix("r") {
                var i = haystack.count - n.count
                while i >= 0 {
                    if haystack[i..<(i + n.count)].elementsEqual(n) { found = i; break }
                    i -= 1
                }
            } else {
                found = JinjaPythonString.find(haystack, n)
            }
            if found == nil && name.hasSuffix("index") { throw failure("substring not found") }
            return .int(found ?? -1)
        case "count":
            guard let needle = try stringArgument(args, 0, "sub") else { throw failure("count expected a string") }
            return .int(JinjaPythonString.count(s, needle))
        case "join":
            guard let iterable = args.value(0, "iterable") else { throw failure("join() takes exactly one argument") }
            let parts = try iterate(iterable).map { part -> String in
                guard case .string(let p) = part else {
                    throw failure("sequence item: expected str instance, \(part.pythonTypeName) found")
                }
                return p
            }
            try chargeJoin(parts, s)
            return .string(parts.joined(separator: s))
        case "format":
            return .string(try strFormat(s, args))
        case "isdigit": return .bool(JinjaPythonString.isDigit(s))
        case "isalpha": return .bool(JinjaPythonString.isAlpha(s))
        case "isalnum": return .bool(JinjaPythonString.isAlnum(s))
        case "isspace": return .bool(JinjaPythonString.isSpace(s))
        case "isupper": return .bool(JinjaPythonString.isUpper(s))
        case "islower": return .bool(JinjaPythonString.isLower(s))
        case "removeprefix", "removesuffix":
            guard let affix = try stringArgument(args, 0, name == "removeprefix" ? "prefix" : "suffix") else { return .string(s) }
            let scalars = JinjaPythonString.scalars(s)
            let count = JinjaPythonString.length(affix)
            if name == "removeprefix" {
                return .string(JinjaPythonString.hasPrefix(s, affix) ? JinjaPythonString.string(scalars.dropFirst(count)) : s)
            }
            return .string(JinjaPythonString.hasSuffix(s, affix) ? JinjaPythonString.string(scalars.dropLast(count)) : s)
        case "center", "ljust", "rjust":
            let width = try intArgument(args.value(0, "width")) ?? 0
            let fill = try stringArgument(args, 1, "fillchar") ?? " "
            try charge(width, times: fill.utf8.count)
            let length = JinjaPythonString.length(s)
            guard width > length else { return .string(s) }
            let margin = width - length
            let left = name == "ljust" ? 0 : (name == "rjust" ? margin : margin / 2 + (margin & width & 1))
            return .string(String(repeating: fill, count: left) + s + String(repeating: fill, count: margin - left))
        default:
            return nil
        }
    }

    private func callDictMethod(_ name: String, _ object: JinjaObject, _ args: JinjaCallArguments) throws -> JinjaValue? {
        switch name {
        case "items": return .array(object.pairs.map { .array([.string($0.key), $0.value]) })
        case "keys": return .array(object.keys.map { .string($0) })
        case "values": return .array(object.values)
        case "get":
            guard let key = args.value(0, "key") else { throw failure("get expected at least 1 argument, got 0") }
            let fallback = args.value(1, "default") ?? .none
            if case .string(let k) = key { return object[k] ?? fallback }
            return fallback
        case "copy": return .object(object)
        default: return nil
        }
    }

    private func callListMethod(_ name: String, _ items: [JinjaValue], _ args: JinjaCallArguments) throws -> JinjaValue? {
        switch name {
        case "count":
            let needle = args.value(0, "value") ?? .undefined
            return .int(items.filter { $0.pythonEquals(needle) }.count)
        case "index":
            let needle = args.value(0, "value") ?? .undefined
            guard let i = items.firstIndex(where: { $0.pythonEquals(needle) }) else {
                throw failure("\(needle.pythonRepr) is not in list")
            }
            return .int(i)
        case "copy": return .array(items)
        default: return nil
        }
    }
}
