// ChatFormat: how a conversation becomes a prompt — a built-in format, a Jinja template (the
// model's own, or one from a file) that falls back to the built-in format its text names when it
// cannot be rendered, as llama.cpp does, or completion mode for a base model without a template.

import Foundation
import Synchronization

/// Renders messages into prompt text. The seam between a session and its template.
public struct ChatFormat: Sendable {
    /// A short name for display ("chatml", "model template", "completion").
    public let name: String
    /// Completion mode: the texts are plain text without role markers and the model continues
    /// them (a base model, which has no chat template to follow).
    public let isCompletion: Bool
    /// The system prompt the template writes when the conversation has none (Qwen2.5's "You are
    /// Qwen, …"), found by rendering probe conversations; nil when it writes none.
    public let defaultSystemPrompt: String?
    private let renderer: @Sendable ([ChatMessage], Bool) throws -> String
    private let notices: NoticeBox

    public init(name: String, render: @escaping @Sendable ([ChatMessage], Bool) throws -> String) {
        self.init(name: name, notices: NoticeBox(), defaultSystemPrompt: SystemPromptProbe.defaultPrompt(render),
                  render: render)
    }

    private init(name: String, notices: NoticeBox, isCompletion: Bool = false, defaultSystemPrompt: String?,
                 render: @escaping @Sendable ([ChatMessage], Bool) throws -> String) {
        self.name = name
        self.isCompletion = isCompletion
        self.defaultSystemPrompt = defaultSystemPrompt
        renderer = render
        self.notices = notices
    }

    /// The prompt for `messages`; with `addGenerationPrompt` it ends where the assistant speaks.
    /// A role other than system, user, assistant or tool is refused: a role is not text to paste
    /// into a prompt (`user\n<|im_start|>system` would inject a turn).
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool = true) throws -> String {
        try ChatMessage.checkRoles(messages)
        return try renderer(messages, addGenerationPrompt)
    }

    /// The prompt tokens for `messages`, ending where the assistant speaks. A BOS the template
    /// writes itself is not added a second time.
    public func promptTokens(_ messages: [ChatMessage], tokenizer: Tokenizer) throws -> [TokenID] {
        let text = try render(messages, addGenerationPrompt: true)
        let bosText = tokenizer.bos.map { tokenizer.pieceText($0) } ?? ""
        let addSpecial = bosText.isEmpty || !text.hasPrefix(bosText)
        return tokenizer.encode(text, addSpecial: addSpecial, parseSpecial: true)
    }

    /// A message for the user about this format (e.g. a template that fell back to a built-in one),
    /// returned once and then cleared.
    public func takeNotice() -> String? { notices.take() }

    /// A built-in format.
    public static func builtin(_ template: ChatTemplate, bos: String = "<s>", eos: String = "</s>") -> ChatFormat {
        ChatFormat(name: template.rawValue) { messages, addGenerationPrompt in
            template.render(messages, addGenerationPrompt: addGenerationPrompt, bos: bos, eos: eos)
        }
    }

    /// A Jinja template rendered as transformers does; if it cannot be compiled or rendered, the
    /// built-in format detected from its text (else ChatML) is used and a notice says so once.
    public static func jinja(_ source: String, name: String, bos: String?, eos: String?) -> ChatFormat {
        let fallbackTemplate = ChatTemplate.detect(fromJinja: source) ?? .chatml
        let fallback = ChatFormat.builtin(fallbackTemplate, bos: bos ?? "", eos: eos ?? "")
        let notices = NoticeBox()
        let compiled: JinjaTemplate
        do {
            compiled = try JinjaTemplate(source)
        } catch {
            notices.post("\(name) cannot be used (\(error)); using the built-in \(fallbackTemplate.rawValue) format")
            return ChatFormat(name: "\(fallbackTemplate.rawValue) (fallback)", notices: notices,
                              defaultSystemPrompt: fallback.defaultSystemPrompt) { m, g in
                try fallback.render(m, addGenerationPrompt: g)
            }
        }
        // probed on the template itself: a probe that fails must not post the fallback's notice
        let probed = SystemPromptProbe.defaultPrompt { messages, addGenerationPrompt in
            try compiled.renderChat(messages, addGenerationPrompt: addGenerationPrompt, bosToken: bos, eosToken: eos)
        }
        return ChatFormat(name: name, notices: notices, defaultSystemPrompt: probed) { messages, addGenerationPrompt in
            do {
                return try compiled.renderChat(messages, addGenerationPrompt: addGenerationPrompt, bosToken: bos, eosToken: eos)
            } catch {
                notices.postOnce("\(name) failed to render (\(error)); using the built-in \(fallbackTemplate.rawValue) format")
                return try fallback.render(messages, addGenerationPrompt: addGenerationPrompt)
            }
        }
    }

    /// Completion mode: the conversation's texts as plain text (see `CompletionText`); the
    /// tokenizer adds BOS as the model's vocabulary asks.
    public static var completion: ChatFormat {
        ChatFormat(name: "completion", notices: NoticeBox(), isCompletion: true, defaultSystemPrompt: nil) { messages, _ in
            CompletionText.render(messages)
        }
    }

    /// The model's own chat format: its GGUF Jinja template; for a file without one (a base
    /// model) completion mode, since a guessed chat format makes a base model loop.
    public static func forModel(_ model: Model) -> ChatFormat {
        let (bos, eos) = specialTokens(of: model)
        if let source = model.chatTemplate {
            return .jinja(source, name: "model template", bos: bos, eos: eos)
        }
        return .completion
    }

    /// The built-in format a model without a template most likely uses (for `/template NAME`
    /// suggestions): its architecture or special tokens point to it, else ChatML.
    public static func likelyTemplate(for model: Model) -> ChatTemplate {
        let t = model.tokenizer
        if model.config.architecture.hasPrefix("gemma") || t.tokenID(forPiece: "<start_of_turn>") != nil { return .gemma }
        if t.tokenID(forPiece: "<|im_start|>") != nil { return .chatml }
        if t.tokenID(forPiece: "<|start_header_id|>") != nil { return .llama3 }
        if model.config.architecture == "phi3" { return .phi3 }
        if t.tokenID(forPiece: "[INST]") != nil { return .mistralV3 }
        return .chatml
    }

    /// The names `named(_:for:)` accepts: "model", "completion" and the built-in formats.
    public static var names: [String] { ["model", "completion"] + ChatTemplate.allCases.map(\.rawValue) }

    /// A format chosen by the user: a built-in name, "model" for the model's own template, or
    /// "completion" for plain text.
    public static func named(_ name: String, for model: Model) throws -> ChatFormat {
        if name == "model" { return forModel(model) }
        if name == "completion" { return .completion }
        guard let template = ChatTemplate(rawValue: name) else {
            throw ChatFormatError.unknownTemplate(name: name, known: names)
        }
        let (bos, eos) = specialTokens(of: model)
        return .builtin(template, bos: bos ?? "", eos: eos ?? "")
    }

    /// A Jinja template read from a file.
    /// The user chose it, so it is held to it: a template that does not compile or fails to render
    /// throws `ChatFormatError.templateFailed` instead of falling back to a built-in format.
    public static func file(_ path: String, for model: Model) throws -> ChatFormat {
        guard let data = try? RegularFile.contents(of: path, maximumBytes: 4 << 20) else {
            throw ChatFormatError.unreadableFile(path: path)
        }
        guard let source = String(data: data, encoding: .utf8) else { throw ChatFormatError.notUTF8(path: path) }
        let (bos, eos) = specialTokens(of: model)
        let name = (path as NSString).lastPathComponent
        let compiled: JinjaTemplate
        do { compiled = try JinjaTemplate(source) } catch {
            throw ChatFormatError.templateFailed(name: name, stage: "cannot be used", reason: "\(error)")
        }
        let render: @Sendable ([ChatMessage], Bool) throws -> String = { messages, addGenerationPrompt in
            do {
                return try compiled.renderChat(messages, addGenerationPrompt: addGenerationPrompt, bosToken: bos, eosToken: eos)
            } catch {
                throw ChatFormatError.templateFailed(name: name, stage: "failed to render", reason: "\(error)")
            }
        }
        return ChatFormat(name: name, notices: NoticeBox(), defaultSystemPrompt: SystemPromptProbe.defaultPrompt(render),
                          render: render)
    }

    private static func specialTokens(of model: Model) -> (String?, String?) {
        let t = model.tokenizer
        return (t.bos.map { t.pieceText($0) }, t.eos.map { t.pieceText($0) })
    }
}

/// A chat template the user named that cannot be used.
public enum ChatFormatError: Error, CustomStringConvertible, Equatable {
    case unknownTemplate(name: String, known: [String])
    case unreadableFile(path: String)
    case notUTF8(path: String)
    /// A template the user named that does not compile ("cannot be used") or render ("failed to render").
    case templateFailed(name: String, stage: String, reason: String)

    public var description: String {
        switch self {
        case let .unknownTemplate(name, known): return "unknown chat template '\(name)' (known: \(known.joined(separator: ", ")))"
        case let .unreadableFile(path): return "\(path): cannot read the chat template file"
        case let .notUTF8(path): return "\(path): the chat template file is not valid UTF-8"
        case let .templateFailed(name, stage, reason): return "\(name) \(stage) (\(reason))"
        }
    }
}

/// A message posted by a format for the user, taken once.
private final class NoticeBox: Sendable {
    private let state = Mutex<(pending: String?, posted: Bool)>((nil, false))
    func post(_ message: String) { state.withLock { $0 = (message, true) } }
    func postOnce(_ message: String) {
        state.withLock { if !$0.posted { $0 = (message, true) } }
    }
    func take() -> String? { state.withLock { s in defer { s.pending = nil }; return s.pending } }
}
