// WordWrap: breaks text into lines that fit a number of terminal columns — at spaces, between wide
// (CJK) characters, and inside a word only when the word alone is wider than the line. Pure.

enum WordWrap {
    private enum Segment {
        case spaces(Range<Int>, Int)
        case word(Range<Int>, Int)
    }

    /// Lines of at most `width` columns. Newlines in `text` start new lines; an empty text is one
    /// empty line. Spaces where a line breaks are dropped.
    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let characters = Array(paragraph)
            for range in lineRanges(characters, width: width) { lines.append(String(characters[range])) }
        }
        return lines
    }

    /// Where the lines of one paragraph (text without newlines) begin and end, as offsets into its
    /// characters: what `wrap` makes of it, for callers that keep something per character (styles).
    static func lineRanges(_ characters: [Character], width: Int) -> [Range<Int>] {
        let width = max(1, width)
        var ranges: [Range<Int>] = []
        // the line being filled is characters[start..<end]; it is empty when start == end
        var start = 0
        var end = 0
        var lineWidth = 0
        func append(_ range: Range<Int>, _ w: Int) {
            if start == end { start = range.lowerBound }
            end = range.upperBound
            lineWidth += w
        }
        func clear() {
            start = end
            lineWidth = 0
        }
        func emit() {
            var last = end
            while last > start && characters[last - 1] == " " { last -= 1 }
            ranges.append(start..<last)
            clear()
        }
        for segment in segments(characters) {
            switch segment {
            case let .spaces(range, w):
                if start == end && !ranges.isEmpty { continue }  // no leading spaces on a continuation line
                if lineWidth + w <= width { append(range, w) } else { emit() }
            case let .word(range, w):
                if lineWidth + w <= width {
                    append(range, w)
                    continue
                }
                // the word starts a new line (a word longer than a line is cut from there)
                if characters[start..<end].allSatisfy({ $0 == " " }) {
                    clear()  // indentation before a word that does not fit anyway
                } else {
                    emit()
                }
                if w <= width {
                    append(range, w)
                    continue
                }
                // a word wider than a line: cut it by graphemes
                for i in range {
                    let cw = TextWidth.of(characters[i])
                    if lineWidth + cw > width && start < end { emit() }
                    append(i..<(i + 1), cw)
                }
            }
        }
        if start < end || ranges.isEmpty { emit() }
        return ranges
    }

    private static func segments(_ characters: [Character]) -> [Segment] {
        var result: [Segment] = []
        var start = 0
        var currentWidth = 0
        var inSpaces = false
        func flush(upTo i: Int) {
            if start < i { result.append(inSpaces ? .spaces(start..<i, currentWidth) : .word(start..<i, currentWidth)) }
            start = i
            currentWidth = 0
        }
        for (i, c) in characters.enumerated() {
            let w = TextWidth.of(c)
            if c == " " {
                if !inSpaces { flush(upTo: i); inSpaces = true }
                currentWidth += 1
            } else if w >= 2 {
                // a wide character is a word of its own: lines may break on either side of it
                flush(upTo: i)
                inSpaces = false
                result.append(.word(i..<(i + 1), w))
                start = i + 1
            } else {
                if inSpaces { flush(upTo: i); inSpaces = false }
                currentWidth += w
            }
        }
        flush(upTo: characters.count)
        return result
    }
}
