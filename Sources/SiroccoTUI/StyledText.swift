// StyledText: text as the conversation pane paints it — runs of text each with a theme role and
// the attributes markup adds (bold, italic, underline), screen lines made of them, and wrapping
// that keeps every character's style. Pure.

/// Attributes markup adds on top of a role's own look.
struct TextAttributes: OptionSet, Hashable, Sendable {
    let rawValue: UInt8
    static let bold = TextAttributes(rawValue: 1 << 0)
    static let italic = TextAttributes(rawValue: 1 << 1)
    static let underline = TextAttributes(rawValue: 1 << 2)
}

/// A run of text painted in one style.
struct StyledSpan: Equatable, Sendable {
    var text: String
    var role: ThemeRole
    var attributes: TextAttributes = []

    /// Glyphs the conversation draws, and what stands in for them on a terminal without Unicode.
    static let asciiGlyphs: [Character: Character] = [
        "▍": "_", "•": "*", "◦": "-", "▪": "*", "│": "|", "─": "-", "┼": "+", "↪": ">",
    ]

    /// The span with its glyphs replaced by ASCII stand-ins.
    var ascii: StyledSpan {
        var span = self
        span.text = String(text.map { StyledSpan.asciiGlyphs[$0] ?? $0 })
        return span
    }
}

/// One screen line of a transcript.
struct DisplayLine: Equatable, Sendable {
    var spans: [StyledSpan]
    /// Columns of indentation before the text.
    var indent = 0
    /// A role whose background fills the line from the indentation to the pane's edge (code blocks).
    var fill: ThemeRole?

    init(spans: [StyledSpan], indent: Int = 0, fill: ThemeRole? = nil) {
        self.spans = spans
        self.indent = indent
        self.fill = fill
    }

    /// A line of plain text in one role.
    init(text: String, role: ThemeRole, indent: Int = 0) {
        self.init(spans: [StyledSpan(text: text, role: role)], indent: indent)
    }

    var text: String { spans.map(\.text).joined() }
    /// The role the line starts in.
    var role: ThemeRole { spans.first?.role ?? .text }
    /// Columns taken, indentation included.
    var width: Int { indent + spans.reduce(0) { $0 + TextWidth.of($1.text) } }
}

enum StyledText {
    /// The spans split at newlines: the spans of each line.
    static func lines(_ spans: [StyledSpan]) -> [[StyledSpan]] {
        var lines: [[StyledSpan]] = [[]]
        for span in spans {
            for (i, piece) in span.text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                if i > 0 { lines.append([]) }
                if !piece.isEmpty { lines[lines.count - 1].append(StyledSpan(text: String(piece), role: span.role, attributes: span.attributes)) }
            }
        }
        return lines
    }

    /// One line of spans (no newlines) word-wrapped to `width` columns as `WordWrap` wraps text,
    /// each piece keeping its span's style.
    static func wrap(_ spans: [StyledSpan], width: Int) -> [[StyledSpan]] {
        var characters: [Character] = []
        var owner: [Int] = []  // the span each character comes from
        for (i, span) in spans.enumerated() {
            for c in span.text {
                characters.append(c)
                owner.append(i)
            }
        }
        return WordWrap.lineRanges(characters, width: width).map { range in
            var line: [StyledSpan] = []
            var i = range.lowerBound
            while i < range.upperBound {
                var j = i + 1
                while j < range.upperBound && owner[j] == owner[i] { j += 1 }
                var span = spans[owner[i]]
                span.text = String(characters[i..<j])
                line.append(span)
                i = j
            }
            return line
        }
    }

    /// `text` cut into pieces of at most `width` columns, by characters (code is not word-wrapped).
    static func cut(_ text: String, width: Int) -> [String] {
        let width = max(1, width)
        var pieces: [String] = []
        var piece = ""
        var pieceWidth = 0
        for c in text {
            let w = TextWidth.of(c)
            if pieceWidth + w > width && !piece.isEmpty {
                pieces.append(piece)
                piece = ""
                pieceWidth = 0
            }
            piece.append(c)
            pieceWidth += w
        }
        pieces.append(piece)
        return pieces
    }
}
