// MarkdownLayout: an answer's blocks as styled screen lines at a width — headings, wrapped
// paragraphs, list items with hanging indents, quotes behind a bar, code blocks as bands under a
// label with their number, tables with aligned columns, rules. Pure. A block's lines depend only
// on the block, the width and the blocks before it (list columns, code numbers), so what streams
// in after a block never moves it.

enum MarkdownLayout {
    /// Starts each further piece of a code line too long for the pane. Code is never
    /// word-wrapped: a long line is cut at the pane's edge and goes on in the next row behind
    /// this marker, in the column of padding before the code.
    static let codeContinuation = "↪"
    /// List bullets by nesting depth (then again from the first).
    static let bullets = ["•", "◦", "▪"]
    static let ruleGlyph = "─"
    static let tableJoint = "┼"
    static let quoteBar = "│"

    /// The lines of `document` at `width` columns, text in `role`. `open`: the last block is
    /// still being written (its unclosed emphasis runs on; a table shows as written until its
    /// last row is known, then aligns, keeping one line a row).
    static func lines(_ document: MarkdownDocument, open: Bool, width: Int, role: ThemeRole = .assistant) -> [DisplayLine] {
        var writer = Writer(width: max(1, width), role: role)
        for (i, block) in document.blocks.enumerated() {
            writer.add(block, open: open && i == document.blocks.count - 1)
        }
        return writer.lines
    }

    /// Inline runs as spans in `role`: emphasis bold or italic (in the `emphasis` colour in
    /// plain answer text), code in the code colours, links underlined with their address after.
    static func spans(_ runs: [InlineRun], role: ThemeRole, attributes: TextAttributes = []) -> [StyledSpan] {
        runs.map { run in
            var span = StyledSpan(text: run.text, role: role, attributes: attributes)
            if run.style.contains(.bold) { span.attributes.insert(.bold) }
            if run.style.contains(.italic) { span.attributes.insert(.italic) }
            if role == .assistant && !run.style.isDisjoint(with: [.bold, .italic]) { span.role = .emphasis }
            if run.style.contains(.code) { span.role = .code }
            if run.style.contains(.link) {
                span.role = .link
                span.attributes.insert(.underline)
            }
            if run.style.contains(.url) { span.role = .link }
            return span
        }
    }

    static func width(_ spans: [StyledSpan]) -> Int { spans.reduce(0) { $0 + TextWidth.of($1.text) } }
}

/// Appends the lines of one block after another.
private struct Writer {
    let width: Int
    let role: ThemeRole
    var lines: [DisplayLine] = []
    /// The column where the text of the list item at each depth begins.
    private var itemColumns: [Int] = []

    init(width: Int, role: ThemeRole) {
        self.width = width
        self.role = role
    }

    mutating func add(_ block: MarkdownBlock, open: Bool) {
        switch block {
        case let .paragraph(text):
            itemColumns = []
            addText(MarkdownInline.parse(text, open: open), role: role)
        case let .heading(level, text):
            itemColumns = []
            addText(MarkdownInline.parse(text, open: open), role: .heading, attributes: level == 1 ? [.bold, .underline] : [.bold])
        case let .listItem(marker, depth, text):
            addItem(marker: marker, depth: depth, runs: MarkdownInline.parse(text, open: open))
        case let .quote(blocks):
            itemColumns = []
            let bar = MarkdownLayout.quoteBar + " "
            let inner = MarkdownLayout.lines(MarkdownDocument(blocks: blocks), open: open, width: width - TextWidth.of(bar), role: .quote)
            for line in inner {
                let prefix = StyledSpan(text: bar + String(repeating: " ", count: line.indent), role: .quote)
                lines.append(DisplayLine(spans: [prefix] + line.spans, fill: line.fill))
            }
        case let .code(code):
            addCode(code)
        case let .table(table):
            itemColumns = []
            addTable(table, open: open)
        case .rule:
            itemColumns = []
            lines.append(DisplayLine(text: String(repeating: MarkdownLayout.ruleGlyph, count: width), role: .tableBorder))
        case .blank:
            lines.append(DisplayLine(spans: []))
        }
    }

    /// Inline text wrapped from column `indent`; with a `marker`, the first line starts with it
    /// and the others hang under the text.
    private mutating func addText(_ runs: [InlineRun], role: ThemeRole, attributes: TextAttributes = [], indent: Int = 0,
                                  marker: StyledSpan? = nil) {
        let column = indent + (marker.map { TextWidth.of($0.text) } ?? 0)
        var first = true
        for line in StyledText.lines(MarkdownLayout.spans(runs, role: role, attributes: attributes)) {
            for piece in StyledText.wrap(line, width: max(1, width - column)) {
                if first, let marker {
                    lines.append(DisplayLine(spans: [marker] + piece, indent: indent))
                } else {
                    lines.append(DisplayLine(spans: piece, indent: column))
                }
                first = false
            }
        }
    }

    /// A list item after its bullet or number, nested under the item before it; without a
    /// marker, a further paragraph of the item at `depth`.
    private mutating func addItem(marker: String?, depth: Int, runs: [InlineRun]) {
        let indent = min(width / 2, depth == 0 ? 0 : itemColumns.count >= depth ? itemColumns[depth - 1] : depth * 2)
        guard let marker else {
            addText(runs, role: role, indent: itemColumns.count > depth ? itemColumns[depth] : indent + 2)
            return
        }
        let shown = marker.first?.isNumber == true ? marker : MarkdownLayout.bullets[depth % MarkdownLayout.bullets.count]
        itemColumns = Array(itemColumns.prefix(depth)) + [indent + TextWidth.of(shown) + 1]
        addText(runs, role: role, indent: indent, marker: StyledSpan(text: shown + " ", role: role))
    }

    /// A band in the code colours: the label with the block's number and language, then the
    /// code, each line cut at the edge (see `codeContinuation`).
    private mutating func addCode(_ code: CodeBlock) {
        let indent = min(code.indent, width / 4)
        let room = max(1, width - indent - 1)
        let label = " [\(code.number)] " + (code.language.isEmpty ? "code" : code.language)
        lines.append(DisplayLine(spans: [StyledSpan(text: label, role: .codeLabel)], indent: indent, fill: .code))
        for line in code.lines {
            for (i, piece) in StyledText.cut(line, width: room).enumerated() {
                var spans = [i == 0 ? StyledSpan(text: " ", role: .code) : StyledSpan(text: MarkdownLayout.codeContinuation, role: .codeLabel)]
                if !piece.isEmpty { spans.append(StyledSpan(text: piece, role: .code)) }
                lines.append(DisplayLine(spans: spans, indent: indent, fill: .code))
            }
        }
    }

    /// Columns padded to their widest cell and aligned as the delimiter row says, a rule under
    /// the header; a table wider than the pane, or still growing, shows as written.
    private mutating func addTable(_ table: MarkdownTable, open: Bool) {
        let header = table.header.map { MarkdownLayout.spans(MarkdownInline.parse($0), role: role, attributes: .bold) }
        let rows = table.rows.map { row in row.map { MarkdownLayout.spans(MarkdownInline.parse($0), role: role) } }
        var widths = header.map(MarkdownLayout.width)
        for row in rows {
            for (j, cell) in row.enumerated() { widths[j] = max(widths[j], MarkdownLayout.width(cell)) }
        }
        let separator = " " + MarkdownLayout.quoteBar + " "
        guard !open, !widths.isEmpty, widths.reduce(0, +) + TextWidth.of(separator) * (widths.count - 1) <= width else {
            addText(MarkdownInline.parse(table.source.joined(separator: "\n"), open: open), role: role)
            return
        }
        func line(_ cells: [[StyledSpan]]) -> DisplayLine {
            var spans: [StyledSpan] = []
            for (j, cell) in cells.enumerated() {
                if j > 0 { spans.append(StyledSpan(text: separator, role: .tableBorder)) }
                let pad = widths[j] - MarkdownLayout.width(cell)
                let before = table.alignments[j] == .right ? pad : table.alignments[j] == .center ? pad / 2 : 0
                if before > 0 { spans.append(StyledSpan(text: String(repeating: " ", count: before), role: role)) }
                spans += cell
                // no spaces after the last column
                if j < cells.count - 1 && pad > before { spans.append(StyledSpan(text: String(repeating: " ", count: pad - before), role: role)) }
            }
            return DisplayLine(spans: spans)
        }
        lines.append(line(header))
        let rule = widths.map { String(repeating: MarkdownLayout.ruleGlyph, count: $0) }
            .joined(separator: MarkdownLayout.ruleGlyph + MarkdownLayout.tableJoint + MarkdownLayout.ruleGlyph)
        lines.append(DisplayLine(text: rule, role: .tableBorder))
        for row in rows { lines.append(line(row)) }
    }
}
