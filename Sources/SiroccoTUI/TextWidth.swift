// TextWidth: how many terminal columns text takes (wcwidth per grapheme: CJK and emoji take two,
// combining marks none), text cleaned for the screen, and cutting text to a width. Pure functions;
// the process locale must be UTF-8 (the TUI sets it) for wcwidth to know non-ASCII characters.

import CNCursesW

enum TextWidth {
    /// Columns one grapheme takes as curses counts them: the sum of its scalars' wcwidth, where
    /// combining marks (and ZWJ, variation selectors) count 0 and attach to the cell before.
    static func of(_ c: Character) -> Int {
        if let a = c.asciiValue { return a >= 0x20 && a < 0x7F ? 1 : 0 }
        var total = 0
        for s in c.unicodeScalars {
            let w = Int(wcwidth(wchar_t(bitPattern: s.value)))
            if w > 0 { total += w }
        }
        return total
    }

    /// Columns a string takes.
    static func of<S: StringProtocol>(_ s: S) -> Int {
        var total = 0
        for c in s { total += of(c) }
        return total
    }

    /// Scalars dropped from text before painting: terminals disagree on how wide the emoji
    /// sequences they build are (ZWJ joins, emoji/text presentation selectors, skin tones), and
    /// curses must know exactly where each character ends. Without them each emoji stands alone.
    static func isAmbiguousJoiner(_ v: UInt32) -> Bool {
        v == 0x200D || v == 0xFE0E || v == 0xFE0F || (0x1F3FB...0x1F3FF).contains(v)
    }

    /// The text as it can be painted: tabs become spaces; carriage returns, control characters
    /// and emoji joiners go; characters the locale cannot print become U+FFFD; newlines stay.
    static func sanitize(_ text: String) -> String {
        var needsWork = false
        for u in text.utf8 where (u < 0x20 && u != 0x0A) || u >= 0x7F { needsWork = true; break }
        if !needsWork { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            let v = scalar.value
            if v == 0x0A {
                out.append(scalar)
            } else if v == 0x09 {
                out.append(contentsOf: "    ".unicodeScalars)
            } else if v < 0x20 || (0x7F..<0xA0).contains(v) || isAmbiguousJoiner(v) {
                continue
            } else if v >= 0xA0 && wcwidth(wchar_t(bitPattern: v)) < 0 {
                out.append("\u{FFFD}")
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// The longest prefix of `s` that fits in `width` columns.
    static func prefix(_ s: String, width: Int) -> String {
        guard width > 0 else { return "" }
        var used = 0
        var end = s.startIndex
        for i in s.indices {
            let w = of(s[i])
            if used + w > width { break }
            used += w
            end = s.index(after: i)
        }
        return String(s[..<end])
    }

    /// `s` cut to `width` columns, ending with "…" when something was cut.
    static func truncate(_ s: String, width: Int) -> String {
        guard width > 0 else { return "" }
        if of(s) <= width { return s }
        return prefix(s, width: width - 1) + "…"
    }

    /// `s` padded with spaces (or cut) to exactly `width` columns.
    static func pad(_ s: String, width: Int) -> String {
        let cut = prefix(s, width: width)
        return cut + String(repeating: " ", count: max(0, width - of(cut)))
    }
}
