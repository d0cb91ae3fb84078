// WordWrap: breaks text into lines that fit a number of terminal columns — at spaces, between wide
// (CJK) characters, and inside a word only when the word alone is wider than the line. Pure.

enum WordWrap {
    private enum Segment {
        case spaces(String, Int)
        case word(String, Int)
    }

    /// Lines of at most `width` columns. Newlines in `text` start new lines; an empty text is one
    /// empty line. Spaces where a line breaks are dropped.
    static func wrap(_ text: String, width: Int) -> [String] {
        let width = max(1, width)
        var lines: [String] = []
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            wrapParagraph(Substring(paragraph), width: width, into: &lines)
        }
        return lines
    }

    private static func segments(_ paragraph: Substring) -> [Segment] {
        var result: [Segment] = []
        var current = ""
        var currentWidth = 0
        var inSpaces = false
        func flush() {
            if current.isEmpty { return }
            result.append(inSpaces ? .spaces(current, currentWidth) : .word(current, currentWidth))
            current = ""
            currentWidth = 0
        }
        for c in paragraph {
            let w = TextWidth.of(c)
            if c == " " {
                if !inSpaces { flush(); inSpaces = true }
                current.append(c)
                currentWidth += 1
            } else if w >= 2 {
                // a wide character is a word of its own: lines may break on either side of it
                flush()
                inSpaces = false
                result.append(.word(String(c), w))
            } else {
                if inSpaces { flush(); inSpaces = false }
                current.append(c)
                currentWidth += w
            }
        }
        flush()
        return result
    }

    private static func wrapParagraph(_ paragraph: Substring, width: Int, into lines: inout [String]) {
        var line = ""
        var lineWidth = 0
        var startedLines = false  // a line of this paragraph was already emitted
        func emit() {
            while line.hasSuffix(" ") { line.removeLast(); lineWidth -= 1 }
            lines.append(line)
            line = ""
            lineWidth = 0
            startedLines = true
        }
        for segment in segments(paragraph) {
            switch segment {
            case let .spaces(s, w):
                if line.isEmpty && startedLines { continue }  // no leading spaces on a continuation line
                if lineWidth + w <= width {
                    line += s
                    lineWidth += w
                } else {
                    emit()
                }
            case let .word(s, w):
                if lineWidth + w <= width {
                    line += s
                    lineWidth += w
                    continue
                }
                // the word starts a new line (a word longer than a line is cut from there)
                if line.allSatisfy({ $0 == " " }) {
                    line = ""  // indentation before a word that does not fit anyway
                    lineWidth = 0
                } else {
                    emit()
                }
                if w <= width {
                    line = s
                    lineWidth = w
                    continue
                }
                // a word wider than a line: cut it by graphemes
                for c in s {
                    let cw = TextWidth.of(c)
                    if lineWidth + cw > width && !line.isEmpty { emit() }
                    line.append(c)
                    lineWidth += cw
                }
            }
        }
        if !line.isEmpty || !startedLines { emit() }
    }
}
