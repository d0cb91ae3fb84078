// Commands: what a line typed in the input means — a message to send, or a slash command (ours,
// and Ollama's: /bye, /show info, /set parameter NAME VALUE, /set system TEXT). Parsing is pure;
// applying a command is the event loop's job. Bad input is an error with a message for the status
// line, never a crash.

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
    case penaltyLastN(Int)
    /// A fixed seed, or nil for a fresh random seed per answer.
    case seed(UInt64?)

    /// Setting names accepted by `/set` (and `/set parameter`), with their aliases, Ollama's
    /// among them; the first is the one shown.
    static let names: [(names: [String], parse: (String) -> SamplerEdit?)] = [
        (["temp", "temperature", "t"], { Float($0).map(SamplerEdit.temperature) }),
        (["top_p", "top-p", "topp"], { Float($0).map(SamplerEdit.topP) }),
        (["top_k", "top-k", "topk"], { Int($0).map(SamplerEdit.topK) }),
        (["min_p", "min-p", "minp"], { Float($0).map(SamplerEdit.minP) }),
        (["repeat_penalty", "repeat-penalty", "repeat", "rep"], { Float($0).map(SamplerEdit.repeatPenalty) }),
        (["frequency_penalty", "frequency-penalty", "freq"], { Float($0).map(SamplerEdit.frequencyPenalty) }),
        (["presence_penalty", "presence-penalty", "presence"], { Float($0).map(SamplerEdit.presencePenalty) }),
        (["repeat_last_n", "penalty_last_n", "repeat-last-n"], { Int($0).map(SamplerEdit.penaltyLastN) }),
        (["seed"], { $0 == "random" || $0 == "-1" ? .seed(nil) : UInt64($0).map(SamplerEdit.seed) }),
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
        case let .penaltyLastN(v): s.penaltyLastN = v
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
        case let .penaltyLastN(v): return "repeat last n \(v)"
        case let .seed(v?): return "seed \(v) (fixed: the same prompt and history give the same answer)"
        case .seed(nil): return "seed random (a new seed for each answer)"
        }
    }
}

/// What /copy takes from the focused pane's last answer.
enum CopyTarget: Equatable, Sendable {
    /// The last code block.
    case lastCodeBlock
    /// Code block N, as numbered in its label.
    case codeBlock(Int)
    /// The whole answer as written.
    case answer
}

/// What a line typed in the input line asks for.
enum Command: Equatable, Sendable {
    case send(String)
    case set(SamplerEdit)
    /// Most tokens an answer may have; nil: until the context is full (Ollama's num_predict -1).
    case maxAnswerTokens(Int?)
    case showSettings
    /// Model facts, template and system prompt, as notices in the focused pane.
    case showInfo
    case system(String?)
    case clear
    case save(String)
    case load(String)
    case template(String?)
    case theme(String?)
    /// Toggles the focused pane between rendered markdown and its source.
    case raw
    case copy(CopyTarget)
    case help
    case quit
    /// A new answer to the last message (a new seed), in place of the last answer.
    case retry
    /// The last message back in the input line, taken out of the conversation with its answer.
    case edit
    /// A new pane on a model: a catalog name, a GGUF path, or a server's URL and model name.
    case model(PaneModel)
    /// Close the focused pane.
    case close
    /// Switch between sending to every pane and to the focused one.
    case toggleSendToAll

    /// Commands for /help: usage and what it does.
    static let helpLines: [(usage: String, summary: String)] = [
        ("/set NAME VALUE", "change sampling for the focused pane, e.g. /set temp 0.7"),
        ("", "NAME: temp, top_p, top_k, min_p, repeat_penalty, repeat_last_n, seed"),
        ("", "(seed N fixes it, seed random draws one per answer), num_predict"),
        ("/set parameter NAME VALUE", "the same with Ollama's names (temperature, …)"),
        ("/system TEXT", "system prompt of all panes (alone: shows it; also /set system TEXT)"),
        ("/show info", "model, quantization, context, template, system prompt"),
        ("/template NAME", "chat template of the focused pane (/template alone lists them)"),
        ("/theme NAME", "switch theme (/theme alone lists them)"),
        ("/raw", "show the focused pane's answers as markdown source, or rendered again"),
        ("/copy [N], /copy all", "copy code block N (default: the last) or all of the last answer"),
        ("/clear", "start a new conversation (all panes)"),
        ("/save FILE, /load FILE", "save or load the focused pane's conversation"),
        ("/retry, /edit", "answer the last message again (new seed); take it back to change it"),
        ("/model NAME|PATH", "open a pane on another model (catalog name or GGUF file), up to 4"),
        ("/model URL [MODEL]", "open a pane on a server's model (OpenAI-compatible API)"),
        ("/close, /all", "close the focused pane; /all: send to all panes or the focused one"),
        ("\"\"\"", "starts a multi-line message; a line ending in \"\"\" sends it"),
        ("/help, /bye, /quit", "this help (also F1); quit (also Ctrl-D on an empty line)"),
    ]

    /// Ollama's parameter names that cannot change during a chat, and why.
    static let fixedParameters = [
        "num_ctx": "the context size is fixed when the chat starts (sirocco chat --ctx-size N)",
    ]
}

/// A line that is not a valid command.
enum CommandError: Error, Equatable, CustomStringConvertible {
    case unknownCommand(String)
    case missingArgument(command: String, usage: String)
    case unknownSetting(String)
    case badValue(setting: String, value: String)
    case fixedSetting(name: String, reason: String)
    case unknownShow(String)
    case badCopyTarget(String)

    var description: String {
        switch self {
        case let .unknownCommand(c): return "unknown command /\(c) — /help lists the commands"
        case let .missingArgument(c, usage): return "/\(c) needs an argument: \(usage)"
        case let .unknownSetting(s):
            let names = SamplerEdit.names.map { $0.names[0] } + ["num_predict", "system"]
            return "unknown setting '\(s)' (settings: \(names.joined(separator: ", ")))"
        case let .badValue(setting, value): return "'\(value)' is not a valid value for \(setting)"
        case let .fixedSetting(name, reason): return "\(name) cannot be changed: \(reason)"
        case let .unknownShow(what): return "/show \(what): unknown — /show info, parameters, system or template"
        case let .badCopyTarget(what): return "/copy \(what): give a code block's number ([N] in its label), all, or nothing for the last block"
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
        case "show": return try parseShow(rest)
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
        case "raw": return .raw
        case "copy": return try parseCopy(argument)
        case "help", "?": return .help
        case "quit", "exit", "q", "bye": return .quit
        case "retry": return .retry
        case "edit": return .edit
        case "model":
            guard let argument else { throw .missingArgument(command: "model", usage: "/model NAME|PATH|URL") }
            return .model(PaneModel.parse(argument))
        case "close": return .close
        case "all": return .toggleSendToAll
        default: throw .unknownCommand(String(name))
        }
    }

    /// `/set NAME VALUE`, `/set parameter NAME VALUE` (Ollama), `/set system TEXT`, `/set` alone.
    private static func parseSet(_ rest: String) throws(CommandError) -> Command {
        var rest = rest
        if let (word, after) = firstWord(rest), word.lowercased() == "parameter" {
            if after.isEmpty { return .showSettings }
            rest = after
        }
        if let (word, after) = firstWord(rest), word.lowercased() == "system" {
            return .system(after.isEmpty ? nil : after)
        }
        let words = rest.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "=" }).map(String.init)
        if words.isEmpty { return .showSettings }
        let key = words[0].lowercased()
        if let reason = Command.fixedParameters[key] { throw .fixedSetting(name: key, reason: reason) }
        let value = words.dropFirst().joined(separator: " ")
        if ["num_predict", "max_tokens", "max-tokens"].contains(key) {
            guard words.count >= 2 else { throw .missingArgument(command: "set \(key)", usage: "/set \(key) TOKENS") }
            guard words.count == 2, let n = Int(words[1]), n >= 1 || n == -1 else { throw .badValue(setting: key, value: value) }
            return .maxAnswerTokens(n == -1 ? nil : n)
        }
        guard let entry = SamplerEdit.names.first(where: { $0.names.contains(key) }) else { throw .unknownSetting(words[0]) }
        guard words.count >= 2 else { throw .missingArgument(command: "set \(entry.names[0])", usage: "/set \(entry.names[0]) VALUE") }
        guard words.count == 2, let edit = entry.parse(words[1].lowercased()) else { throw .badValue(setting: entry.names[0], value: value) }
        return .set(edit)
    }

    /// `/copy`, `/copy N`, `/copy all`.
    private static func parseCopy(_ argument: String?) throws(CommandError) -> Command {
        guard let argument else { return .copy(.lastCodeBlock) }
        if argument.lowercased() == "all" { return .copy(.answer) }
        guard let n = Int(argument), n >= 1 else { throw .badCopyTarget(argument) }
        return .copy(.codeBlock(n))
    }

    /// `/show info`, and Ollama's `/show parameters`, `/show system`, `/show template`.
    private static func parseShow(_ rest: String) throws(CommandError) -> Command {
        switch rest.lowercased() {
        case "": throw .missingArgument(command: "show", usage: "/show info")
        case "info": return .showInfo
        case "parameters", "settings": return .showSettings
        case "system": return .system(nil)
        case "template": return .template(nil)
        default: throw .unknownShow(rest)
        }
    }

    /// The first word of `s` and the rest after it (trimmed), if `s` has a word.
    private static func firstWord(_ s: String) -> (String, String)? {
        let body = Substring(s)
        guard !body.isEmpty else { return nil }
        guard let space = body.firstIndex(where: { $0 == " " || $0 == "\t" }) else { return (s, "") }
        return (String(body[..<space]), trim(body[space...]))
    }

    private static func trim(_ s: Substring) -> String {
        var t = s
        while let f = t.first, f == " " || f == "\t" { t.removeFirst() }
        while let l = t.last, l == " " || l == "\t" { t.removeLast() }
        return String(t)
    }
}
