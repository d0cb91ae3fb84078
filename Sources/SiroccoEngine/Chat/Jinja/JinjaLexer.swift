// JinjaLexer: turns template text into tokens exactly as jinja2's lexer does with the settings
// Hugging Face uses (trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False):
//   - "\r\n" and "\r" become "\n", and one trailing newline is dropped;
//   - `{%-`/`{{-`/`{#-` strip all whitespace before the tag, `-%}`/`-}}`/`-#}` all after it;
//   - trim_blocks drops the first newline after `%}` and `#}` (not after `}}`);
//   - lstrip_blocks drops spaces/tabs between a line start and `{%` or `{#` (`{%+` opts out);
//   - `{% raw %}…{% endraw %}` is passed through as text; comments vanish.
// It never evaluates anything and never reads outside the template text.

/// One lexical token of a template, with the line it starts on.
struct JinjaToken: Equatable {
    enum Kind: Equatable {
        case text(String)
        case variableBegin, variableEnd
        case blockBegin, blockEnd
        case name(String)
        case string(String)
        case integer(Int)
        case float(Double)
        case op(String)
        case endOfInput
    }

    let kind: Kind
    let line: Int
}

struct JinjaLexer {
    private let source: [Unicode.Scalar]
    private var position = 0
    private var line = 1
    /// Whether the last match ended with a newline (jinja2's `line_starting`, used by lstrip).
    private var lineStarting = true
    private var tokens: [JinjaToken] = []
    private var brackets: [Unicode.Scalar] = []

    private static let operators: [String] = [
        "//", "**", "==", "!=", ">=", "<=",
        "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}", ">", "<", "=", ".", ":", "|", ",", ";",
    ]

    init(_ text: String) {
        var normalized: [Unicode.Scalar] = []
        normalized.reserveCapacity(text.unicodeScalars.count)
        var previousWasCR = false
        for c in text.unicodeScalars {
            if c == "\r" {
                normalized.append("\n")
                previousWasCR = true
                continue
            }
            if c == "\n" && previousWasCR {
                previousWasCR = false
                continue
            }
            previousWasCR = false
            normalized.append(c)
        }
        if normalized.last == "\n" { normalized.removeLast() }
        source = normalized
    }

    /// All tokens of the template, ending with `.endOfInput`.
    mutating func tokenize() throws -> [JinjaToken] {
        while position < source.count {
            try lexRoot()
        }
        // jinja2 reports the end of the template on the line of its last token
        tokens.append(JinjaToken(kind: .endOfInput, line: tokens.last?.line ?? 1))
        return tokens
    }

    // MARK: - text between tags

    private enum TagKind { case comment, block, variable, raw }

    private mutating func lexRoot() throws {
        guard let (start, kind, afterOpener, sign) = nextTagStart(from: position) else {
            emitText(Array(source[position...]))
            position = source.count
            return
        }
        var text = Array(source[position..<start])
        let newlinesInText = text.reduce(0) { $0 + ($1 == "\n" ? 1 : 0) }
        if sign == "-" {
            while let last = text.last, JinjaPythonString.isWhitespace(last) { text.removeLast() }
        } else if sign != "+" && kind != .variable {
            // lstrip_blocks: drop the whitespace between the line start and the tag.
            let lineStart = (text.lastIndex(of: "\n").map { $0 + 1 }) ?? 0
            if lineStart > 0 || lineStarting {
                let tail = text[lineStart...]
                if !tail.isEmpty && tail.allSatisfy(JinjaPythonString.isWhitespace) {
                    text.removeSubrange(lineStart...)
                }
            }
        }
        emitText(text)
        line += newlinesInText
        position = afterOpener
        lineStarting = false
        switch kind {
        case .comment: try lexComment()
        case .raw: try lexRaw()
        case .block: try lexTag(block: true)
        case .variable: try lexTag(block: false)
        }
    }

    private mutating func emitText(_ text: [Unicode.Scalar]) {
        guard !text.isEmpty else { return }
        tokens.append(JinjaToken(kind: .text(JinjaPythonString.string(text)), line: line))
    }

    /// The earliest `{{`, `{%` or `{#` at or after `from`: its position, kind, the position after
    /// the opener (and its sign), and the whitespace-control sign.
    private func nextTagStart(from: Int) -> (Int, TagKind, Int, Unicode.Scalar?)? {
        var i = from
        while i + 1 < source.count {
            if source[i] == "{" {
                let kind: TagKind?
                switch source[i + 1] {
                case "{": kind = .variable
                case "%": kind = .block
                case "#": kind = .comment
                default: kind = nil
                }
                if let kind {
                    if kind == .block, let (afterRaw, sign) = matchRawBegin(at: i) {
                        return (i, .raw, afterRaw, sign)
                    }
                    var after = i + 2
                    var sign: Unicode.Scalar? = nil
                    if after < source.count, source[after] == "-" || source[after] == "+" {
                        sign = source[after]
                        after += 1
                    }
                    return (i, kind, after, sign)
                }
            }
            i += 1
        }
        return nil
    }

    /// `{%(-|+)?\s*raw\s*(-%}\s*|%})` at `i`: the position after it and the sign.
    private func matchRawBegin(at start: Int) -> (Int, Unicode.Scalar?)? {
        var i = start + 2
        var sign: Unicode.Scalar? = nil
        if i < source.count, source[i] == "-" || source[i] == "+" {
            sign = source[i]
            i += 1
        }
        i = skipWhitespace(from: i)
        guard matches("raw", at: i) else { return nil }
        i = skipWhitespace(from: i + 3)
        if matches("-%}", at: i) { return (skipWhitespace(from: i + 3), sign) }
        if matches("%}", at: i) { return (i + 2, sign) }
        return nil
    }

    private func matches(_ literal: String, at i: Int) -> Bool {
        var j = i
        for c in literal.unicodeScalars {
            guard j < source.count, source[j] == c else { return false }
            j += 1
        }
        return true
    }

    private func skipWhitespace(from i: Int) -> Int {
        var j = i
        while j < source.count, JinjaPythonString.isWhitespace(source[j]) { j += 1 }
        return j
    }

    private func countNewlines(_ range: Range<Int>) -> Int {
        source[range].reduce(0) { $0 + ($1 == "\n" ? 1 : 0) }
    }

    // MARK: - comments and raw blocks

    private mutating func lexComment() throws {
        var i = position
        while i < source.count {
            if let end = blockTagEnd("#}", at: i) {
                line += countNewlines(position..<end)
                lineStarting = source[end - 1] == "\n"
                position = end
                return
            }
            i += 1
        }
        throw JinjaError.syntax(line: line, message: "Missing end of comment tag")
    }

    private mutating func lexRaw() throws {
        let startLine = line
        var i = position
        while i < source.count {
            if matches("{%", at: i) {
                var j = i + 2
                var sign: Unicode.Scalar? = nil
                if j < source.count, source[j] == "-" || source[j] == "+" {
                    sign = source[j]
                    j += 1
                }
                j = skipWhitespace(from: j)
                if matches("endraw", at: j) {
                    j = skipWhitespace(from: j + 6)
                    if let end = blockTagEnd("%}", at: j) {
                        var text = Array(source[position..<i])
                        if sign == "-" {
                            while let last = text.last, JinjaPythonString.isWhitespace(last) { text.removeLast() }
                        } else if sign != "+" {
                            let lineStart = (text.lastIndex(of: "\n").map { $0 + 1 }) ?? 0
                            if lineStart > 0 || lineStarting {
                                let tail = text[lineStart...]
                                if !tail.isEmpty && tail.allSatisfy(JinjaPythonString.isWhitespace) {
                                    text.removeSubrange(lineStart...)
                                }
                            }
                        }
                        emitText(text)
                        line += countNewlines(position..<end)
                        lineStarting = source[end - 1] == "\n"
                        position = end
                        return
                    }
                }
            }
            i += 1
        }
        throw JinjaError.syntax(line: startLine, message: "Missing end of raw directive")
    }

    // MARK: - inside {% %} and {{ }}

    private mutating func lexTag(block: Bool) throws {
        tokens.append(JinjaToken(kind: block ? .blockBegin : .variableBegin, line: line))
        brackets.removeAll()
        while true {
            guard position < source.count else {
                throw JinjaError.syntax(line: line, message: "unexpected end of template, expected '\(block ? "%}" : "}}")'")
            }
            if brackets.isEmpty, let end = matchTagEnd(block: block) {
                tokens.append(JinjaToken(kind: block ? .blockEnd : .variableEnd, line: line))
                line += countNewlines(position..<end)
                lineStarting = source[end - 1] == "\n"
                position = end
                return
            }
            let c = source[position]
            if JinjaPythonString.isWhitespace(c) {
                let end = skipWhitespace(from: position)
                line += countNewlines(position..<end)
                position = end
                continue
            }
            if let (end, value) = matchFloat(at: position) {
                tokens.append(JinjaToken(kind: .float(value), line: line))
                position = end
                continue
            }
            if let (end, value) = try matchInteger(at: position) {
                tokens.append(JinjaToken(kind: .integer(value), line: line))
                position = end
                continue
            }
            if isNameStart(c) {
                var end = position + 1
                while end < source.count, isNameContinue(source[end]) { end += 1 }
                tokens.append(JinjaToken(kind: .name(JinjaPythonString.string(source[position..<end])), line: line))
                position = end
                continue
            }
            if c == "'" || c == "\"", let (end, value) = try matchString(at: position) {
                tokens.append(JinjaToken(kind: .string(value), line: line))
                line += countNewlines(position..<end)
                position = end
                continue
            }
            if let op = Self.operators.first(where: { matches($0, at: position) }) {
                try trackBrackets(op)
                tokens.append(JinjaToken(kind: .op(op), line: line))
                position += op.unicodeScalars.count
                continue
            }
            throw JinjaError.syntax(line: line, message: "unexpected char '\(Character(c))' at \(position)")
        }
    }

    /// The position after the closing `%}`/`}}` (and what trimming consumes) if one starts here.
    private func matchTagEnd(block: Bool) -> Int? {
        if block {
            return blockTagEnd("%}", at: position)
        } else {
            if matches("-}}", at: position) { return skipWhitespace(from: position + 3) }
            if matches("}}", at: position) { return position + 2 }
        }
        return nil
    }

    /// The position after a closing `%}` or `#}` at `i`: `+` keeps what follows, `-` trims the
    /// whitespace after it, a plain one takes one newline (trim_blocks, as transformers configures it).
    private func blockTagEnd(_ close: String, at i: Int) -> Int? {
        if matches("+" + close, at: i) { return i + 3 }
        if matches("-" + close, at: i) { return skipWhitespace(from: i + 3) }
        guard matches(close, at: i) else { return nil }
        let end = i + 2
        return end < source.count && source[end] == "\n" ? end + 1 : end
    }

    private mutating func trackBrackets(_ op: String) throws {
        switch op {
        case "{": brackets.append("}")
        case "(": brackets.append(")")
        case "[": brackets.append("]")
        case "}", ")", "]":
            guard let expected = brackets.popLast() else {
                throw JinjaError.syntax(line: line, message: "unexpected '\(op)'")
            }
            if String(expected) != op {
                throw JinjaError.syntax(line: line, message: "unexpected '\(op)', expected '\(expected)'")
            }
        default: break
        }
    }

    private func isNameStart(_ c: Unicode.Scalar) -> Bool { c == "_" || c.properties.isXIDStart }
    private func isNameContinue(_ c: Unicode.Scalar) -> Bool { c == "_" || c.properties.isXIDContinue }

    private func isDigit(_ i: Int) -> Bool { i < source.count && ("0"..."9").contains(source[i]) }

    /// `(\d+_)*\d+` at `i`: the end position.
    private func scanDigits(at i: Int) -> Int? {
        guard isDigit(i) else { return nil }
        var j = i
        while true {
            while isDigit(j) { j += 1 }
            if j < source.count, source[j] == "_", isDigit(j + 1) { j += 1 } else { return j }
        }
    }

    /// jinja2's float rule: digits with a fraction and/or an exponent, not right after a `.`.
    private func matchFloat(at i: Int) -> (Int, Double)? {
        guard i == 0 || source[i - 1] != "." else { return nil }
        guard let afterInteger = scanDigits(at: i) else { return nil }
        var end: Int? = nil
        var j = afterInteger
        if j < source.count, source[j] == ".", let afterFraction = scanDigits(at: j + 1) { j = afterFraction }
        if j < source.count, source[j] == "e" || source[j] == "E" {
            var k = j + 1
            if k < source.count, source[k] == "+" || source[k] == "-" { k += 1 }
            if let afterExponent = scanDigits(at: k) { end = afterExponent }
        }
        if end == nil, afterInteger < source.count, source[afterInteger] == ".",
           let afterFraction = scanDigits(at: afterInteger + 1) {
            end = afterFraction
        }
        guard let end else { return nil }
        let text = JinjaPythonString.string(source[i..<end]).replacingOccurrences(of: "_", with: "")
        guard let value = Double(text) else { return nil }
        return (end, value)
    }

    /// jinja2's integer rule: decimal, `0b`, `0o`, `0x`, with `_` separators.
    private func matchInteger(at i: Int) throws -> (Int, Int)? {
        guard isDigit(i) else { return nil }
        // `(_?digit)*` from `start`: the digits (separators dropped) and the end position.
        func digitRun(from start: Int, radix: Int) -> (String, Int) {
            var digits = ""
            var j = start
            while true {
                var k = j
                if k < source.count, source[k] == "_" { k += 1 }
                guard k < source.count, source[k].isASCII, Int(String(source[k]), radix: radix) != nil else { break }
                digits.unicodeScalars.append(source[k])
                j = k + 1
            }
            return (digits, j)
        }
        func value(_ digits: String, _ radix: Int) throws -> Int {
            guard let value = Int(digits, radix: radix) else {
                throw JinjaError.unsupported(line: line, feature: "an integer literal larger than 64 bits")
            }
            return value
        }
        if source[i] == "0", i + 1 < source.count {
            let radix: Int? = switch source[i + 1] {
            case "b", "B": 2
            case "o", "O": 8
            case "x", "X": 16
            default: nil
            }
            if let radix {
                let (digits, end) = digitRun(from: i + 2, radix: radix)
                if !digits.isEmpty { return (end, try value(digits, radix)) }
            }
        }
        if source[i] == "0" {
            // 0(_?0)*
            var j = i + 1
            while true {
                var k = j
                if k < source.count, source[k] == "_" { k += 1 }
                guard k < source.count, source[k] == "0" else { break }
                j = k + 1
            }
            return (j, 0)
        }
        // [1-9](_?\d)*
        let (rest, end) = digitRun(from: i + 1, radix: 10)
        return (end, try value(String(source[i]) + rest, 10))
    }

    /// A quoted string literal at `i`, unescaped as Python's "unicode-escape" codec does.
    private func matchString(at i: Int) throws -> (Int, String)? {
        let quote = source[i]
        var j = i + 1
        var out = String.UnicodeScalarView()
        while j < source.count {
            let c = source[j]
            if c == quote { return (j + 1, String(out)) }
            if c != "\\" {
                out.append(c)
                j += 1
                continue
            }
            guard j + 1 < source.count else { return nil }
            let e = source[j + 1]
            j += 2
            switch e {
            case "\n": break
            case "\\": out.append("\\")
            case "'": out.append("'")
            case "\"": out.append("\"")
            case "a": out.append("\u{07}")
            case "b": out.append("\u{08}")
            case "f": out.append("\u{0C}")
            case "n": out.append("\n")
            case "r": out.append("\r")
            case "t": out.append("\t")
            case "v": out.append("\u{0B}")
            case "0"..."7":
                var value = Int(e.value - 48)
                var digits = 1
                while digits < 3, j < source.count, ("0"..."7").contains(source[j]) {
                    value = value * 8 + Int(source[j].value - 48)
                    j += 1
                    digits += 1
                }
                out.append(Unicode.Scalar(UInt32(value))!)
            case "x", "u", "U":
                let width = e == "x" ? 2 : (e == "u" ? 4 : 8)
                guard j + width <= source.count,
                      let value = UInt32(JinjaPythonString.string(source[j..<(j + width)]), radix: 16),
                      source[j..<(j + width)].allSatisfy({ $0.properties.isASCIIHexDigit }) else {
                    throw JinjaError.syntax(line: line, message: "truncated \\\(Character(e)) escape in a string literal")
                }
                guard let scalar = Unicode.Scalar(value) else {
                    throw JinjaError.unsupported(line: line, feature: "a string escape for a surrogate or out-of-range code point")
                }
                out.append(scalar)
                j += width
            case "N":
                throw JinjaError.unsupported(line: line, feature: "\\N{…} string escapes")
            default:
                // Unknown escapes stay as written. A non-ASCII character after a backslash comes out
                // as its backslashreplace spelling, as jinja2's encode/decode round trip produces.
                out.append("\\")
                if e.isASCII {
                    out.append(e)
                } else {
                    let hex = String(e.value, radix: 16)
                    let spelled = e.value <= 0xFF ? "x" + String(repeating: "0", count: 2 - hex.count) + hex
                        : e.value <= 0xFFFF ? "u" + String(repeating: "0", count: 4 - hex.count) + hex
                        : "U" + String(repeating: "0", count: 8 - hex.count) + hex
                    out.append(contentsOf: spelled.unicodeScalars)
                }
            }
        }
        return nil
    }
}
