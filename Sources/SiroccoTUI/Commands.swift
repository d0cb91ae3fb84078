// Commands: what a line typed in the input means — a message to send, or a slash command.
// Parsing is pure; applying a command is the event loop's job. Bad input is an error with a
// message for the status line, never a crash.

import SiroccoEngine

/// One sampling setting changed to a value (range checks are `SamplerSettings.validate()`'s).
enum SamplerEdit: Equatable, Sendable {
    case temperature(Float)
    case topP(Float)
    case topK(Int)
    case minP(Float)
    case repeatPenalty(Float)
    case frequencyPenalty(Float)
    case presencePenalty(Float)
    case seed(UInt64)

    /// Setting names accepted by `/set`, with their aliases; the first is the one shown.
    static let names: [(names: [String], parse: (String) -> SamplerEdit?)] = [
        (["temp", "temperature", "t"], { Float($0).map(SamplerEdit.temperature) }),
        (["top_p", "top-p", "topp"], { Float($0).map(SamplerEdit.topP) }),
        (["top_k", "top-k", "topk"], { Int($0).map(SamplerEdit.topK) }),
        (["min_p", "min-p", "minp"], { Float($0).map(SamplerEdit.minP) }),
        (["repeat_penalty", "repeat-penalty", "repeat", "rep"], { Float($0).map(SamplerEdit.repeatPenalty) }),
        (["frequency_penalty", "frequency-penalty", "freq"], { Float($0).map(SamplerEdit.frequencyPenalty) }),
        (["presence_penalty", "presence-penalty", "presence"], { Float($0).map(SamplerEdit.presencePenalty) }),
        (["seed"], { UInt64($0).map(SamplerEdit.seed) }),
    ]

    func apply(to s: inout SamplerSettings) {
        switch self {
        case let .temperature(v): s.temperature = v
        case let .topP(v): s.topP = v
        case let .topK(v): s.topK = v
        case let .minP(v): s.minP = v
        case let .repeatPenalty(v): s.repeatPenalty = v
        case let .frequencyPenalty(v): s.frequencyPenalty = v
        case let .presencePenalty(v): s.presencePenalty = v
        case let .seed(v): s.seed = v
        }
    }

    /// "temp 0.70" for the status line.
    var summary: String {
        switch self {
        case let .temperature(v): return "temp \(Format.decimal(v))"
        case let .topP(v): return "top-p \(Format.decimal(v))"
        case let .topK(v): return "top-k \(v)"
        case let .minP(v): return "min-p \(Format.decimal(v))"
        case let .repeatPenalty(v): return "repeat penalty \(Format.decimal(v))"
        case let .frequencyPenalty(v): return "frequency penalty \(Format.decimal(v))"
        case let .presencePenalty(v): return "presence penalty \(Format.decimal(v))"
        case let .seed(v): return "seed \(v)"
        }
    }
}

/// What a line typed in the input line asks for.
enum Command: Equatable, Sendable {
    case send(String)
    case set(SamplerEdit)
    case showSettings
    case system(String?)
    case clear
    case save(String)
    case load(String)
    case template(String?)
    case theme(String?)
    case help
    case quit

    /// Commands for /help: usage and what it does.
    static let helpLines: [(usage: String, summary: String)] = [
        ("/set NAME VALUE", "change sampling for the focused pane, e.g. /set temp 0.7"),
        ("", "NAME: temp, top_p, top_k, min_p, repeat_penalty, seed"),
        ("/system TEXT", "set the system prompt (all panes; /system alone shows it)"),
        ("/template NAME", "chat template of the focused pane (/template alone lists them)"),
        ("/theme NAME", "switch theme (/theme alone lists them)"),
        ("/clear", "start a new conversation (all panes)"),
        ("/save FILE, /load FILE", "save or load the focused pane's conversation"),
        ("/help", "this help (also F1)"),
        ("/quit", "quit (also Ctrl-C when idle, Ctrl-D on an empty line)"),
    ]
}

/// A line that is not a valid command.
enum CommandError: Error, Equatable, CustomStringConvertible {
    case unknownCommand(String)
    case missingArgument(command: String, usage: String)
    case unknownSetting(String)
    case badValue(setting: String, value: String)

    var description: String {
        switch self {
        case let .unknownCommand(c): return "unknown command /\(c) — /help lists the commands"
        case let .missingArgument(c, usage): return "/\(c) needs an argument: \(usage)"
        case let .unknownSetting(s):
            return "unknown setting '\(s)' (settings: \(SamplerEdit.names.map { $0.names[0] }.joined(separator: ", ")))"
        case let .badValue(setting, value): return "'\(value)' is not a valid value for \(setting)"
        }
    }
}

enum CommandParser {
    /// Parses one input line. Text not starting with "/" is a message; "//" sends a message
    /// starting with "/".
    static func parse(_ line: String) throws(CommandError) -> Command {
        guard line.hasPrefix("/") else { return .send(line) }
        if line.hasPrefix("//") { return .send(String(line.dropFirst())) }
        let body = line.dropFirst()
        let name: Substring
        let rest: String
        if let space = body.firstIndex(where: { $0 == " " || $0 == "\t" }) {
            name = body[..<space]
            rest = trim(body[space...])
        } else {
            name = body
            rest = ""
        }
        let argument: String? = rest.isEmpty ? nil : rest
        switch name.lowercased() {
        case "set": return try parseSet(rest)
        case "system": return .system(argument)
        case "clear", "new": return .clear
        case "save":
            guard let argument else { throw .missingArgument(command: "save", usage: "/save FILE") }
            return .save(argument)
        case "load":
            guard let argument else { throw .missingArgument(command: "load", usage: "/load FILE") }
            return .load(argument)
        case "template": return .template(argument)
        case "theme": return .theme(argument)
        case "help", "?": return .help
        case "quit", "exit", "q": return .quit
        default: throw .unknownCommand(String(name))
        }
    }

    private static func parseSet(_ rest: String) throws(CommandError) -> Command {
        let words = rest.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "=" }).map(String.init)
        if words.isEmpty { return .showSettings }
        let key = words[0].lowercased()
        guard let entry = SamplerEdit.names.first(where: { $0.names.contains(key) }) else { throw .unknownSetting(words[0]) }
        guard words.count >= 2 else { throw .missingArgument(command: "set \(entry.names[0])", usage: "/set \(entry.names[0]) VALUE") }
        let value = words[1...].joined(separator: " ")
        guard words.count == 2, let edit = entry.parse(words[1]) else { throw .badValue(setting: entry.names[0], value: value) }
        return .set(edit)
    }

    private static func trim(_ s: Substring) -> String {
        var t = s
        while let f = t.first, f == " " || f == "\t" { t.removeFirst() }
        while let l = t.last, l == " " || l == "\t" { t.removeLast() }
        return String(t)
    }
}
