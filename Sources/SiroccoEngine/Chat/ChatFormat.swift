// ChatFormat: how a conversation becomes a prompt — a built-in format, or a Jinja template.

/// Renders messages into prompt text. The seam between a session and its template.
public struct ChatFormat: Sendable {
    /// A short name for display ("chatml", "model template (chatml)").
    public let name: String
    private let renderer: @Sendable ([ChatMessage], Bool) throws -> String

    public init(name: String, render: @escaping @Sendable ([ChatMessage], Bool) throws -> String) {
        self.name = name
        renderer = render
    }

    /// The prompt for `messages`; with `addGenerationPrompt` it ends where the assistant speaks.
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool = true) throws -> String {
        try renderer(messages, addGenerationPrompt)
    }

    /// A built-in format.
    public static func builtin(_ template: ChatTemplate, bos: String = "<s>", eos: String = "</s>") -> ChatFormat {
        ChatFormat(name: template.rawValue) { messages, addGenerationPrompt in
            template.render(messages, addGenerationPrompt: addGenerationPrompt, bos: bos, eos: eos)
        }
    }
}
