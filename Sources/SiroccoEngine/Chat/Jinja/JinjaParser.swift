// JinjaParser: tokens → JinjaAST, a recursive-descent port of jinja2's parser.py so precedence
// and corner cases match: `x if c else y` < `or` < `and` < `not` < comparisons/`in` < `+ -`
// < `~` < `* / // %` < `**` < unary `-`/`+` < filters `|` and tests `is` < postfix `.` `[]` `()`.
// Unknown filters and tests are rejected here, at compile time, as jinja2 does.

struct JinjaParser {
    private let tokens: [JinjaToken]
    private var index = 0
    private var loopDepth = 0
    /// Expressions and blocks open around the current token (bounded: the parser recurses).
    private var nesting = 0
    private let maximumNesting: Int

    init(_ tokens: [JinjaToken], limits: JinjaLimits = .standard) {
        self.tokens = tokens
        maximumNesting = limits.nesting
    }

    /// Opens one level of nesting; the caller closes it with `nesting -= 1`.
    private mutating func nest() throws {
        nesting += 1
        guard nesting <= maximumNesting else {
            throw JinjaError.limit(line: current.line, limit: "nesting depth of \(maximumNesting) (expressions or blocks inside each other)")
        }
    }

    /// The whole template body.
    mutating func parseTemplate() throws -> [JinjaStatement] {
        let (body, _) = try parseBody(endingAt: [])
        return body
    }

    // MARK: - token stream

    private var current: JinjaToken { tokens[index] }

    private func peek(_ offset: Int = 1) -> JinjaToken { tokens[min(index + offset, tokens.count - 1)] }

    private mutating func advance() { if index < tokens.count - 1 { index += 1 } }

    private func isOp(_ op: String, _ token: JinjaToken? = nil) -> Bool {
        if case .op(let o) = (token ?? current).kind { return o == op }
        return false
    }

    private func isName(_ name: String, _ token: JinjaToken? = nil) -> Bool {
        if case .name(let n) = (token ?? current).kind { return n == name }
        return false
    }

    private mutating func skipOp(_ op: String) -> Bool {
        guard isOp(op) else { return false }
        advance()
        return true
    }

    private mutating func skipName(_ name: String) -> Bool {
        guard isName(name) else { return false }
        advance()
        return true
    }

    private func describe(_ token: JinjaToken) -> String {
        switch token.kind {
        case .text: return "template data"
        case .variableBegin: return "begin of print statement"
        case .variableEnd: return "end of print statement"
        case .blockBegin: return "begin of statement block"
        case .blockEnd: return "end of statement block"
        case .name(let n): return n
        case .string: return "string"
        case .integer: return "integer"
        case .float: return "float"
        case .op(let o): return o
        case .endOfInput: return "end of template"
        }
    }

    private func fail(_ message: String, _ token: JinjaToken? = nil) -> JinjaError {
        .syntax(line: (token ?? current).line, message: message)
    }

    private mutating func expectOp(_ op: String) throws {
        guard skipOp(op) else { throw fail("expected token '\(op)', got '\(describe(current))'") }
    }

    private mutating func expectName() throws -> String {
        guard case .name(let n) = current.kind else { throw fail("expected token 'name', got '\(describe(current))'") }
        advance()
        return n
    }

    private mutating func expectName(_ name: String) throws {
        guard skipName(name) else { throw fail("expected token '\(name)', got '\(describe(current))'") }
    }

    private mutating func expectBlockEnd() throws {
        guard case .blockEnd = current.kind else {
            throw fail("expected token 'end of statement block', got '\(describe(current))'")
        }
        advance()
    }

    // MARK: - statements

    /// Statements up to a `{% tag %}` whose name is in `endTags`; the current token is then that name.
    private mutating func parseBody(endingAt endTags: Set<String>) throws -> ([JinjaStatement], String?) {
        var body: [JinjaStatement] = []
        while true {
            let token = current
            switch token.kind {
            case .text(let text):
                body.append(.text(text))
                advance()
            case .variableBegin:
                advance()
                let expression = try parseTuple()
                guard case .variableEnd = current.kind else {
                    throw fail("expected token 'end of print statement', got '\(describe(current))'")
                }
                advance()
                body.append(.output(expression, line: token.line))
            case .blockBegin:
                advance()
                if case .name(let tag) = current.kind, endTags.contains(tag) { return (body, tag) }
                body.append(contentsOf: try parseStatement())
                try expectBlockEnd()
            case .endOfInput:
                if endTags.isEmpty { return (body, nil) }
                let expected = endTags.sorted().map { "'\($0)'" }.joined(separator: " or ")
                throw fail("Unexpected end of template. Jinja was looking for the following tags: \(expected).")
            default:
                throw fail("unexpected '\(describe(token))'")
            }
        }
    }

    /// `parse_statements`: a `%}`, then a body up to one of `endTags`; with `consumeEnd` the end tag
    /// name is consumed too.
    private mutating func parseStatements(endingAt endTags: Set<String>, consumeEnd: Bool) throws -> ([JinjaStatement], String) {
        try expectBlockEnd()
        let (body, end) = try parseBody(endingAt: endTags)
        guard let end else { throw fail("Unexpected end of template.") }
        if consumeEnd { advance() }
        return (body, end)
    }

    private mutating func parseStatement() throws -> [JinjaStatement] {
        try nest()
        defer { nesting -= 1 }
        let token = current
        guard case .name(let tag) = token.kind else { throw fail("tag name expected") }
        switch tag {
        case "if": return [try parseIf()]
        case "for": return [try parseFor()]
        case "set": return [try parseSet()]
        case "macro": return [try parseMacro()]
        case "filter": return [try parseFilterBlock()]
        case "with": return [try parseWith()]
        case "generation":
            advance()
            let (body, _) = try parseStatements(endingAt: ["endgeneration"], consumeEnd: true)
            return [.scope(assignments: [], body: body, line: token.line)]
        case "break", "continue":
            guard loopDepth > 0 else { throw fail("'\(tag)' outside of a loop") }
            advance()
            return [tag == "break" ? .breakLoop(line: token.line) : .continueLoop(line: token.line)]
        case "call", "include", "import", "from", "extends", "block", "autoescape", "do":
            throw JinjaError.unsupported(line: token.line, feature: "the '\(tag)' tag")
        default:
            throw fail("Encountered unknown tag '\(tag)'.")
        }
    }

    private mutating func parseIf() throws -> JinjaStatement {
        let line = current.line
        advance()
        var branches: [(condition: JinjaExpression, body: [JinjaStatement])] = []
        var elseBody: [JinjaStatement] = []
        while true {
            let condition = try parseTuple(withConditional: false)
            let (body, end) = try parseStatements(endingAt: ["elif", "else", "endif"], consumeEnd: true)
            branches.append((condition, body))
            if end == "elif" { continue }
            if end == "else" {
                (elseBody, _) = try parseStatements(endingAt: ["endif"], consumeEnd: true)
            }
            break
        }
        return .ifChain(branches, elseBody: elseBody, line: line)
    }

    private mutating func parseFor() throws -> JinjaStatement {
        let line = current.line
        advance()
        let target = try parseAssignTarget(endNames: ["in"], allowNamespace: false)
        try expectName("in")
        let iterable = try parseTuple(withConditional: false, endNames: ["recursive"])
        var condition: JinjaExpression? = nil
        if skipName("if") { condition = try parseExpression() }
        if isName("recursive") { throw JinjaError.unsupported(line: current.line, feature: "recursive loops") }
        loopDepth += 1
        let (body, end) = try parseStatements(endingAt: ["endfor", "else"], consumeEnd: true)
        loopDepth -= 1
        var elseBody: [JinjaStatement] = []
        if end == "else" { (elseBody, _) = try parseStatements(endingAt: ["endfor"], consumeEnd: true) }
        return .forLoop(JinjaForLoop(target: target, iterable: iterable, condition: condition, body: body, elseBody: elseBody), line: line)
    }

    private mutating func parseSet() throws -> JinjaStatement {
        let line = current.line
        advance()
        let target = try parseAssignTarget(endNames: [], allowNamespace: true)
        if skipOp("=") { return .set(target, try parseTuple(), line: line) }
        let filters = try parseFilterChain(startInline: false)
        let (body, _) = try parseStatements(endingAt: ["endset"], consumeEnd: true)
        return .setBlock(target, filters: filters, body: body, line: line)
    }

    private mutating func parseMacro() throws -> JinjaStatement {
        let line = current.line
        advance()
        let name = try expectName()
        try expectOp("(")
        var parameters: [(name: String, defaultValue: JinjaExpression?)] = []
        while !isOp(")") {
            if !parameters.isEmpty { try expectOp(",") }
            if isOp(")") { break }
            let parameter = try expectName()
            var defaultValue: JinjaExpression? = nil
            if skipOp("=") {
                defaultValue = try parseExpression()
            } else if parameters.contains(where: { $0.defaultValue != nil }) {
                throw fail("non-default argument follows default argument")
            }
            parameters.append((parameter, defaultValue))
        }
        try expectOp(")")
        let savedLoopDepth = loopDepth
        loopDepth = 0
        let (body, _) = try parseStatements(endingAt: ["endmacro"], consumeEnd: true)
        loopDepth = savedLoopDepth
        return .macro(JinjaMacro(name: name, parameters: parameters, body: body), line: line)
    }

    private mutating func parseFilterBlock() throws -> JinjaStatement {
        let line = current.line
        advance()
        let filters = try parseFilterChain(startInline: true)
        let (body, _) = try parseStatements(endingAt: ["endfilter"], consumeEnd: true)
        return .filterBlock(filters: filters, body: body, line: line)
    }

    private mutating func parseWith() throws -> JinjaStatement {
        let line = current.line
        advance()
        var assignments: [(JinjaAssignTarget, JinjaExpression)] = []
        while !isBlockEnd {
            if !assignments.isEmpty { try expectOp(",") }
            let target = try parseAssignTarget(endNames: [], allowNamespace: false)
            try expectOp("=")
            assignments.append((target, try parseExpression()))
        }
        let (body, _) = try parseStatements(endingAt: ["endwith"], consumeEnd: true)
        return .scope(assignments: assignments, body: body, line: line)
    }

    private var isBlockEnd: Bool {
        if case .blockEnd = current.kind { return true }
        return false
    }

    private mutating func parseAssignTarget(endNames: Set<String>, allowNamespace: Bool) throws -> JinjaAssignTarget {
        if allowNamespace, case .name(let base) = current.kind, isOp(".", peek()) {
            advance()
            advance()
            return .namespaceAttribute(base, try expectName())
        }
        var names: [String] = []
        var parenthesized = false
        if skipOp("(") { parenthesized = true }
        while true {
            if !names.isEmpty {
                guard skipOp(",") else { break }
            }
            if case .name(let n) = current.kind, !endNames.contains(n) {
                if ["true", "false", "none", "True", "False", "None"].contains(n) {
                    throw fail("can't assign to '\(n)'")
                }
                names.append(n)
                advance()
            } else if names.isEmpty {
                throw fail("can't assign to '\(describe(current))'")
            } else {
                break
            }
        }
        if parenthesized { try expectOp(")") }
        return names.count == 1 ? .name(names[0]) : .names(names)
    }

    // MARK: - expressions

    private func isTupleEnd(_ endNames: Set<String>) -> Bool {
        switch current.kind {
        case .variableEnd, .blockEnd: return true
        case .op(")"): return true
        case .name(let n): return endNames.contains(n)
        default: return false
        }
    }

    /// `parse_tuple`: one expression, or a comma-separated tuple.
    private mutating func parseTuple(withConditional: Bool = true, endNames: Set<String> = [],
                                     explicitParentheses: Bool = false) throws -> JinjaExpression {
        var items: [JinjaExpression] = []
        var isTuple = false
        while true {
            if !items.isEmpty { try expectOp(",") }
            if isTupleEnd(endNames) { break }
            items.append(withConditional ? try parseExpression() : try parseOr())
            if isOp(",") { isTuple = true } else { break }
        }
        if !isTuple {
            if let only = items.first { return only }
            if !explicitParentheses { throw fail("Expected an expression, got '\(describe(current))'") }
        }
        return .tuple(items)
    }

    private mutating func parseExpression() throws -> JinjaExpression {
        try nest()
        defer { nesting -= 1 }
        var expression = try parseOr()
        while skipName("if") {
            let condition = try parseOr()
            var otherwise: JinjaExpression? = nil
            if skipName("else") { otherwise = try parseExpression() }
            expression = .conditional(then: expression, condition: condition, otherwise: otherwise)
        }
        return expression
    }

    private mutating func parseOr() throws -> JinjaExpression {
        var left = try parseAnd()
        while skipName("or") { left = .or(left, try parseAnd()) }
        return left
    }

    private mutating func parseAnd() throws -> JinjaExpression {
        var left = try parseNot()
        while skipName("and") { left = .and(left, try parseNot()) }
        return left
    }

    private mutating func parseNot() throws -> JinjaExpression {
        if skipName("not") {
            try nest()
            defer { nesting -= 1 }
            return .not(try parseNot())
        }
        return try parseCompare()
    }

    private mutating func parseCompare() throws -> JinjaExpression {
        let first = try parseMath1()
        var operations: [(JinjaComparisonOperator, JinjaExpression)] = []
        while true {
            if case .op(let o) = current.kind, let op = JinjaComparisonOperator(rawValue: o), op != .contains, op != .notContains {
                advance()
                operations.append((op, try parseMath1()))
            } else if skipName("in") {
                operations.append((.contains, try parseMath1()))
            } else if isName("not") && isName("in", peek()) {
                advance()
                advance()
                operations.append((.notContains, try parseMath1()))
            } else {
                break
            }
        }
        return operations.isEmpty ? first : .compare(first, operations)
    }

    private mutating func parseMath1() throws -> JinjaExpression {
        var left = try parseConcat()
        while case .op(let o) = current.kind, o == "+" || o == "-" {
            advance()
            left = .binary(o == "+" ? .add : .subtract, left, try parseConcat())
        }
        return left
    }

    private mutating func parseConcat() throws -> JinjaExpression {
        var parts = [try parseMath2()]
        while skipOp("~") { parts.append(try parseMath2()) }
        return parts.count == 1 ? parts[0] : .concat(parts)
    }

    private mutating func parseMath2() throws -> JinjaExpression {
        var left = try parsePower()
        while case .op(let o) = current.kind, let op = JinjaBinaryOperator(rawValue: o),
              op == .multiply || op == .divide || op == .floorDivide || op == .modulo {
            advance()
            left = .binary(op, left, try parsePower())
        }
        return left
    }

    private mutating func parsePower() throws -> JinjaExpression {
        var left = try parseUnary()
        while skipOp("**") { left = .binary(.power, left, try parseUnary()) }
        return left
    }

    private mutating func parseUnary(withFilter: Bool = true) throws -> JinjaExpression {
        try nest()
        defer { nesting -= 1 }
        var node: JinjaExpression
        if skipOp("-") {
            node = .negate(try parseUnary(withFilter: false))
        } else if skipOp("+") {
            node = .plus(try parseUnary(withFilter: false))
        } else {
            node = try parsePrimary()
        }
        node = try parsePostfix(node)
        if withFilter { node = try parseFilterExpression(node) }
        return node
    }

    private mutating func parsePrimary() throws -> JinjaExpression {
        let token = current
        switch token.kind {
        case .name(let n):
            advance()
            switch n {
            case "true", "True": return .literal(.bool(true))
            case "false", "False": return .literal(.bool(false))
            case "none", "None": return .literal(.none)
            default: return .name(n)
            }
        case .string(let s):
            advance()
            var text = s
            while case .string(let more) = current.kind {
                text += more
                advance()
            }
            return .literal(.string(text))
        case .integer(let i):
            advance()
            return .literal(.int(i))
        case .float(let d):
            advance()
            return .literal(.double(d))
        case .op("("):
            advance()
            let inner = try parseTuple(explicitParentheses: true)
            try expectOp(")")
            return inner
        case .op("["):
            advance()
            var items: [JinjaExpression] = []
            while !isOp("]") {
                if !items.isEmpty { try expectOp(",") }
                if isOp("]") { break }
                items.append(try parseExpression())
            }
            try expectOp("]")
            return .list(items)
        case .op("{"):
            advance()
            var pairs: [(key: JinjaExpression, value: JinjaExpression)] = []
            while !isOp("}") {
                if !pairs.isEmpty { try expectOp(",") }
                if isOp("}") { break }
                let key = try parseExpression()
                try expectOp(":")
                pairs.append((key, try parseExpression()))
            }
            try expectOp("}")
            return .dict(pairs)
        default:
            throw fail("unexpected '\(describe(token))'")
        }
    }

    private mutating func parsePostfix(_ start: JinjaExpression) throws -> JinjaExpression {
        var node = start
        while true {
            if isOp(".") || isOp("[") {
                node = try parseSubscript(node)
            } else if isOp("(") {
                node = .call(node, try parseCallArguments())
            } else {
                return node
            }
        }
    }

    private mutating func parseFilterExpression(_ start: JinjaExpression) throws -> JinjaExpression {
        var node = start
        while true {
            if isOp("|") {
                for (name, arguments) in try parseFilterChain(startInline: false) {
                    node = .filter(node, name: name, arguments: arguments)
                }
            } else if isName("is") {
                node = try parseTest(node)
            } else if isOp("(") {
                node = .call(node, try parseCallArguments())
            } else {
                return node
            }
        }
    }

    /// `| name(args) | name …`; with `startInline` the first filter has no leading `|`.
    private mutating func parseFilterChain(startInline: Bool) throws -> [(name: String, arguments: [JinjaArgument])] {
        var filters: [(name: String, arguments: [JinjaArgument])] = []
        var inline = startInline
        while isOp("|") || inline {
            if !inline { advance() }
            inline = false
            let token = current
            var name = try expectName()
            while skipOp(".") { name += "." + (try expectName()) }
            guard JinjaEvaluator.filterNames.contains(name) else {
                if JinjaEvaluator.unsupportedFilterNames.contains(name) {
                    throw JinjaError.unsupported(line: token.line, feature: "the '\(name)' filter")
                }
                throw fail("No filter named '\(name)'.", token)
            }
            let arguments = isOp("(") ? try parseCallArguments() : []
            filters.append((name, arguments))
        }
        return filters
    }

    private mutating func parseTest(_ node: JinjaExpression) throws -> JinjaExpression {
        let token = current
        advance()
        let negated = skipName("not")
        var name = try expectName()
        while skipOp(".") { name += "." + (try expectName()) }
        guard JinjaEvaluator.testNames.contains(name) else {
            if JinjaEvaluator.unsupportedTestNames.contains(name) {
                throw JinjaError.unsupported(line: token.line, feature: "the '\(name)' test")
            }
            throw fail("No test named '\(name)'.", token)
        }
        var arguments: [JinjaArgument] = []
        if isOp("(") {
            arguments = try parseCallArguments()
        } else {
            let startsArgument: Bool
            switch current.kind {
            case .name(let n): startsArgument = !["else", "or", "and"].contains(n)
            case .string, .integer, .float, .op("("), .op("["), .op("{"): startsArgument = true
            default: startsArgument = false
            }
            if startsArgument {
                if isName("is") { throw fail("You cannot chain multiple tests with is") }
                arguments = [JinjaArgument(name: nil, value: try parsePostfix(try parsePrimary()))]
            }
        }
        let test = JinjaExpression.test(node, name: name, arguments: arguments)
        return negated ? .not(test) : test
    }

    private mutating func parseSubscript(_ node: JinjaExpression) throws -> JinjaExpression {
        if skipOp(".") {
            let token = current
            switch token.kind {
            case .name(let n):
                advance()
                return .attribute(node, n)
            case .integer(let i):
                advance()
                return .item(node, .literal(.int(i)))
            default:
                throw fail("expected name or number")
            }
        }
        try expectOp("[")
        var subscripts: [JinjaExpression] = []
        while !isOp("]") {
            if !subscripts.isEmpty { try expectOp(",") }
            subscripts.append(try parseSubscribed(node))
        }
        try expectOp("]")
        if subscripts.count == 1, case .slice = subscripts[0] { return subscripts[0] }
        guard let first = subscripts.first else { throw fail("expected an index") }
        return .item(node, subscripts.count == 1 ? first : .tuple(subscripts))
    }

    /// One subscript: an expression or a `start:stop:step` slice of `node`.
    private mutating func parseSubscribed(_ node: JinjaExpression) throws -> JinjaExpression {
        var start: JinjaExpression? = nil
        if isOp(":") {
            advance()
        } else {
            let expression = try parseExpression()
            guard isOp(":") else { return expression }
            advance()
            start = expression
        }
        var stop: JinjaExpression? = nil
        if !isOp(":") && !isOp("]") && !isOp(",") { stop = try parseExpression() }
        var step: JinjaExpression? = nil
        if skipOp(":") {
            if !isOp("]") && !isOp(",") { step = try parseExpression() }
        }
        return .slice(node, start: start, stop: stop, step: step)
    }

    private mutating func parseCallArguments() throws -> [JinjaArgument] {
        try expectOp("(")
        var arguments: [JinjaArgument] = []
        while !isOp(")") {
            if !arguments.isEmpty {
                try expectOp(",")
                if isOp(")") { break }
            }
            if isOp("*") || isOp("**") {
                throw JinjaError.unsupported(line: current.line, feature: "*args/**kwargs in calls")
            }
            if case .name(let n) = current.kind, isOp("=", peek()) {
                advance()
                advance()
                arguments.append(JinjaArgument(name: n, value: try parseExpression()))
            } else {
                if arguments.contains(where: { $0.name != nil }) {
                    throw fail("Invalid argument syntax: positional argument after keyword argument")
                }
                arguments.append(JinjaArgument(name: nil, value: try parseExpression()))
            }
        }
        try expectOp(")")
        return arguments
    }
}
