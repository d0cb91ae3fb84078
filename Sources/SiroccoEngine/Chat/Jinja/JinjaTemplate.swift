// JinjaTemplate: the public face of the Jinja interpreter — compile a GGUF file's
// `tokenizer.chat_template` once, render it for each prompt. Output is byte-identical to
// Hugging Face transformers' rendering (jinja2 with trim_blocks and lstrip_blocks) for the
// subset of Jinja chat templates use. Compiling and rendering only read the template and the
// values given; they never touch files, the network or the clock (except `strftime_now`).

import Foundation

/// A compiled Jinja template, e.g. a model's chat template.
public struct JinjaTemplate: Sendable {
    private let body: [JinjaStatement]

    /// Compiles `source`; throws `JinjaError.syntax` (with the line) for invalid templates and
    /// `JinjaError.unsupported` for Jinja features this interpreter lacks.
    public init(_ source: String, limits: JinjaLimits = .standard) throws {
        var lexer = JinjaLexer(source)
        var parser = JinjaParser(try lexer.tokenize(), limits: limits)
        body = try parser.parseTemplate()
    }

    /// Renders the template with `context` as its variables; `strftime_now` reads the clock.
    public func render(_ context: [String: JinjaValue]) throws -> String {
        try render(context, now: Date())
    }

    /// Renders the template with `context` as its variables and `now` as the time `strftime_now`
    /// formats (in the local time zone).
    public func render(_ context: [String: JinjaValue], now: Date, limits: JinjaLimits = .standard) throws -> String {
        try JinjaEvaluator(now: now, limits: limits).render(body, context: context)
    }

    /// Renders a chat prompt the way transformers' `apply_chat_template` does: `messages`,
    /// `add_generation_prompt`, `tools` and `documents` (None unless given in `extra`), and the
    /// special tokens the model has (a nil token is left undefined, as transformers omits unset ones).
    public func renderChat(_ messages: [ChatMessage], addGenerationPrompt: Bool, bosToken: String?, eosToken: String?,
                           extra: [String: JinjaValue] = [:]) throws -> String {
        var context: [String: JinjaValue] = [
            "messages": .messages(messages),
            "add_generation_prompt": .bool(addGenerationPrompt),
            "tools": .none,
            "documents": .none,
        ]
        if let bosToken { context["bos_token"] = .string(bosToken) }
        if let eosToken { context["eos_token"] = .string(eosToken) }
        context.merge(extra) { _, new in new }
        return try render(context)
    }
}
