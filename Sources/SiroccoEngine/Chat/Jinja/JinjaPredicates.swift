// JinjaPredicates: the `value is test(args)` checks of jinja2's tests.py. Python's type model
// shows through: bools are numbers but not integers, strings and dicts are sequences, and
// jinja2's Undefined counts as iterable and as a sequence.

extension JinjaEvaluator {
    /// Tests this interpreter implements.
    static let testNames: Set<String> = [
        "boolean", "callable", "defined", "divisibleby", "eq", "equalto", "==", "escaped", "even", "false", "filter",
        "float", "ge", ">=", "greaterthan", "gt", ">", "in", "integer", "iterable", "le", "<=", "lessthan", "lt", "<",
        "lower", "mapping", "ne", "!=", "none", "number", "odd", "sameas", "sequence", "string", "test", "true",
        "undefined", "upper",
    ]

    /// jinja2 tests that exist but are not implemented.
    static let unsupportedTestNames: Set<String> = []

    func applyTest(_ name: String, to value: JinjaValue, _ args: JinjaCallArguments) throws -> Bool {
        let argument = args.positional.first ?? args.keywords.first?.value ?? .undefined
        func isUndefined(_ v: JinjaValue) -> Bool {
            if case .undefined = v { return true }
            return false
        }
        func order() throws -> Int {
            if isUndefined(value) || isUndefined(argument) { throw failure("an undefined value was compared") }
            guard let order = value.pythonCompare(argument) else {
                throw failure("comparison not supported between instances of '\(value.pythonTypeName)' and '\(argument.pythonTypeName)'")
            }
            return order
        }
        func integerRemainder(_ divisor: Int) throws -> Bool {
            switch value.number {
            case .int(let i)?: return i % divisor == 0
            case .double(let d)?: return JinjaEvaluator.floatDivMod(d, Double(divisor)).mod == 0
            case nil:
                if isUndefined(value) { throw failure("an undefined value was used in a test") }
                throw failure("unsupported operand type(s) for %: '\(value.pythonTypeName)' and 'int'")
            }
        }
        switch name {
        case "defined": return !isUndefined(value)
        case "undefined": return isUndefined(value)
        case "none":
            if case .none = value { return true }
            return false
        case "boolean":
            if case .bool = value { return true }
            return false
        case "true":
            if case .bool(true) = value { return true }
            return false
        case "false":
            if case .bool(false) = value { return true }
            return false
        case "integer":
            if case .int = value { return true }
            return false
        case "float":
            if case .double = value { return true }
            return false
        case "number":
            return value.number != nil
        case "string":
            if case .string = value { return true }
            return false
        case "mapping":
            return value.isMapping
        case "iterable", "sequence":
            switch value {
            case .undefined, .string, .array: return true
            case .object(let o): return o.isDict
            default: return false
            }
        case "callable":
            if case .object(let o) = value, case .method = o.kind { return true }
            return false
        case "escaped":
            return false
        case "filter":
            return JinjaEvaluator.filterNames.contains(value.pythonString)
        case "test":
            return JinjaEvaluator.testNames.contains(value.pythonString)
        case "odd":
            return try !integerRemainder(2)
        case "even":
            return try integerRemainder(2)
        case "divisibleby":
            guard case .int(let divisor)? = argument.number, divisor != 0 else {
                throw failure("divisibleby needs a non-zero integer")
            }
            return try integerRemainder(divisor)
        case "eq", "equalto", "==": return value.pythonEquals(argument)
        case "ne", "!=": return !value.pythonEquals(argument)
        case "lt", "lessthan", "<": return try order() < 0
        case "le", "<=": return try order() <= 0
        case "gt", "greaterthan", ">": return try order() > 0
        case "ge", ">=": return try order() >= 0
        case "in": return try contains(argument, value)
        case "sameas":
            switch (value, argument) {
            case (.none, .none), (.undefined, .undefined): return true
            case (.bool(let a), .bool(let b)): return a == b
            case (.int(let a), .int(let b)): return a == b && (-5...256).contains(a)
            default: return false
            }
        case "lower":
            return JinjaPythonString.isLower(value.pythonString)
        case "upper":
            return JinjaPythonString.isUpper(value.pythonString)
        default:
            throw JinjaError.unsupported(line: line, feature: "the '\(name)' test")
        }
    }
}
