// ConversationPane: a pane's transcript as wrapped, styled lines (pure, memoised per entry) and
// the painting of the visible window of them, following the end unless scrolled back. Answers
// are rendered from their markdown unless the pane shows its source (/raw).

import SiroccoEngine

/// Remembers the lines of entries so a streaming answer does not re-render the whole conversation.
final class WrapCache {
    private struct Key: Hashable {
        var pane: Int
        var entry: Int
        var width: Int
        var source: Bool
        var reasoningShown: Bool
    }
    private var lines: [Key: (textCount: Int, reasoningTokens: Int, open: Bool, lines: [DisplayLine])] = [:]

    func lines(pane: Int, entry: TranscriptEntry, width: Int, source: Bool, reasoningShown: Bool = false, open: Bool,
               make: () -> [DisplayLine]) -> [DisplayLine] {
        let key = Key(pane: pane, entry: entry.id, width: width, source: source, reasoningShown: reasoningShown)
        let count = entry.text.utf8.count
        if let hit = lines[key], hit.textCount == count, hit.reasoningTokens == entry.reasoningTokens, hit.open == open {
            return hit.lines
        }
        let made = make()
        lines[key] = (count, entry.reasoningTokens, open, made)
        return made
    }

    func removeAll() { lines.removeAll() }
}

enum ConversationPane {
    static let userMarker = "› "
    static let noticeMarker = "· "
    static let errorMarker = "! "
    /// After the text being written.
    static let cursorGlyph = "▍"

    /// The lines of one entry at `width` columns: the user's text after a marker, the answer
    /// rendered from its markdown (`source`: as written; `open`: still being written) after its
    /// reasoning block, folded to one line unless `reasoningShown`; notices and errors with their
    /// markers; continuation lines indented under the text.
    static func lines(for entry: TranscriptEntry, width: Int, source: Bool = false, reasoningShown: Bool = false,
                      open: Bool = false) -> [DisplayLine] {
        let text = TextWidth.sanitize(entry.text)
        if entry.kind == .assistant && !source {
            let split = Reasoning.split(text)
            var out: [DisplayLine] = []
            if let reasoning = split.reasoning {
                out = reasoningLines(reasoning, tokens: entry.reasoningTokens, shown: reasoningShown,
                                     thinking: open && split.open, width: width)
                if split.open { return out }
                if !split.answer.isEmpty { out.append(DisplayLine(text: "", role: .text)) }
            }
            let answer = split.reasoning == nil ? text : split.answer
            let rendered = MarkdownLayout.lines(Markdown.parse(answer, open: open), open: open, width: width)
            out += rendered
            return out.isEmpty ? [DisplayLine(text: "", role: .assistant)] : out
        }
        let (marker, role): (String, ThemeRole)
        switch entry.kind {
        case .user: (marker, role) = (userMarker, .user)
        case .assistant: (marker, role) = ("", .assistant)
        case .notice: (marker, role) = (noticeMarker, .notice)
        case .error: (marker, role) = (errorMarker, .error)
        }
        let indent = TextWidth.of(marker)
        let wrapped = WordWrap.wrap(text, width: max(1, width - indent))
        return wrapped.enumerated().map { i, line in
            i == 0 ? DisplayLine(text: marker + line, role: role) : DisplayLine(text: line, role: role, indent: indent)
        }
    }

    static let reasoningKey = "F12"

    /// A reasoning block: one line saying how long it is (and that it goes on while `thinking`),
    /// then, when `shown`, its text under a bar.
    static func reasoningLines(_ reasoning: String, tokens: Int, shown: Bool, thinking: Bool, width: Int) -> [DisplayLine] {
        let size = tokens > 0 ? "\(tokens) token\(tokens == 1 ? "" : "s")" : "\(WordWrap.wrap(reasoning, width: 1_000_000).count) lines"
        let head = (shown ? "▾ " : "▸ ") + (thinking ? "thinking… " : "thought for ") + size
            + " (\(reasoningKey) \(shown ? "folds" : "shows"))"
        var out = [DisplayLine(text: head, role: .notice)]
        guard shown, !reasoning.isEmpty else { return out }
        for line in WordWrap.wrap(reasoning, width: max(1, width - 2)) {
            out.append(DisplayLine(spans: [StyledSpan(text: "│ ", role: .quote), StyledSpan(text: line, role: .notice)]))
        }
        return out
    }

    /// All lines of a pane: entries separated by a blank line, with a marker while the answer
    /// is being written.
    static func lines(for pane: PaneState, width: Int, cache: WrapCache?) -> [DisplayLine] {
        var out: [DisplayLine] = []
        for (i, entry) in pane.entries.enumerated() {
            if i > 0 && !(entry.kind == .notice && pane.entries[i - 1].kind == .notice) {
                out.append(DisplayLine(text: "", role: .text))
            }
            let open = pane.streaming && i == pane.entries.count - 1
            let source = pane.showsMarkdownSource, shown = pane.showsReasoning
            func make() -> [DisplayLine] { lines(for: entry, width: width, source: source, reasoningShown: shown, open: open) }
            out += cache?.lines(pane: pane.index, entry: entry, width: width, source: source, reasoningShown: shown,
                                open: open, make: make) ?? make()
        }
        if pane.streaming {
            if pane.waitingForFirstToken {
                if !out.isEmpty { out.append(DisplayLine(text: "", role: .text)) }
                out.append(DisplayLine(text: "…", role: .notice))
            } else if let last = out.indices.last {
                // a block cursor after the text being written, on a new line if it does not fit
                let cursor = StyledSpan(text: cursorGlyph, role: .assistant)
                if out[last].width < width { out[last].spans.append(cursor) } else { out.append(DisplayLine(spans: [cursor])) }
            }
        }
        return out
    }

    /// The first line shown when following the end: how far back the pane can scroll.
    static func maxScroll(lineCount: Int, height: Int) -> Int { max(0, lineCount - height) }

    /// The first of `lines` shown in `height` rows from `top` (nil: the end).
    static func firstVisible(lineCount: Int, height: Int, top: Int?) -> Int {
        let last = maxScroll(lineCount: lineCount, height: height)
        return min(last, max(0, top ?? last))
    }

    /// The slice of `lines` visible in `height` rows from line `top` (nil: the last lines).
    static func visible(_ lines: [DisplayLine], height: Int, top: Int?) -> ArraySlice<DisplayLine> {
        let first = firstVisible(lineCount: lines.count, height: height, top: top)
        return lines[first..<min(lines.count, first + height)]
    }

    /// Paints the pane's conversation into `rect`; returns how many lines lie below the view.
    @discardableResult
    static func draw(_ pane: PaneState, in rect: Rect, canvas: Canvas, cache: WrapCache) -> Int {
        guard rect.width > 0, rect.height > 0 else { return 0 }
        // one column of margin on each side when there is room
        let margin = rect.width >= 20 ? 1 : 0
        let width = rect.width - 2 * margin
        let all = lines(for: pane, width: width, cache: cache)
        if all.isEmpty {
            canvas.text("Type a message and press Enter. F1 for help.", x: rect.x + margin, y: rect.y,
                        width: width, role: .notice)
            return 0
        }
        let shown = visible(all, height: rect.height, top: pane.scrollTop)
        for (row, line) in shown.enumerated() {
            let x = rect.x + margin + line.indent
            let room = width - line.indent
            if let fill = line.fill { canvas.fill(Rect(x: x, y: rect.y + row, width: room, height: 1), role: fill) }
            canvas.spans(canvas.unicode ? line.spans : line.spans.map(\.ascii), x: x, y: rect.y + row, width: room)
        }
        return all.count - shown.endIndex
    }
}
