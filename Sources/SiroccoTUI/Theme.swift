// Theme: the colours and attributes of each part of the screen, the text format theme files use,
// and how a theme degrades on 8- and 16-colour terminals and without colour (NO_COLOR). Pure.

/// A part of the screen that has its own look.
enum ThemeRole: String, CaseIterable, Sendable {
    case text, title, border
    case borderFocused = "border_focused"
    case user, assistant, notice, error
    case statsLabel = "stats_label"
    case statsValue = "stats_value"
    case gaugeFill = "gauge_fill"
    case gaugeEmpty = "gauge_empty"
    case prompt, input, status, help
    // markdown in answers
    case heading, emphasis, code
    case codeLabel = "code_label"
    case quote, link
    case tableBorder = "table_border"
}

/// A terminal colour: the terminal's own default, or an index in the 256-colour palette.
enum ThemeColor: Equatable, Sendable {
    case terminalDefault
    case index(Int)

    static let names = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"]

    /// Parses "default", "cyan", "bright-cyan" (also "brightcyan", "bright_cyan"), "grey"/"gray"
    /// or a number 0-255.
    init?(name: String) {
        let n = name.lowercased()
        if n == "default" || n == "none" { self = .terminalDefault; return }
        if let i = Int(n) {
            guard (0...255).contains(i) else { return nil }
            self = .index(i)
            return
        }
        if n == "grey" || n == "gray" { self = .index(8); return }
        for prefix in ["bright-", "bright_", "bright", "light-", "light_"] where n.hasPrefix(prefix) {
            guard let base = ThemeColor.names.firstIndex(of: String(n.dropFirst(prefix.count))) else { return nil }
            self = .index(base + 8)
            return
        }
        guard let base = ThemeColor.names.firstIndex(of: n) else { return nil }
        self = .index(base)
    }

    /// The colour on a terminal with `colors` colours, and whether bold must stand in for
    /// "bright" (8-colour terminals).
    func adapted(toColors colors: Int) -> (color: ThemeColor, bright: Bool) {
        guard case let .index(i) = self else { return (self, false) }
        if colors >= 256 || i < colors { return (self, false) }
        var base = i
        if i >= 16 { base = ThemeColor.nearestBasic(to: i) }
        if base >= 8 && colors < 16 { return (.index(base - 8), true) }
        return (.index(base), false)
    }

    /// The closest of the 16 basic colours to a colour of the 256 palette.
    static func nearestBasic(to index: Int) -> Int {
        let (r, g, b) = rgb(of: index)
        var best = 0
        var bestDistance = Int.max
        for candidate in 0..<16 {
            let (cr, cg, cb) = rgb(of: candidate)
            let d = (r - cr) * (r - cr) + (g - cg) * (g - cg) + (b - cb) * (b - cb)
            if d < bestDistance { bestDistance = d; best = candidate }
        }
        return best
    }

    /// xterm's palette.
    static func rgb(of index: Int) -> (Int, Int, Int) {
        let basic: [(Int, Int, Int)] = [
            (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
            (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0), (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
        ]
        if index < 16 { return basic[max(0, index)] }
        if index >= 232 { let v = 8 + (index - 232) * 10; return (v, v, v) }
        let i = index - 16
        let level = [0, 95, 135, 175, 215, 255]
        return (level[i / 36], level[(i / 6) % 6], level[i % 6])
    }
}

/// How one role looks.
struct ThemeStyle: Equatable, Sendable {
    var foreground: ThemeColor = .terminalDefault
    var background: ThemeColor = .terminalDefault
    var bold = false
    var dim = false
    var underline = false
    var reverse = false

    init(_ foreground: ThemeColor = .terminalDefault, on background: ThemeColor = .terminalDefault,
         bold: Bool = false, dim: Bool = false, underline: Bool = false, reverse: Bool = false) {
        self.foreground = foreground
        self.background = background
        self.bold = bold
        self.dim = dim
        self.underline = underline
        self.reverse = reverse
    }
}

/// A theme file that cannot be used.
enum ThemeError: Error, Equatable, CustomStringConvertible {
    case malformed(file: String, line: Int, reason: String)
    case unreadable(file: String)
    case notFound(name: String, searched: [String])

    var description: String {
        switch self {
        case let .malformed(file, line, reason): return "\(file):\(line): \(reason)"
        case let .unreadable(file): return "\(file): cannot read the theme file"
        case let .notFound(name, searched):
            let places = searched.isEmpty ? "no themes directory found" : "looked in \(searched.joined(separator: ", "))"
            return "theme '\(name)' not found (\(places))"
        }
    }
}

/// A named set of styles, one per role.
struct Theme: Equatable, Sendable {
    var name: String
    var styles: [ThemeRole: ThemeStyle]

    func style(_ role: ThemeRole) -> ThemeStyle { styles[role] ?? ThemeStyle() }

    /// The built-in theme (the same as themes/dark.theme): used when no theme is given or a theme
    /// file is broken.
    static let builtin = Theme(name: "default", styles: [
        .text: ThemeStyle(),
        .title: ThemeStyle(.index(0), on: .index(6), bold: true),
        .border: ThemeStyle(.index(8)),
        .borderFocused: ThemeStyle(.index(14), bold: true),
        .user: ThemeStyle(.index(14), bold: true),
        .assistant: ThemeStyle(),
        .notice: ThemeStyle(.index(3)),
        .error: ThemeStyle(.index(9), bold: true),
        .statsLabel: ThemeStyle(.index(8)),
        .statsValue: ThemeStyle(.index(15), bold: true),
        .gaugeFill: ThemeStyle(.index(10)),
        .gaugeEmpty: ThemeStyle(.index(8)),
        .prompt: ThemeStyle(.index(14), bold: true),
        .input: ThemeStyle(),
        .status: ThemeStyle(.index(11)),
        .help: ThemeStyle(.index(15), on: .index(4)),
        .heading: ThemeStyle(.index(13), bold: true),
        .emphasis: ThemeStyle(.index(15)),
        .code: ThemeStyle(.index(252), on: .index(236)),
        .codeLabel: ThemeStyle(.index(10), on: .index(236), bold: true),
        .quote: ThemeStyle(.index(246)),
        .link: ThemeStyle(.index(75)),
        .tableBorder: ThemeStyle(.index(8)),
    ])

    /// Parses a theme file: `role = foreground [on background] [bold] [dim] [underline] [reverse]`
    /// lines, `#` comments. Roles not named keep the built-in style.
    static func parse(_ text: String, name: String, file: String) throws -> Theme {
        var theme = Theme.builtin
        theme.name = name
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            var line = Substring(rawLine)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let trimmed = line.trimmingCharacters(in: " \t\r")
            if trimmed.isEmpty { continue }
            func fail(_ reason: String) -> ThemeError { .malformed(file: file, line: lineNumber, reason: reason) }
            guard let eq = trimmed.firstIndex(of: "=") else {
                throw fail("expected 'role = colour', got '\(trimmed)'")
            }
            let key = trimmed[..<eq].trimmingCharacters(in: " \t")
            let value = trimmed[trimmed.index(after: eq)...].trimmingCharacters(in: " \t")
            guard let role = ThemeRole(rawValue: key.replacingOccurrences(of: "-", with: "_")) else {
                throw fail("unknown role '\(key)' (roles: \(ThemeRole.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            do {
                theme.styles[role] = try parseStyle(value)
            } catch let reason as StyleSyntaxError {
                throw fail(reason.message)
            }
        }
        return theme
    }

    private struct StyleSyntaxError: Error { let message: String }

    private static func parseStyle(_ value: String) throws -> ThemeStyle {
        let words = value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," }).map(String.init)
        guard !words.isEmpty else { throw StyleSyntaxError(message: "missing colour after '='") }
        var style = ThemeStyle()
        var sawForeground = false
        var i = 0
        while i < words.count {
            let word = words[i].lowercased()
            switch word {
            case "bold": style.bold = true
            case "dim": style.dim = true
            case "underline": style.underline = true
            case "reverse": style.reverse = true
            case "on":
                guard i + 1 < words.count else { throw StyleSyntaxError(message: "missing background colour after 'on'") }
                guard let c = ThemeColor(name: words[i + 1]) else { throw badColour(words[i + 1]) }
                style.background = c
                i += 1
            default:
                guard !sawForeground else { throw StyleSyntaxError(message: "unexpected '\(words[i])' (one foreground colour, then 'on BACKGROUND', bold, dim, underline, reverse)") }
                guard let c = ThemeColor(name: word) else { throw badColour(words[i]) }
                style.foreground = c
                sawForeground = true
            }
            i += 1
        }
        return style
    }

    private static func badColour(_ word: String) -> StyleSyntaxError {
        StyleSyntaxError(message: "unknown colour '\(word)' (use default, a name like cyan or bright-blue, or a number 0-255)")
    }
}

private extension StringProtocol {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s.removeFirst() }
        while let l = s.last, set.contains(l) { s.removeLast() }
        return String(s)
    }
}
