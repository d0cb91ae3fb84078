// CompletionText: a conversation as plain text for completion mode (a base model): no roles, no
// markers; the model's answer is the continuation of the text before it.

/// The prompt text of completion mode.
enum CompletionText {
    /// The system prompt (if any) and a blank line, then the texts in order. An answer continues
    /// the text before it, so nothing goes between them; a user's text starts on a new line when
    /// there is no whitespace where it meets the text before it, so two texts never run into one word.
    static func render(_ messages: [ChatMessage]) -> String {
        var out = ""
        for m in messages {
            if m.role == "system" {
                if !m.content.isEmpty { out += m.content + "\n\n" }
                continue
            }
            if m.role == "user", let last = out.last, !last.isWhitespace, m.content.first?.isWhitespace == false {
                out += "\n"
            }
            out += m.content
        }
        return out
    }
}
