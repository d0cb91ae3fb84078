// JinjaAST: the parsed form of a template — statements (text, output, if, for, set, macro, …)
// and expressions, mirroring jinja2's node types. Pure data: the parser builds it, the evaluator
// walks it. Statements carry the line they start on for runtime error messages.

/// An expression inside `{{ … }}` or a statement.
indirect enum JinjaExpression: Sendable {
    case literal(JinjaValue)
    case name(String)
    case list([JinjaExpression])
    /// A tuple literal; evaluated as a list.
    case tuple([JinjaExpression])
    case dict([(key: JinjaExpression, value: JinjaExpression)])
    /// `x.name`
    case attribute(JinjaExpression, String)
    /// `x[key]`
    case item(JinjaExpression, JinjaExpression)
    /// `x[start:stop:step]`
    case slice(JinjaExpression, start: JinjaExpression?, stop: JinjaExpression?, step: JinjaExpression?)
    case call(JinjaExpression, [JinjaArgument])
    /// `x | name(args)`
    case filter(JinjaExpression, name: String, arguments: [JinjaArgument])
    /// `x is name(args)`; `is not` is `.not(.test(…))`.
    case test(JinjaExpression, name: String, arguments: [JinjaArgument])
    case negate(JinjaExpression)
    case plus(JinjaExpression)
    case not(JinjaExpression)
    case and(JinjaExpression, JinjaExpression)
    case or(JinjaExpression, JinjaExpression)
    case binary(JinjaBinaryOperator, JinjaExpression, JinjaExpression)
    /// `a < b <= c`: Python's chained comparison.
    case compare(JinjaExpression, [(JinjaComparisonOperator, JinjaExpression)])
    /// `a ~ b ~ c`
    case concat([JinjaExpression])
    /// `then if condition else otherwise`
    case conditional(then: JinjaExpression, condition: JinjaExpression, otherwise: JinjaExpression?)
}

enum JinjaBinaryOperator: String, Sendable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", floorDivide = "//", modulo = "%", power = "**"
}

enum JinjaComparisonOperator: String, Sendable {
    case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    case contains = "in", notContains = "not in"
}

/// A call argument, positional (`name == nil`) or keyword.
struct JinjaArgument: Sendable {
    let name: String?
    let value: JinjaExpression
}

/// What a `set` or `for` assigns to.
enum JinjaAssignTarget: Sendable {
    case name(String)
    /// `a, b` unpacking.
    case names([String])
    /// `ns.attr` on a namespace.
    case namespaceAttribute(String, String)
}

/// A `{% macro name(params) %}` definition.
struct JinjaMacro: Sendable {
    let name: String
    let parameters: [(name: String, defaultValue: JinjaExpression?)]
    let body: [JinjaStatement]
}

/// A `{% for %}` loop.
struct JinjaForLoop: Sendable {
    let target: JinjaAssignTarget
    let iterable: JinjaExpression
    let condition: JinjaExpression?
    let body: [JinjaStatement]
    let elseBody: [JinjaStatement]
}

/// One statement of a template body.
indirect enum JinjaStatement: Sendable {
    case text(String)
    case output(JinjaExpression, line: Int)
    case ifChain([(condition: JinjaExpression, body: [JinjaStatement])], elseBody: [JinjaStatement], line: Int)
    case forLoop(JinjaForLoop, line: Int)
    case set(JinjaAssignTarget, JinjaExpression, line: Int)
    /// `{% set x %}…{% endset %}`, optionally filtered.
    case setBlock(JinjaAssignTarget, filters: [(name: String, arguments: [JinjaArgument])], body: [JinjaStatement], line: Int)
    case macro(JinjaMacro, line: Int)
    /// `{% filter f %}…{% endfilter %}`
    case filterBlock(filters: [(name: String, arguments: [JinjaArgument])], body: [JinjaStatement], line: Int)
    /// `{% with a = 1 %}…{% endwith %}` and `{% generation %}…{% endgeneration %}`: a body in its own scope.
    case scope(assignments: [(JinjaAssignTarget, JinjaExpression)], body: [JinjaStatement], line: Int)
    case breakLoop(line: Int)
    case continueLoop(line: Int)
}
