// JinjaEvaluator: walks a parsed template and writes its output, with jinja2's semantics:
// `for` bodies get a fresh scope each iteration (a `set` inside never leaks out, reads fall back
// to the enclosing scope), `if` makes no scope, `set ns.attr` mutates the namespace where it was
// defined, macros see the scope they were defined in. Undefined values print as "" and fail
// only where jinja2's default Undefined fails (attribute access, arithmetic, ordering).
// Filters, tests, methods and globals live in their own files as extensions of this type.

import Foundation

/// Positional and keyword arguments of a call, filter or test.
struct JinjaCallArguments {
    var positional: [JinjaValue] = []
    var keywords: [(name: String, value: JinjaValue)] = []

    /// The argument at `index`, or the keyword `name` (Python's binding of a parameter).
    func value(_ index: Int, _ name: String) -> JinjaValue? {
        if index < positional.count { return positional[index] }
        return keywords.first { $0.name == name }?.value
    }
}

/// Variables visible at one point of a template, chained to the enclosing scope.
final class JinjaScope {
    enum Binding {
        case value(JinjaValue)
        case macro(JinjaMacro, definedIn: JinjaScope)
        case loop(JinjaLoopState)
    }

    var bindings: [String: Binding] = [:]
    let parent: JinjaScope?

    init(parent: JinjaScope?) { self.parent = parent }

    /// The innermost binding of `name` and the scope holding it.
    func find(_ name: String) -> (Binding, JinjaScope)? {
        var scope: JinjaScope? = self
        while let s = scope {
            if let b = s.bindings[name] { return (b, s) }
            scope = s.parent
        }
        return nil
    }
}

/// Where a `for` loop is: the source of `loop.index`, `loop.first`, `loop.previtem`, ….
struct JinjaLoopState {
    let index0: Int
    let items: [JinjaValue]

    static let memberNames = ["index", "index0", "revindex", "revindex0", "first", "last", "length", "depth", "depth0",
                              "previtem", "nextitem"]

    /// One member of `loop` (nil: not one, or `previtem`/`nextitem` where there is none).
    func member(_ name: String) -> JinjaValue? {
        let length = items.count
        switch name {
        case "index": return .int(index0 + 1)
        case "index0": return .int(index0)
        case "revindex": return .int(length - index0)
        case "revindex0": return .int(length - index0 - 1)
        case "first": return .bool(index0 == 0)
        case "last": return .bool(index0 == length - 1)
        case "length": return .int(length)
        case "depth": return .int(1)
        case "depth0": return .int(0)
        // (Optional.none spelled out: JinjaValue is itself ExpressibleByNilLiteral, as Python's None)
        case "previtem": return index0 > 0 ? items[index0 - 1] : Optional.none
        case "nextitem": return index0 + 1 < length ? items[index0 + 1] : Optional.none
        default: return nil
        }
    }

    var object: JinjaValue {
        var o = JinjaObject()
        for name in Self.memberNames { if let value = member(name) { o[name] = value } }
        return .object(o)
    }
}

final class JinjaEvaluator {
    /// The clock `strftime_now` reads.
    let now: Date
    /// The line of the statement being executed, for error messages.
    private(set) var line = 1

    private enum Flow { case normal, breakLoop, continueLoop }
    /// What this render has used of its limits.
    private var budget: JinjaBudget
    /// A macro's binding holds the scope it is defined in, which holds the binding: a cycle,
    /// broken when the render ends (else every render of a template with macros leaks).
    private var scopesWithMacros: [JinjaScope] = []

    init(now: Date, limits: JinjaLimits = .standard) {
        self.now = now
        budget = JinjaBudget(limits: limits, inputBytes: 0)
    }

    func render(_ body: [JinjaStatement], context: [String: JinjaValue]) throws -> String {
        budget = JinjaBudget(limits: budget.limits, inputBytes: context.values.reduce(0) { $0 + JinjaEvaluator.size(of: $1) })
        defer {
            for scope in scopesWithMacros { scope.bindings = [:] }
            scopesWithMacros = []
        }
        let root = JinjaScope(parent: nil)
        for (name, value) in context { root.bindings[name] = .value(value) }
        var out = ""
        _ = try execute(body, root, &out)
        return out
    }

    /// A runtime error at the current line.
    func failure(_ message: String) -> JinjaError { .runtime(line: line, message: message) }

    // MARK: - limits

    /// Counts `bytes` about to be built (a string's UTF-8 bytes, 16 per list element) against the
    /// render's allowance; call before allocating, so a template cannot ask for 100 GB.
    func charge(_ bytes: Int) throws {
        let (total, overflow) = budget.bytesBuilt.addingReportingOverflow(max(0, bytes))
        guard !overflow, total <= budget.byteAllowance else {
            throw JinjaError.limit(line: line, limit: "limit of \(budget.byteAllowance >> 20) MiB of text built (a string, list or output too large)")
        }
        budget.bytesBuilt = total
    }

    /// `count` copies of `bytes` each, charged without overflowing.
    func charge(_ bytes: Int, times count: Int) throws {
        let (total, overflow) = max(0, bytes).multipliedReportingOverflow(by: max(0, count))
        try charge(overflow ? .max : total)
    }

    /// A join's result, charged before it is built.
    func chargeJoin(_ parts: [String], _ separator: String) throws {
        try charge(separator.utf8.count, times: max(0, parts.count - 1))
        try charge(parts.reduce(0) { $0 &+ $1.utf8.count })
    }

    /// A replace's result, charged before it is built (every occurrence adds `new`).
    func chargeReplace(_ s: String, _ old: String, _ new: String, _ count: Int) throws {
        var occurrences = JinjaPythonString.occurrences(of: old, in: s)
        if count >= 0 { occurrences = min(occurrences, count) }
        try charge(s.utf8.count)
        try charge(new.utf8.count, times: occurrences)
    }

    /// The bytes a value's strings and lists take, as `charge` counts them.
    static func size(of value: JinjaValue) -> Int {
        switch value {
        case .string(let s): return s.utf8.count
        case .array(let a): return a.reduce(a.count * 16) { $0 &+ size(of: $1) }
        case .object(let o): return o.pairs.reduce(o.count * 16) { $0 &+ $1.key.utf8.count &+ size(of: $1.value) }
        default: return 0
        }
    }

    /// The top-level bytes of a value just built by a filter or method (its parts were counted
    /// when they were built).
    func chargeResult(_ value: JinjaValue) throws -> JinjaValue {
        switch value {
        case .string(let s): try charge(s.utf8.count)
        case .array(let a): try charge(16, times: a.count)
        case .object(let o): try charge(16, times: o.count)
        default: break
        }
        return value
    }

    /// One unit of work: an expression, a statement or a loop iteration.
    private func step() throws {
        budget.steps += 1
        guard budget.steps <= budget.limits.steps else {
            throw JinjaError.limit(line: line, limit: "limit of \(budget.limits.steps) evaluation steps (a loop that runs too long)")
        }
    }

    /// Enters one level of evaluation; the caller leaves it with `budget.depth -= 1`.
    private func enter() throws {
        try step()
        budget.depth += 1
        guard budget.depth <= budget.limits.evaluation else {
            budget.depth -= 1
            throw JinjaError.limit(line: line, limit: "evaluation depth of \(budget.limits.evaluation) (nesting or recursion too deep)")
        }
    }

    // MARK: - statements

    private func execute(_ body: [JinjaStatement], _ scope: JinjaScope, _ out: inout String) throws -> Flow {
        for statement in body {
            let flow = try execute(statement, scope, &out)
            if flow != .normal { return flow }
        }
        return .normal
    }

    private func execute(_ statement: JinjaStatement, _ scope: JinjaScope, _ out: inout String) throws -> Flow {
        try enter()
        defer { budget.depth -= 1 }
        return try executeStatement(statement, scope, &out)
    }

    private func executeStatement(_ statement: JinjaStatement, _ scope: JinjaScope, _ out: inout String) throws -> Flow {
        switch statement {
        case .text(let text):
            try charge(text.utf8.count)
            out += text
        case .output(let expression, let line):
            self.line = line
            let text = try evaluate(expression, scope).pythonString
            try charge(text.utf8.count)
            out += text
        case .ifChain(let branches, let elseBody, let line):
            self.line = line
            for branch in branches where try evaluate(branch.condition, scope).isTruthy {
                return try execute(branch.body, scope, &out)
            }
            return try execute(elseBody, scope, &out)
        case .forLoop(let loop, let line):
            self.line = line
            return try executeFor(loop, scope, &out)
        case .set(let target, let expression, let line):
            self.line = line
            try assign(target, try evaluate(expression, scope), in: scope)
        case .setBlock(let target, let filters, let body, let line):
            var captured = ""
            _ = try execute(body, JinjaScope(parent: scope), &captured)
            self.line = line
            try assign(target, try applyFilters(filters, to: .string(captured), scope), in: scope)
        case .macro(let macro, _):
            scope.bindings[macro.name] = .macro(macro, definedIn: scope)
            scopesWithMacros.append(scope)
        case .filterBlock(let filters, let body, let line):
            var captured = ""
            let flow = try execute(body, JinjaScope(parent: scope), &captured)
            self.line = line
            let text = try applyFilters(filters, to: .string(captured), scope).pythonString
            try charge(text.utf8.count)
            out += text
            return flow
        case .scope(let assignments, let body, let line):
            self.line = line
            let inner = JinjaScope(parent: scope)
            for (target, expression) in assignments {
                try assign(target, try evaluate(expression, scope), in: inner)
            }
            return try execute(body, inner, &out)
        case .breakLoop:
            return .breakLoop
        case .continueLoop:
            return .continueLoop
        }
        return .normal
    }

    private func executeFor(_ loop: JinjaForLoop, _ scope: JinjaScope, _ out: inout String) throws -> Flow {
        var items = try iterate(try evaluate(loop.iterable, scope))
        if let condition = loop.condition {
            items = try items.filter { item in
                let inner = JinjaScope(parent: scope)
                try assign(loop.target, item, in: inner)
                return try evaluate(condition, inner).isTruthy
            }
        }
        if items.isEmpty { return try execute(loop.elseBody, JinjaScope(parent: scope), &out) }
        for index in items.indices {
            try step()
            let inner = JinjaScope(parent: scope)
            try assign(loop.target, items[index], in: inner)
            inner.bindings["loop"] = .loop(JinjaLoopState(index0: index, items: items))
            if try execute(loop.body, inner, &out) == .breakLoop { break }
        }
        return .normal
    }

    private func applyFilters(_ filters: [(name: String, arguments: [JinjaArgument])], to value: JinjaValue,
                              _ scope: JinjaScope) throws -> JinjaValue {
        var result = value
        for filter in filters {
            result = try chargeResult(try applyFilter(filter.name, to: result, try evaluateArguments(filter.arguments, scope)))
        }
        return result
    }

    private func assign(_ target: JinjaAssignTarget, _ value: JinjaValue, in scope: JinjaScope) throws {
        switch target {
        case .name(let name):
            scope.bindings[name] = .value(value)
        case .names(let names):
            let parts = try iterate(value)
            guard parts.count == names.count else {
                throw failure(parts.count < names.count
                    ? "not enough values to unpack (expected \(names.count), got \(parts.count))"
                    : "too many values to unpack (expected \(names.count))")
            }
            for (name, part) in zip(names, parts) { scope.bindings[name] = .value(part) }
        case .namespaceAttribute(let name, let attribute):
            guard let (binding, owner) = scope.find(name), case .value(.object(var namespace)) = binding,
                  namespace.kind == .namespace else {
                throw failure("cannot assign attribute on non-namespace object")
            }
            namespace[attribute] = value
            owner.bindings[name] = .value(.object(namespace))
        }
    }

    /// The items a `for` loop or filter walks: list items, dict keys, string code points.
    func iterate(_ value: JinjaValue) throws -> [JinjaValue] {
        switch value {
        case .undefined: return []
        case .array(let items): return items
        case .object(let object) where object.isDict: return object.keys.map { .string($0) }
        case .string(let s): return s.unicodeScalars.map { .string(String($0)) }
        default: throw failure("'\(value.pythonTypeName)' object is not iterable")
        }
    }

    // MARK: - expressions

    func evaluate(_ expression: JinjaExpression, _ scope: JinjaScope) throws -> JinjaValue {
        try enter()
        defer { budget.depth -= 1 }
        return try evaluateNode(expression, scope)
    }

    private func evaluateNode(_ expression: JinjaExpression, _ scope: JinjaScope) throws -> JinjaValue {
        switch expression {
        case .literal(let value):
            return value
        case .name(let name):
            return lookup(name, scope)
        case .list(let items), .tuple(let items):
            return .array(try items.map { try evaluate($0, scope) })
        case .dict(let pairs):
            var object = JinjaObject()
            for pair in pairs {
                let key = try evaluate(pair.key, scope)
                guard case .string(let k) = key else {
                    throw JinjaError.unsupported(line: line, feature: "a dict literal with a non-string key")
                }
                object[k] = try evaluate(pair.value, scope)
            }
            return .object(object)
        case .attribute(let base, let name):
            // `loop.index0` and the like read the one member (a loop body asks on every item)
            if case .name(let variable) = base, case (.loop(let state), _)? = scope.find(variable), let member = state.member(name) {
                return member
            }
            return try attribute(name, of: try evaluate(base, scope), base)
        case .item(let base, let key):
            return try item(try evaluate(key, scope), of: try evaluate(base, scope), base)
        case .slice(let base, let start, let stop, let step):
            let value = try evaluate(base, scope)
            if case .undefined = value { throw undefinedError(base) }
            return try slice(value, start: try start.map { try evaluate($0, scope) },
                             stop: try stop.map { try evaluate($0, scope) }, step: try step.map { try evaluate($0, scope) })
        case .call(let callee, let arguments):
            return try call(callee, arguments, scope)
        case .filter(let base, let name, let arguments):
            return try chargeResult(try applyFilter(name, to: try evaluate(base, scope), try evaluateArguments(arguments, scope)))
        case .test(let base, let name, let arguments):
            if (name == "defined" || name == "undefined" || name == "callable"), case .name(let n) = base, isCallable(n, scope) {
                return .bool(name != "undefined")
            }
            return .bool(try applyTest(name, to: try evaluate(base, scope), try evaluateArguments(arguments, scope)))
        case .negate(let operand):
            let value = try evaluate(operand, scope)
            switch value.number {
            case .int(let i)?:
                guard i != .min else { throw failure("integer overflow") }
                return .int(-i)
            case .double(let d)?: return .double(-d)
            case nil:
                if case .undefined = value { throw undefinedError(operand) }
                throw failure("bad operand type for unary -: '\(value.pythonTypeName)'")
            }
        case .plus(let operand):
            let value = try evaluate(operand, scope)
            guard let n = value.number else {
                if case .undefined = value { throw undefinedError(operand) }
                throw failure("bad operand type for unary +: '\(value.pythonTypeName)'")
            }
            return n.value
        case .not(let operand):
            return .bool(!(try evaluate(operand, scope).isTruthy))
        case .and(let left, let right):
            let l = try evaluate(left, scope)
            return l.isTruthy ? try evaluate(right, scope) : l
        case .or(let left, let right):
            let l = try evaluate(left, scope)
            return l.isTruthy ? l : try evaluate(right, scope)
        case .binary(let op, let left, let right):
            let l = try evaluate(left, scope)
            if case .undefined = l { throw undefinedError(left) }
            let r = try evaluate(right, scope)
            if case .undefined = r { throw undefinedError(right) }
            return try binary(op, l, r)
        case .compare(let first, let operations):
            var left = try evaluate(first, scope)
            var leftExpression = first
            for (op, rightExpression) in operations {
                let right = try evaluate(rightExpression, scope)
                guard try compare(op, left, right, leftExpression, rightExpression) else { return .bool(false) }
                left = right
                leftExpression = rightExpression
            }
            return .bool(true)
        case .concat(let parts):
            let strings = try parts.map { try evaluate($0, scope).pythonString }
            try charge(strings.reduce(0) { $0 + $1.utf8.count })
            return .string(strings.joined())
        case .conditional(let then, let condition, let otherwise):
            if try evaluate(condition, scope).isTruthy { return try evaluate(then, scope) }
            return try otherwise.map { try evaluate($0, scope) } ?? .undefined
        }
    }

    func evaluateArguments(_ arguments: [JinjaArgument], _ scope: JinjaScope) throws -> JinjaCallArguments {
        var result = JinjaCallArguments()
        for argument in arguments {
            let value = try evaluate(argument.value, scope)
            if let name = argument.name { result.keywords.append((name, value)) } else { result.positional.append(value) }
        }
        return result
    }

    private func lookup(_ name: String, _ scope: JinjaScope) -> JinjaValue {
        guard let (binding, _) = scope.find(name) else { return .undefined }
        switch binding {
        case .value(let value): return value
        case .loop(let state): return state.object
        case .macro: return .undefined
        }
    }

    /// Whether `name` is a macro or a global function (defined and callable, though not a value).
    private func isCallable(_ name: String, _ scope: JinjaScope) -> Bool {
        if let (binding, _) = scope.find(name) {
            if case .macro = binding { return true }
            return false
        }
        return JinjaEvaluator.globalFunctionNames.contains(name)
    }

    /// jinja2's UndefinedError for the value `expression` produced.
    func undefinedError(_ expression: JinjaExpression) -> JinjaError {
        switch expression {
        case .name(let name): return failure("'\(name)' is undefined")
        case .attribute(_, let name): return failure("'\(name)' is undefined (no such attribute or key)")
        case .item: return failure("an undefined item was used")
        default: return failure("an undefined value was used")
        }
    }

    /// `value.name` as jinja2's sandboxed getattr: a Python attribute first (a method of str,
    /// dict or list, or a namespace attribute), then the dict key; undefined when neither exists.
    func attribute(_ name: String, of value: JinjaValue, _ base: JinjaExpression? = nil) throws -> JinjaValue {
        if case .undefined = value {
            throw base.map(undefinedError) ?? failure("attribute '\(name)' of an undefined value")
        }
        if let method = JinjaEvaluator.boundMethod(name, of: value) { return method }
        if case .object(let object) = value {
            switch object.kind {
            case .dict, .namespace: return object[name] ?? .undefined
            case .method: return .undefined
            }
        }
        return .undefined
    }

    /// `value[key]`: list/string index (negative from the end), dict key; undefined when missing.
    func item(_ key: JinjaValue, of value: JinjaValue, _ base: JinjaExpression? = nil) throws -> JinjaValue {
        switch value {
        case .undefined:
            throw base.map(undefinedError) ?? failure("item of an undefined value")
        case .object(let object):
            guard case .string(let k) = key else { return .undefined }
            switch object.kind {
            case .dict: return object[k] ?? JinjaEvaluator.boundMethod(k, of: value) ?? .undefined
            case .namespace: return object[k] ?? .undefined
            case .method: return .undefined
            }
        case .array(let items):
            if case .string(let k) = key { return JinjaEvaluator.boundMethod(k, of: value) ?? .undefined }
            guard case .int(var i)? = key.number, !isDouble(key) else { return .undefined }
            if i < 0 { i += items.count }
            return items.indices.contains(i) ? items[i] : .undefined
        case .string(let s):
            if case .string(let k) = key { return JinjaEvaluator.boundMethod(k, of: value) ?? .undefined }
            guard case .int(var i)? = key.number, !isDouble(key) else { return .undefined }
            let scalars = JinjaPythonString.scalars(s)
            if i < 0 { i += scalars.count }
            return scalars.indices.contains(i) ? .string(String(scalars[i])) : .undefined
        default:
            return .undefined
        }
    }

    private func isDouble(_ value: JinjaValue) -> Bool {
        if case .double = value { return true }
        return false
    }

    /// Python slicing of a list or string; other values give undefined, as in jinja2.
    private func slice(_ value: JinjaValue, start: JinjaValue?, stop: JinjaValue?, step: JinjaValue?) throws -> JinjaValue {
        func bound(_ v: JinjaValue?) throws -> Int? {
            guard let v else { return nil }
            if case .none = v { return nil }
            guard case .int(let i)? = v.number, !isDouble(v) else {
                throw failure("slice indices must be integers or None or have an __index__ method")
            }
            return i
        }
        let step = try bound(step) ?? 1
        guard step != 0 else { throw failure("slice step cannot be zero") }
        let (start, stop) = (try bound(start), try bound(stop))
        func indices(_ count: Int) -> [Int] {
            let (lower, upper) = step > 0 ? (0, count) : (-1, count - 1)
            func adjust(_ v: Int?, _ fallback: Int) -> Int {
                guard var v else { return fallback }
                if v < 0 { v += count; return max(v, lower) }
                return min(v, upper)
            }
            var i = adjust(start, step > 0 ? lower : upper)
            let end = adjust(stop, step > 0 ? upper : lower)
            var result: [Int] = []
            while step > 0 ? i < end : i > end {
                result.append(i)
                i += step
            }
            return result
        }
        switch value {
        case .array(let items):
            return .array(indices(items.count).map { items[$0] })
        case .string(let s):
            let scalars = JinjaPythonString.scalars(s)
            return .string(JinjaPythonString.string(indices(scalars.count).map { scalars[$0] }))
        default:
            return .undefined
        }
    }

    // MARK: - calls

    private func call(_ callee: JinjaExpression, _ argumentExpressions: [JinjaArgument], _ scope: JinjaScope) throws -> JinjaValue {
        switch callee {
        case .attribute(let baseExpression, let name):
            if name == "cycle", case .name(let n) = baseExpression, case (.loop(let state), _)? = scope.find(n) {
                let arguments = try evaluateArguments(argumentExpressions, scope)
                guard !arguments.positional.isEmpty else { throw failure("no items for cycling given") }
                return arguments.positional[state.index0 % arguments.positional.count]
            }
            let base = try evaluate(baseExpression, scope)
            if case .undefined = base { throw undefinedError(baseExpression) }
            let arguments = try evaluateArguments(argumentExpressions, scope)
            if let result = try callMethod(name, on: base, arguments) { return try chargeResult(result) }
            if case .undefined = try attribute(name, of: base) {
                throw failure("'\(base.pythonTypeName) object' has no attribute '\(name)'")
            }
            throw failure("'\(name)' is not callable")
        case .name(let name):
            if let (binding, _) = scope.find(name) {
                switch binding {
                case .macro(let macro, let definedIn):
                    return try callMacro(macro, definedIn, try evaluateArguments(argumentExpressions, scope))
                case .value(.undefined):
                    throw failure("'\(name)' is undefined")
                default:
                    throw failure("'\(name)' is not callable")
                }
            }
            if JinjaEvaluator.globalFunctionNames.contains(name) {
                return try callGlobal(name, try evaluateArguments(argumentExpressions, scope))
            }
            throw failure("'\(name)' is undefined")
        default:
            let value = try evaluate(callee, scope)
            if case .undefined = value { throw undefinedError(callee) }
            throw failure("'\(value.pythonTypeName)' object is not callable")
        }
    }

    private func callMacro(_ macro: JinjaMacro, _ definedIn: JinjaScope, _ arguments: JinjaCallArguments) throws -> JinjaValue {
        budget.macroDepth += 1
        defer { budget.macroDepth -= 1 }
        guard budget.macroDepth <= budget.limits.macroCalls else {
            throw JinjaError.limit(line: line, limit: "macro call depth of \(budget.limits.macroCalls) (macro '\(macro.name)' recurses too deep)")
        }
        let scope = JinjaScope(parent: definedIn)
        guard arguments.positional.count <= macro.parameters.count else {
            throw failure("macro '\(macro.name)' takes not more than \(macro.parameters.count) argument(s)")
        }
        for keyword in arguments.keywords where !macro.parameters.contains(where: { $0.name == keyword.name }) {
            throw failure("macro '\(macro.name)' takes no keyword argument '\(keyword.name)'")
        }
        let savedLine = line
        for (index, parameter) in macro.parameters.enumerated() {
            if let value = arguments.value(index, parameter.name) {
                scope.bindings[parameter.name] = .value(value)
            } else if let defaultValue = parameter.defaultValue {
                scope.bindings[parameter.name] = .value(try evaluate(defaultValue, scope))
            } else {
                scope.bindings[parameter.name] = .value(.undefined)
            }
        }
        var out = ""
        _ = try execute(macro.body, scope, &out)
        line = savedLine
        return .string(out)
    }

    // MARK: - operators

    func binary(_ op: JinjaBinaryOperator, _ l: JinjaValue, _ r: JinjaValue) throws -> JinjaValue {
        func unsupported() -> JinjaError {
            failure("unsupported operand type(s) for \(op.rawValue): '\(l.pythonTypeName)' and '\(r.pythonTypeName)'")
        }
        func overflow() -> JinjaError { failure("integer overflow (Python would switch to a big integer)") }
        switch op {
        case .add:
            switch (l, r) {
            case (.string(let a), .string(let b)):
                try charge(a.utf8.count + b.utf8.count)
                return .string(a + b)
            case (.array(let a), .array(let b)):
                try charge(16, times: a.count + b.count)
                return .array(a + b)
            case (.string, _): throw failure("can only concatenate str (not \"\(r.pythonTypeName)\") to str")
            case (.array, _): throw failure("can only concatenate list (not \"\(r.pythonTypeName)\") to list")
            default: break
            }
            guard let a = l.number, let b = r.number else { throw unsupported() }
            if case .int(let x) = a, case .int(let y) = b {
                let (v, o) = x.addingReportingOverflow(y)
                if o { throw overflow() }
                return .int(v)
            }
            return .double(a.doubleValue + b.doubleValue)
        case .subtract:
            guard let a = l.number, let b = r.number else { throw unsupported() }
            if case .int(let x) = a, case .int(let y) = b {
                let (v, o) = x.subtractingReportingOverflow(y)
                if o { throw overflow() }
                return .int(v)
            }
            return .double(a.doubleValue - b.doubleValue)
        case .multiply:
            switch (l, r) {
            case (.string(let s), _), (_, .string(let s)):
                guard case .int(let n)? = (isString(l) ? r : l).number, !isDouble(isString(l) ? r : l) else {
                    throw failure("can't multiply sequence by non-int of type '\((isString(l) ? r : l).pythonTypeName)'")
                }
                try charge(s.utf8.count, times: n)
                return .string(n > 0 ? String(repeating: s, count: n) : "")
            case (.array(let a), _), (_, .array(let a)):
                guard case .int(let n)? = (isArray(l) ? r : l).number, !isDouble(isArray(l) ? r : l) else {
                    throw failure("can't multiply sequence by non-int of type '\((isArray(l) ? r : l).pythonTypeName)'")
                }
                try charge(16 * a.count, times: n)
                return .array(n > 0 ? Array([[JinjaValue]](repeating: a, count: n).joined()) : [])
            default: break
            }
            guard let a = l.number, let b = r.number else { throw unsupported() }
            if case .int(let x) = a, case .int(let y) = b {
                let (v, o) = x.multipliedReportingOverflow(by: y)
                if o { throw overflow() }
                return .int(v)
            }
            return .double(a.doubleValue * b.doubleValue)
        case .divide:
            guard let a = l.number, let b = r.number else { throw unsupported() }
            guard b.doubleValue != 0 else { throw failure("division by zero") }
            return .double(a.doubleValue / b.doubleValue)
        case .floorDivide:
            guard let a = l.number, let b = r.number else { throw unsupported() }
            if case .int(let x) = a, case .int(let y) = b {
                guard y != 0 else { throw failure("integer division or modulo by zero") }
                return .int(JinjaEvaluator.floorDivide(x, y))
            }
            guard b.doubleValue != 0 else { throw failure("float floor division by zero") }
            return .double(JinjaEvaluator.floatDivMod(a.doubleValue, b.doubleValue).div)
        case .modulo:
            if case .string(let format) = l { return .string(try percentFormat(format, r)) }
            guard let a = l.number, let b = r.number else { throw unsupported() }
            if case .int(let x) = a, case .int(let y) = b {
                guard y != 0 else { throw failure("integer division or modulo by zero") }
                return .int(x - JinjaEvaluator.floorDivide(x, y) * y)
            }
            guard b.doubleValue != 0 else { throw failure("float modulo") }
            return .double(JinjaEvaluator.floatDivMod(a.doubleValue, b.doubleValue).mod)
        case .power:
            guard let a = l.number, let b = r.number else { throw unsupported() }
            if case .int(var base) = a, case .int(var exponent) = b, exponent >= 0 {
                var result = 1
                while exponent > 0 {
                    if exponent & 1 == 1 {
                        let (v, o) = result.multipliedReportingOverflow(by: base)
                        if o { throw overflow() }
                        result = v
                    }
                    exponent >>= 1
                    if exponent > 0 {
                        let (v, o) = base.multipliedReportingOverflow(by: base)
                        if o { throw overflow() }
                        base = v
                    }
                }
                return .int(result)
            }
            if a.doubleValue == 0 && b.doubleValue < 0 { throw failure("0.0 cannot be raised to a negative power") }
            return .double(Foundation.pow(a.doubleValue, b.doubleValue))
        }
    }

    private func isString(_ v: JinjaValue) -> Bool {
        if case .string = v { return true }
        return false
    }

    private func isArray(_ v: JinjaValue) -> Bool {
        if case .array = v { return true }
        return false
    }

    static func floorDivide(_ x: Int, _ y: Int) -> Int {
        let q = x / y
        return (x % y != 0 && (x < 0) != (y < 0)) ? q - 1 : q
    }

    /// Python's float `divmod`.
    static func floatDivMod(_ vx: Double, _ wx: Double) -> (div: Double, mod: Double) {
        var mod = fmod(vx, wx)
        var div = (vx - mod) / wx
        if mod != 0 {
            if (wx < 0) != (mod < 0) {
                mod += wx
                div -= 1
            }
        } else {
            mod = copysign(0, wx)
        }
        var floorDiv: Double
        if div != 0 {
            floorDiv = div.rounded(.down)
            if div - floorDiv > 0.5 { floorDiv += 1 }
        } else {
            floorDiv = copysign(0, vx / wx)
        }
        return (floorDiv, mod)
    }

    private func compare(_ op: JinjaComparisonOperator, _ l: JinjaValue, _ r: JinjaValue,
                         _ le: JinjaExpression, _ re: JinjaExpression) throws -> Bool {
        switch op {
        case .equal: return l.pythonEquals(r)
        case .notEqual: return !l.pythonEquals(r)
        case .contains: return try contains(r, l)
        case .notContains: return try !contains(r, l)
        case .less, .lessOrEqual, .greater, .greaterOrEqual:
            if case .undefined = l { throw undefinedError(le) }
            if case .undefined = r { throw undefinedError(re) }
            guard let order = l.pythonCompare(r) else {
                throw failure("'\(op.rawValue)' not supported between instances of '\(l.pythonTypeName)' and '\(r.pythonTypeName)'")
            }
            switch op {
            case .less: return order < 0
            case .lessOrEqual: return order <= 0
            case .greater: return order > 0
            default: return order >= 0
            }
        }
    }

    /// Python `element in container`.
    func contains(_ container: JinjaValue, _ element: JinjaValue) throws -> Bool {
        switch container {
        case .undefined: return false
        case .string(let s):
            guard case .string(let needle) = element else {
                throw failure("'in <string>' requires string as left operand, not \(element.pythonTypeName)")
            }
            return JinjaPythonString.contains(s, needle)
        case .array(let items): return items.contains { $0.pythonEquals(element) }
        case .object(let object) where object.isDict:
            if case .string(let key) = element { return object[key] != nil }
            return false
        default:
            throw failure("argument of type '\(container.pythonTypeName)' is not iterable")
        }
    }
}
