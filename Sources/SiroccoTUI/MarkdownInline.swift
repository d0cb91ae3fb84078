// MarkdownInline: the text of a block as runs with their style — emphasis and strong emphasis
// (`*`, `_`, by CommonMark's flanking and delimiter rules), code spans, links (`[text](url)`) and
// autolinks (`<https://…>`), backslash escapes — the markers taken out. Pure.
//
// Parsed `open` (the block is still being written), an opener not yet closed styles the text
// after it as it will be once the closer comes, and markers at the very end wait for the next
// character; so the text shown while streaming is what the finished block shows. Finished, an
// opener that was never closed stays as written.

/// How a run of inline text is styled.
struct InlineStyle: OptionSet, Hashable, Sendable {
    let rawValue: UInt8
    static let bold = InlineStyle(rawValue: 1 << 0)
    static let italic = InlineStyle(rawValue: 1 << 1)
    static let code = InlineStyle(rawValue: 1 << 2)
    /// A link's text.
    static let link = InlineStyle(rawValue: 1 << 3)
    /// A link's address, shown after its text.
    static let url = InlineStyle(rawValue: 1 << 4)
}

/// Text in one style.
struct InlineRun: Equatable, Sendable {
    var text: String
    var style: InlineStyle = []
}

enum MarkdownInline {
    /// A run of `*` or `_`, as CommonMark's emphasis algorithm sees it.
    private struct Delimiter {
        var character: Character
        var count: Int
        let original: Int
        let canOpen: Bool
        let canClose: Bool
        /// Between an opener and its closer: plain text from then on.
        var active = true
        /// At the end of an open text: it waits for the next character, shown as nothing.
        let waiting: Bool
    }

    /// Text, or a delimiter run, with the styles of the emphasis around it.
    private struct Node {
        var text = ""
        var style: InlineStyle = []
        var delimiter: Delimiter?
    }

    /// The runs of `text`; `open`: it is still being written.
    static func parse(_ text: String, open: Bool = false) -> [InlineRun] {
        var nodes = tokenize(Array(text), open: open)
        matchEmphasis(&nodes)
        if open { styleUnclosedOpeners(&nodes) }
        var runs: [InlineRun] = []
        for node in nodes {
            var piece = node.text
            if let d = node.delimiter {
                piece = d.waiting ? "" : String(repeating: d.character, count: d.count)
            }
            guard !piece.isEmpty else { continue }
            if let last = runs.last, last.style == node.style {
                runs[runs.count - 1].text += piece
            } else {
                runs.append(InlineRun(text: piece, style: node.style))
            }
        }
        return runs
    }

    private static func isPunctuation(_ c: Character?) -> Bool {
        guard let c else { return false }
        return c.isPunctuation || c.isSymbol
    }

    private static func isWhitespace(_ c: Character?) -> Bool { c.map(\.isWhitespace) ?? true }

    private static func tokenize(_ c: [Character], open: Bool) -> [Node] {
        var nodes: [Node] = []
        var text = ""
        func flush() {
            if !text.isEmpty { nodes.append(Node(text: text)) }
            text = ""
        }
        func add(_ runs: [InlineRun]) {
            flush()
            nodes += runs.map { Node(text: $0.text, style: $0.style) }
        }
        var i = 0
        while i < c.count {
            let ch = c[i]
            switch ch {
            case "\\":
                if i + 1 < c.count, c[i + 1] == "\n" || (c[i + 1].isASCII && isPunctuation(c[i + 1])) {
                    text.append(c[i + 1])  // an escaped character, or a hard line break
                    i += 2
                } else {
                    if i + 1 < c.count || !open { text.append(ch) }
                    i += 1
                }
            case "`":
                let (runs, next) = codeSpan(c, at: i, open: open)
                if let runs { add(runs) } else { text += String(c[i..<next]) }
                i = next
            case "*", "_":
                let length = c[i...].prefix { $0 == ch }.count
                let before: Character? = i > 0 ? c[i - 1] : nil
                let after: Character? = i + length < c.count ? c[i + length] : nil
                let waiting = open && after == nil
                let left = !isWhitespace(after) && (!isPunctuation(after) || isWhitespace(before) || isPunctuation(before))
                let right = !isWhitespace(before) && (!isPunctuation(before) || isWhitespace(after) || isPunctuation(after))
                var canOpen = left
                var canClose = right
                if ch == "_" {
                    canOpen = left && (!right || isPunctuation(before))
                    canClose = right && (!left || isPunctuation(after))
                }
                flush()
                nodes.append(Node(delimiter: Delimiter(character: ch, count: length, original: length, canOpen: canOpen && !waiting,
                                                       canClose: canClose, waiting: waiting)))
                i += length
            case "[":
                if let (runs, next) = link(c, at: i, open: open) {
                    add(runs)
                    i = next
                } else {
                    text.append(ch)
                    i += 1
                }
            case "<":
                if let end = c[i...].firstIndex(of: ">") {
                    let address = String(c[(i + 1)..<end])
                    let isAddress = ["http://", "https://", "mailto:"].contains { address.hasPrefix($0) }
                    if isAddress && !address.contains(where: \.isWhitespace) {
                        add([InlineRun(text: address, style: .url)])
                        i = end + 1
                        continue
                    }
                }
                text.append(ch)
                i += 1
            default:
                text.append(ch)
                i += 1
            }
        }
        flush()
        return nodes
    }

    /// A code span at `i`: the runs it makes (nil: the backticks are plain text) and where the
    /// text goes on. Closed by a run of as many backticks; open, an unclosed span runs to the end.
    private static func codeSpan(_ c: [Character], at i: Int, open: Bool) -> ([InlineRun]?, Int) {
        let length = c[i...].prefix { $0 == "`" }.count
        var j = i + length
        while j < c.count {
            guard c[j] == "`" else { j += 1; continue }
            let run = c[j...].prefix { $0 == "`" }.count
            if run == length { return ([codeRun(c[(i + length)..<j])], j + run) }
            j += run
        }
        guard open else { return (nil, i + length) }
        if i + length == c.count { return ([], c.count) }  // backticks at the end: wait for what follows
        return ([codeRun(c[(i + length)...])], c.count)
    }

    /// A code span's text: line breaks as spaces, one space stripped from each end when both have one.
    private static func codeRun(_ content: ArraySlice<Character>) -> InlineRun {
        var text = String(content.map { $0 == "\n" ? " " : $0 })
        if text.count >= 2, text.first == " ", text.last == " ", text.contains(where: { $0 != " " }) {
            text = String(text.dropFirst().dropLast())
        }
        return InlineRun(text: text, style: .code)
    }

    /// A link `[text](url "title")` at `i`: its text (styled as written) and " (url)", and where
    /// the text goes on; open, a link whose address is still being written shows what it has.
    private static func link(_ c: [Character], at i: Int, open: Bool) -> ([InlineRun], Int)? {
        var depth = 0
        var j = i
        var close: Int?
        while j < c.count {
            if c[j] == "\\" { j += 2; continue }
            if c[j] == "[" { depth += 1 }
            if c[j] == "]" {
                depth -= 1
                if depth == 0 { close = j; break }
            }
            j += 1
        }
        guard let close, close + 1 < c.count, c[close + 1] == "(" else { return nil }
        var k = close + 2
        var parens = 1
        while k < c.count {
            if c[k] == "(" { parens += 1 }
            if c[k] == ")" {
                parens -= 1
                if parens == 0 { break }
            }
            k += 1
        }
        let finished = k < c.count
        // an address being written has no space yet; with one, this was no link
        guard finished || (open && !c[(close + 2)...].contains(where: \.isWhitespace)) else { return nil }
        var address = String(c[(close + 2)..<min(k, c.count)]).drop { $0 == " " }
        if let space = address.firstIndex(of: " ") { address = address[..<space] }  // a title after it
        if address.hasPrefix("<") && address.hasSuffix(">") { address = address.dropFirst().dropLast() }
        var runs = parse(String(c[(i + 1)..<close])).map { InlineRun(text: $0.text, style: $0.style.union(.link)) }
        let label = runs.map(\.text).joined()
        if label.isEmpty || label == address {
            runs = [InlineRun(text: String(address), style: .url)]
        } else if !address.isEmpty || !finished {
            runs.append(InlineRun(text: " (" + address + (finished ? ")" : ""), style: .url))
        }
        return (runs, finished ? k + 1 : c.count)
    }

    /// Pairs closers with openers, innermost first, and styles what lies between (CommonMark's
    /// "process emphasis", with its rule of three).
    private static func matchEmphasis(_ nodes: inout [Node]) {
        for closer in nodes.indices {
            while let c = nodes[closer].delimiter, c.canClose, c.active, c.count > 0 {
                var found: Int?
                for o in stride(from: closer - 1, through: 0, by: -1) {
                    guard let d = nodes[o].delimiter, d.active, d.canOpen, d.count > 0, d.character == c.character else { continue }
                    let oddMatch = (d.canClose || c.canOpen) && (d.original + c.original) % 3 == 0
                        && !(d.original % 3 == 0 && c.original % 3 == 0)
                    if oddMatch { continue }
                    found = o
                    break
                }
                guard let opener = found, let d = nodes[opener].delimiter else { break }
                let use = d.count >= 2 && c.count >= 2 ? 2 : 1
                for k in (opener + 1)..<closer {
                    nodes[k].style.insert(use == 2 ? .bold : .italic)
                    nodes[k].delimiter?.active = false
                }
                nodes[opener].delimiter?.count -= use
                nodes[closer].delimiter?.count -= use
            }
        }
    }

    /// In open text, openers still waiting for their closers style everything after them — those
    /// that can only open: one inside a word (`2*3`) more often stays plain.
    private static func styleUnclosedOpeners(_ nodes: inout [Node]) {
        for o in nodes.indices {
            guard var d = nodes[o].delimiter, d.active, d.canOpen, !d.canClose, d.count > 0 else { continue }
            var style: InlineStyle = []
            if d.count >= 2 { style.insert(.bold); d.count -= 2 }
            if d.count >= 1 { style.insert(.italic); d.count -= 1 }
            nodes[o].delimiter = d
            for k in (o + 1)..<nodes.count { nodes[k].style.formUnion(style) }
        }
    }
}
