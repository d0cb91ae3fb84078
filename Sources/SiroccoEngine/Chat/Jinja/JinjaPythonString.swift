// JinjaPythonString: Python's `str` operations, done on Unicode scalars (Python strings are
// sequences of code points; Swift's String compares and indexes by grapheme cluster and treats
// canonically equivalent text as equal, which Python does not). Lengths, indexing, slicing,
// search, split, strip and case changes all go through here so templates see Python's results.

enum JinjaPythonString {
    /// Python's `str.isspace()` for one code point (what `\s`, `strip()` and `split()` use).
    static func isWhitespace(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    static func scalars(_ s: String) -> [Unicode.Scalar] { Array(s.unicodeScalars) }

    static func string<S: Sequence>(_ scalars: S) -> String where S.Element == Unicode.Scalar {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }

    /// Code-point equality (Python `==` on strings).
    static func equal(_ a: String, _ b: String) -> Bool { a.unicodeScalars.elementsEqual(b.unicodeScalars) }

    /// Code-point ordering (Python `<` on strings).
    static func less(_ a: String, _ b: String) -> Bool {
        a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars) { $0.value < $1.value }
    }

    static func length(_ s: String) -> Int { s.unicodeScalars.count }

    /// `str.strip(chars)` / `lstrip` / `rstrip`; `chars == nil` strips whitespace.
    static func strip(_ s: String, chars: String? = nil, leading: Bool = true, trailing: Bool = true) -> String {
        let set = chars.map { Set($0.unicodeScalars) }
        let remove: (Unicode.Scalar) -> Bool = { set?.contains($0) ?? isWhitespace($0) }
        let a = scalars(s)
        var start = 0
        var end = a.count
        if leading { while start < end, remove(a[start]) { start += 1 } }
        if trailing { while end > start, remove(a[end - 1]) { end -= 1 } }
        return string(a[start..<end])
    }

    /// Index of the first occurrence of `needle` in `haystack` at or after `from`, in code points.
    static func find(_ haystack: [Unicode.Scalar], _ needle: [Unicode.Scalar], from: Int = 0) -> Int? {
        if needle.isEmpty { return from <= haystack.count ? from : nil }
        guard haystack.count >= needle.count else { return nil }
        var i = max(0, from)
        while i + needle.count <= haystack.count {
            if haystack[i] == needle[0] && haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }

    static func contains(_ haystack: String, _ needle: String) -> Bool {
        find(scalars(haystack), scalars(needle)) != nil
    }

    static func hasPrefix(_ s: String, _ prefix: String) -> Bool { s.unicodeScalars.starts(with: prefix.unicodeScalars) }

    static func hasSuffix(_ s: String, _ suffix: String) -> Bool {
        s.unicodeScalars.reversed().starts(with: suffix.unicodeScalars.reversed())
    }

    /// Non-overlapping occurrences, as `str.count`.
    static func count(_ s: String, _ needle: String) -> Int {
        let a = scalars(s)
        let n = scalars(needle)
        if n.isEmpty { return a.count + 1 }
        var total = 0
        var i = 0
        while let at = find(a, n, from: i) {
            total += 1
            i = at + n.count
        }
        return total
    }

    /// `str.replace(old, new, count)`; a negative count replaces all.
    /// How many times `replace` would put `new` in (Python: every code point's gap for an empty `old`).
    static func occurrences(of old: String, in s: String) -> Int {
        let a = scalars(s), o = scalars(old)
        if o.isEmpty { return a.count + 1 }
        var i = 0, n = 0
        while let at = find(a, o, from: i) {
            n += 1
            i = at + o.count
        }
        return n
    }

    static func replace(_ s: String, _ old: String, _ new: String, count limit: Int = -1) -> String {
        let a = scalars(s)
        let o = scalars(old)
        let n = scalars(new)
        var out: [Unicode.Scalar] = []
        var done = 0
        if o.isEmpty {
            // Python inserts `new` before every code point and at the end.
            for c in a {
                if limit < 0 || done < limit { out += n; done += 1 }
                out.append(c)
            }
            if limit < 0 || done < limit { out += n }
            return string(out)
        }
        var i = 0
        while limit < 0 || done < limit, let at = find(a, o, from: i) {
            out += a[i..<at]
            out += n
            i = at + o.count
            done += 1
        }
        out += a[i...]
        return string(out)
    }

    /// `str.split(sep, maxsplit)`; `sep == nil` splits on runs of whitespace and drops empty ends.
    static func split(_ s: String, separator: String?, maxSplit: Int = -1) -> [String] {
        let a = scalars(s)
        guard let separator else {
            var parts: [String] = []
            var i = 0
            while true {
                while i < a.count, isWhitespace(a[i]) { i += 1 }
                if i >= a.count { break }
                if maxSplit >= 0 && parts.count >= maxSplit {
                    var end = a.count
                    while end > i, isWhitespace(a[end - 1]) { end -= 1 }
                    parts.append(string(a[i..<end]))
                    break
                }
                let start = i
                while i < a.count, !isWhitespace(a[i]) { i += 1 }
                parts.append(string(a[start..<i]))
            }
            return parts
        }
        let sep = scalars(separator)
        var parts: [String] = []
        var i = 0
        while maxSplit < 0 || parts.count < maxSplit, let at = find(a, sep, from: i) {
            parts.append(string(a[i..<at]))
            i = at + sep.count
        }
        parts.append(string(a[i...]))
        return parts
    }

    /// `str.rsplit(sep, maxsplit)` for an explicit separator, or whitespace when `nil`.
    static func rsplit(_ s: String, separator: String?, maxSplit: Int = -1) -> [String] {
        if maxSplit < 0 { return split(s, separator: separator) }
        let reversedParts = split(string(s.unicodeScalars.reversed()),
                                  separator: separator.map { string($0.unicodeScalars.reversed()) },
                                  maxSplit: maxSplit)
        return reversedParts.reversed().map { string($0.unicodeScalars.reversed()) }
    }

    /// The line boundaries `str.splitlines()` recognises.
    static func isLineBreak(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029: return true
        default: return false
        }
    }

    /// `str.splitlines()` (line ends dropped; "\r\n" counts as one break).
    static func splitLines(_ s: String) -> [String] {
        let a = scalars(s)
        var lines: [String] = []
        var start = 0
        var i = 0
        while i < a.count {
            if isLineBreak(a[i]) {
                lines.append(string(a[start..<i]))
                if a[i] == "\r", i + 1 < a.count, a[i + 1] == "\n" { i += 1 }
                start = i + 1
            }
            i += 1
        }
        if start < a.count { lines.append(string(a[start...])) }
        return lines
    }

    static func upper(_ s: String) -> String { s.uppercased() }
    static func lower(_ s: String) -> String { s.lowercased() }

    private static func isCased(_ c: Unicode.Scalar) -> Bool {
        switch c.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter: return true
        default: return c.properties.isCased
        }
    }

    private static func titlecase(_ c: Unicode.Scalar) -> String { c.properties.titlecaseMapping }

    /// `str.capitalize()`: first code point title-cased, the rest lower-cased.
    static func capitalize(_ s: String) -> String {
        guard let first = s.unicodeScalars.first else { return s }
        return titlecase(first) + lower(string(s.unicodeScalars.dropFirst()))
    }

    /// `str.title()`: title-case after an uncased code point, lower-case after a cased one.
    static func title(_ s: String) -> String {
        var out = ""
        var previousCased = false
        for c in s.unicodeScalars {
            out += previousCased ? c.properties.lowercaseMapping : titlecase(c)
            previousCased = isCased(c)
        }
        return out
    }

    /// jinja2's `title` filter: each word (split at `-`, whitespace, `(`, `{`, `[`, `<`) gets an
    /// upper-cased first code point and a lower-cased rest.
    static func titleFilter(_ s: String) -> String {
        func isBoundary(_ c: Unicode.Scalar) -> Bool { isWhitespace(c) || "-({[<".unicodeScalars.contains(c) }
        var out = ""
        var word: [Unicode.Scalar] = []
        func flushWord() {
            guard let first = word.first else { return }
            out += upper(String(first)) + lower(string(word.dropFirst()))
            word.removeAll()
        }
        for c in s.unicodeScalars {
            if isBoundary(c) {
                flushWord()
                out.unicodeScalars.append(c)
            } else {
                word.append(c)
            }
        }
        flushWord()
        return out
    }

    /// Python's `isdigit`/`isalpha`/`isalnum`/`isspace`/`isupper`/`islower` (approximated from
    /// Unicode properties, exact for ASCII).
    static func isDigit(_ s: String) -> Bool {
        !s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.numericType == .decimal || $0.properties.numericType == .digit }
    }

    static func isAlpha(_ s: String) -> Bool { !s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.isAlphabetic } }

    static func isAlnum(_ s: String) -> Bool {
        !s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || $0.properties.numericType != nil }
    }

    static func isSpace(_ s: String) -> Bool { !s.isEmpty && s.unicodeScalars.allSatisfy(isWhitespace) }

    static func isUpper(_ s: String) -> Bool {
        let cased = s.unicodeScalars.filter(isCased)
        return !cased.isEmpty && cased.allSatisfy { !$0.properties.isLowercase } && s == upper(s)
    }

    static func isLower(_ s: String) -> Bool {
        let cased = s.unicodeScalars.filter(isCased)
        return !cased.isEmpty && cased.allSatisfy { !$0.properties.isUppercase } && s == lower(s)
    }
}
