// JinjaGlobals: the functions a chat template can call by name — jinja2's `range`,
// `namespace`, `dict`, and the two transformers adds: `raise_exception(message)` (the template
// rejects the conversation) and `strftime_now(format)` (today's date in a system prompt).

import Foundation

extension JinjaEvaluator {
    static let globalFunctionNames: Set<String> = ["range", "namespace", "dict", "raise_exception", "strftime_now"]

    /// jinja2's sandbox refuses ranges longer than this.
    static let maximumRange = 100_000

    func callGlobal(_ name: String, _ args: JinjaCallArguments) throws -> JinjaValue {
        switch name {
        case "range":
            let bounds = try args.positional.map { value -> Int in
                guard case .int(let i)? = value.number, !isFloat(value) else {
                    throw failure("'\(value.pythonTypeName)' object cannot be interpreted as an integer")
                }
                return i
            }
            let (start, stop, step): (Int, Int, Int)
            switch bounds.count {
            case 1: (start, stop, step) = (0, bounds[0], 1)
            case 2: (start, stop, step) = (bounds[0], bounds[1], 1)
            case 3: (start, stop, step) = (bounds[0], bounds[1], bounds[2])
            default: throw failure("range expected 1 to 3 arguments, got \(bounds.count)")
            }
            guard step != 0 else { throw failure("range() arg 3 must not be zero") }
            let count = step > 0 ? max(0, (stop - start + step - 1) / step) : max(0, (start - stop - step - 1) / -step)
            guard count <= JinjaEvaluator.maximumRange else {
                throw failure("Range too big. The sandbox blocks ranges larger than MAX_RANGE (\(JinjaEvaluator.maximumRange)).")
            }
            return .array((0..<count).map { .int(start + $0 * step) })
        case "namespace", "dict":
            var object = JinjaObject()
            for value in args.positional {
                guard case .object(let initial) = value else {
                    throw failure("\(name) expects keyword arguments or a dict")
                }
                for pair in initial.pairs { object[pair.key] = pair.value }
            }
            for keyword in args.keywords { object[keyword.name] = keyword.value }
            if name == "namespace" { object.kind = .namespace }
            return .object(object)
        case "raise_exception":
            throw JinjaError.raised(message: (args.value(0, "message") ?? .undefined).pythonString)
        case "strftime_now":
            guard case .string(let format)? = args.value(0, "format") else {
                throw failure("strftime_now expects a format string")
            }
            return .string(strftime(format, now))
        default:
            throw failure("'\(name)' is undefined")
        }
    }

    private func isFloat(_ value: JinjaValue) -> Bool {
        if case .double = value { return true }
        return false
    }
}
