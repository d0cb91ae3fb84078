// Markdown: the blocks of a model's answer — paragraphs, headings, list items, quotes, fenced code,
// pipe tables, rules — read line by line as CommonMark and GitHub read what models write. Pure;
// it never fails: what is no other block is a paragraph. Line breaks inside a paragraph are kept
// (models break lines on purpose), so text that streams in only ever grows at its end.
//
// An answer still being written is parsed `open`: its last line may be unfinished, and a line
// that could still turn into markup (a lone "`", "##", the start of a closing fence) is left out
// until the next characters decide it, so nothing shown has to be taken back.

/// A fenced code block.
struct CodeBlock: Equatable, Sendable {
    /// Its number in the answer, from 1 (shown in its label; `/copy N` takes it).
    var number: Int
    /// The first word after the opening fence ("" when none).
    var language: String
    var lines: [String]
    /// Columns the fence was indented (a block inside a list item).
    var indent: Int

    var text: String { lines.joined(separator: "\n") }
}

/// A pipe table: a header row, a delimiter row giving each column's alignment, body rows.
struct MarkdownTable: Equatable, Sendable {
    enum Alignment: Equatable, Sendable { case left, center, right }
    var header: [String]
    var alignments: [Alignment]
    var rows: [[String]]
    /// The lines as written: shown while the table is still growing, or when it is too wide.
    var source: [String]
}

/// One block of an answer.
enum MarkdownBlock: Equatable, Sendable {
    /// Lines of text (a newline is a line break).
    case paragraph(String)
    case heading(level: Int, text: String)
    /// A list item: its marker as written ("-", "3."; nil for a further paragraph of the item
    /// above), how deeply it is nested (0: top level), and its text.
    case listItem(marker: String?, depth: Int, text: String)
    case quote([MarkdownBlock])
    case code(CodeBlock)
    case table(MarkdownTable)
    /// A thematic break (`---`).
    case rule
    /// Blank lines between blocks (one, however many there were).
    case blank
}

/// The blocks of a text.
struct MarkdownDocument: Equatable, Sendable {
    var blocks: [MarkdownBlock]

    /// The code blocks in order of their numbers (those inside quotes included).
    var codeBlocks: [CodeBlock] {
        var found: [CodeBlock] = []
        func collect(_ blocks: [MarkdownBlock]) {
            for block in blocks {
                switch block {
                case let .code(code): found.append(code)
                case let .quote(inner): collect(inner)
                default: break
                }
            }
        }
        collect(blocks)
        return found
    }
}

enum Markdown {
    /// The blocks of `text`; `open`: the text is still being written.
    static func parse(_ text: String, open: Bool = false) -> MarkdownDocument {
        var parser = BlockParser(lines: text.split(separator: "\n", omittingEmptySubsequences: false), open: open,
                                 codeNumbers: 0)
        return MarkdownDocument(blocks: parser.run())
    }

    /// Leading spaces of a line.
    static func indentation(_ line: Substring) -> Int { line.prefix { $0 == " " }.count }

    static func isBlank(_ line: Substring) -> Bool { line.allSatisfy { $0 == " " } }

    /// An opening fence: its character, length, indentation and language.
    struct Fence {
        var character: Character
        var length: Int
        var indent: Int
        var language: String
    }

    /// The fence a line opens: 3 or more backticks or tildes (after any indentation); a backtick
    /// fence's info string has no backtick (```` ```x``` ```` is inline code).
    static func openingFence(_ line: Substring) -> Fence? {
        let indent = indentation(line)
        let rest = line.dropFirst(indent)
        guard let c = rest.first, c == "`" || c == "~" else { return nil }
        let length = rest.prefix { $0 == c }.count
        guard length >= 3 else { return nil }
        let info = rest.dropFirst(length)
        if c == "`" && info.contains("`") { return nil }
        let language = String(info.drop { $0 == " " }.prefix { $0 != " " })
        return Fence(character: c, length: length, indent: indent, language: language)
    }

    /// Whether `line` closes `fence`: as many fence characters or more, then only spaces.
    static func closes(_ line: Substring, _ fence: Fence) -> Bool {
        let rest = line.drop { $0 == " " }
        let length = rest.prefix { $0 == fence.character }.count
        return length >= fence.length && isBlank(rest.dropFirst(length))
    }

    /// `(level, text)` of an ATX heading: 1-6 `#` then a space or the end; closing #s dropped.
    static func heading(_ line: Substring) -> (level: Int, text: String)? {
        guard indentation(line) <= 3 else { return nil }
        let rest = line.drop { $0 == " " }
        let level = rest.prefix { $0 == "#" }.count
        guard (1...6).contains(level) else { return nil }
        let after = rest.dropFirst(level)
        guard after.isEmpty || after.first == " " else { return nil }
        var text = after.drop { $0 == " " }
        while text.last == " " { text.removeLast() }
        let closing = text.reversed().prefix { $0 == "#" }.count
        if closing > 0 && (closing == text.count || text.dropLast(closing).last == " ") {
            text = text.dropLast(closing)
            while text.last == " " { text.removeLast() }
        }
        return (level, String(text))
    }

    /// A thematic break: three or more `-`, `*` or `_` (the same one), spaces between allowed.
    static func isRule(_ line: Substring) -> Bool {
        guard indentation(line) <= 3 else { return false }
        let marks = line.filter { $0 != " " }
        guard let c = marks.first, "-*_".contains(c), marks.count >= 3 else { return false }
        return marks.allSatisfy { $0 == c }
    }

    /// `(indent, marker, text)` of a list item line: `-`, `*` or `+`, or 1-9 digits and `.` or
    /// `)`, followed by a space (or ending the line).
    static func listItem(_ line: Substring) -> (indent: Int, marker: String, text: String)? {
        let indent = indentation(line)
        let rest = line.dropFirst(indent)
        guard let first = rest.first else { return nil }
        var marker: Substring
        if "-*+".contains(first) {
            marker = rest.prefix(1)
        } else {
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard (1...9).contains(digits.count), let after = rest.dropFirst(digits.count).first, after == "." || after == ")" else {
                return nil
            }
            marker = rest.prefix(digits.count + 1)
        }
        let after = rest.dropFirst(marker.count)
        guard after.isEmpty || after.first == " " else { return nil }
        return (indent, String(marker), String(after.drop { $0 == " " }))
    }

    /// The text after a quote marker (`>` and one optional space), or nil.
    static func quoted(_ line: Substring) -> Substring? {
        guard indentation(line) <= 3 else { return nil }
        let rest = line.drop { $0 == " " }
        guard rest.first == ">" else { return nil }
        let after = rest.dropFirst()
        return after.first == " " ? after.dropFirst() : after
    }

    /// The cells of a table row: split at pipes not escaped, the outer pipes dropped, trimmed.
    static func cells(_ line: Substring) -> [String] {
        var body = line.drop { $0 == " " }
        while body.last == " " { body.removeLast() }
        if body.first == "|" { body.removeFirst() }
        if body.last == "|" && !body.dropLast().hasSuffix("\\") { body.removeLast() }
        var cells: [String] = []
        var cell = ""
        var escaped = false
        for c in body {
            if escaped {
                if c != "|" { cell.append("\\") }
                cell.append(c)
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else if c == "|" {
                cells.append(cell)
                cell = ""
            } else {
                cell.append(c)
            }
        }
        if escaped { cell.append("\\") }
        cells.append(cell)
        return cells.map { String(strip(Substring($0), " ")) }
    }

    /// The alignments a delimiter row (`| :--- | :-: | --: |`) gives, or nil if it is none.
    static func delimiterRow(_ line: Substring) -> [MarkdownTable.Alignment]? {
        guard line.contains("|") || line.contains("-") else { return nil }
        var alignments: [MarkdownTable.Alignment] = []
        for cell in cells(line) {
            guard cell.contains("-"), cell.allSatisfy({ $0 == "-" || $0 == ":" }) else { return nil }
            let dashes = strip(Substring(cell), ":")
            guard dashes.allSatisfy({ $0 == "-" }), cell.count - dashes.count <= 2 else { return nil }
            switch (cell.hasPrefix(":"), cell.hasSuffix(":")) {
            case (true, true): alignments.append(.center)
            case (false, true): alignments.append(.right)
            default: alignments.append(.left)
            }
        }
        return alignments
    }

    /// `s` without `c` at either end.
    private static func strip(_ s: Substring, _ c: Character) -> Substring {
        var s = s
        while s.first == c { s.removeFirst() }
        while s.last == c { s.removeLast() }
        return s
    }
}

/// Reads blocks from lines, top to bottom.
private struct BlockParser {
    var lines: [Substring]
    /// The text is still being written: its last line may be unfinished.
    let open: Bool
    var codeNumbers: Int
    /// The last line is unfinished and shown (not left out as undecided).
    private var lastLineUnfinished = false
    private var index = 0
    private var blocks: [MarkdownBlock] = []
    /// The indentation of the list items the next item may nest under, outermost first.
    private var listIndents: [Int] = []

    init(lines: [Substring], open: Bool, codeNumbers: Int) {
        self.lines = lines
        self.open = open
        self.codeNumbers = codeNumbers
    }

    /// Whether line `i` is the unfinished last line of a text still being written.
    private func isUnfinished(_ i: Int) -> Bool { lastLineUnfinished && i == lines.count - 1 }

    mutating func run() -> [MarkdownBlock] {
        // an unfinished last line that could still become markup waits for its next characters
        if open, let last = lines.last {
            if BlockParser.isUndecided(last) { lines.removeLast() } else { lastLineUnfinished = true }
        }
        while index < lines.count {
            let line = lines[index]
            if Markdown.isBlank(line) {
                if !blocks.isEmpty && blocks.last != .blank { blocks.append(.blank) }
                index += 1
            } else if let fence = Markdown.openingFence(line) {
                readCode(fence)
            } else if let heading = Markdown.heading(line) {
                endList()
                blocks.append(.heading(level: heading.level, text: heading.text))
                index += 1
            } else if Markdown.isRule(line) {
                endList()
                blocks.append(.rule)
                index += 1
            } else if Markdown.quoted(line) != nil {
                endList()
                readQuote()
            } else if let item = Markdown.listItem(line) {
                readListItem(item)
            } else if let table = tableStart() {
                endList()
                readTable(table)
            } else if !listIndents.isEmpty && Markdown.indentation(line) > 0 {
                readItemParagraph()
            } else {
                endList()
                blocks.append(.paragraph(readLines(from: index).joined(separator: "\n")))
            }
        }
        if !open { while blocks.last == .blank { blocks.removeLast() } }
        return blocks
    }

    /// An empty or blank line, 1-2 backticks or tildes (a fence being typed), or only `#`s.
    private static func isUndecided(_ line: Substring) -> Bool {
        let rest = line.drop { $0 == " " }
        if rest.isEmpty { return true }
        if rest.count <= 2 && (rest.allSatisfy { $0 == "`" } || rest.allSatisfy { $0 == "~" }) { return true }
        return rest.allSatisfy { $0 == "#" } && rest.count <= 6
    }

    private mutating func endList() { listIndents = [] }

    /// Whether line `i` starts a block other than a paragraph (and so ends a paragraph).
    private func startsBlock(_ i: Int) -> Bool {
        let line = lines[i]
        return Markdown.isBlank(line) || Markdown.openingFence(line) != nil || Markdown.heading(line) != nil
            || Markdown.isRule(line) || Markdown.quoted(line) != nil || Markdown.listItem(line) != nil
            || tableStart(at: i) != nil
    }

    /// The lines of a paragraph from `start` on, up to a line that starts another block.
    private mutating func readLines(from start: Int) -> [String] {
        var text = [String(lines[start])]
        index = start + 1
        while index < lines.count && !startsBlock(index) {
            text.append(String(lines[index]))
            index += 1
        }
        return text
    }

    private mutating func readCode(_ fence: Markdown.Fence) {
        codeNumbers += 1
        var code: [String] = []
        index += 1
        while index < lines.count {
            let line = lines[index]
            index += 1
            if Markdown.closes(line, fence) { break }
            if isUnfinished(index - 1) && line.allSatisfy({ $0 == " " || $0 == fence.character }) {
                break  // a closing fence being typed
            }
            code.append(String(line.dropFirst(min(fence.indent, Markdown.indentation(line)))))
        }
        blocks.append(.code(CodeBlock(number: codeNumbers, language: fence.language, lines: code, indent: fence.indent)))
    }

    private mutating func readQuote() {
        var inner: [Substring] = []
        while index < lines.count, let text = Markdown.quoted(lines[index]) {
            inner.append(text)
            index += 1
        }
        var nested = BlockParser(lines: inner, open: lastLineUnfinished && index == lines.count, codeNumbers: codeNumbers)
        blocks.append(.quote(nested.run()))
        codeNumbers = nested.codeNumbers
    }

    /// A list item and the indented lines that continue it.
    private mutating func readListItem(_ item: (indent: Int, marker: String, text: String)) {
        while let top = listIndents.last, item.indent < top + 2 { listIndents.removeLast() }
        let depth = listIndents.count
        listIndents.append(item.indent)
        var text = [item.text]
        index += 1
        while index < lines.count, Markdown.indentation(lines[index]) > item.indent, !startsBlock(index) {
            text.append(String(lines[index].drop { $0 == " " }))
            index += 1
        }
        blocks.append(.listItem(marker: item.marker, depth: depth, text: text.joined(separator: "\n")))
    }

    /// An indented paragraph after a list item: more of the item it is indented under.
    private mutating func readItemParagraph() {
        let indent = Markdown.indentation(lines[index])
        let depth = max(0, listIndents.filter { $0 < indent }.count - 1)
        let text = readLines(from: index).map { line in String(line.drop { $0 == " " }) }
        blocks.append(.listItem(marker: nil, depth: depth, text: text.joined(separator: "\n")))
    }

    private func tableStart() -> [MarkdownTable.Alignment]? { tableStart(at: index) }

    /// The alignments of a table starting at line `i`: a row with pipes, then a delimiter row
    /// with as many cells.
    private func tableStart(at i: Int) -> [MarkdownTable.Alignment]? {
        guard i + 1 < lines.count, lines[i].contains("|"), let alignments = Markdown.delimiterRow(lines[i + 1]),
              alignments.count == Markdown.cells(lines[i]).count else { return nil }
        return alignments
    }

    private mutating func readTable(_ alignments: [MarkdownTable.Alignment]) {
        let header = Markdown.cells(lines[index])
        var source = [String(lines[index]), String(lines[index + 1])]
        var rows: [[String]] = []
        index += 2
        while index < lines.count, lines[index].contains("|"), !Markdown.isBlank(lines[index]),
              Markdown.openingFence(lines[index]) == nil, Markdown.quoted(lines[index]) == nil {
            // as many cells as the header: missing ones empty, extra ones dropped
            var cells = Markdown.cells(lines[index])
            cells = Array((cells + Array(repeating: "", count: max(0, header.count - cells.count))).prefix(header.count))
            rows.append(cells)
            source.append(String(lines[index]))
            index += 1
        }
        blocks.append(.table(MarkdownTable(header: header, alignments: alignments, rows: rows, source: source)))
    }
}
