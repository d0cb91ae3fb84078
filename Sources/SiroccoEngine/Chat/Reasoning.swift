// Reasoning: the `<think>…</think>` blocks reasoning models (Qwen3, QwQ, DeepSeek-R1) write before
// their answer. Some templates open the block in the generation prompt, so the answer starts inside
// it and carries only the closing tag (ollama #18221). Pure text logic, shared by the engine's token
// count and the TUI's folding.

/// Finds the reasoning block of an answer and counts the tokens spent in it as they stream.
public enum Reasoning {
    public static let openTag = "<think>"
    public static let closeTag = "</think>"

    /// Whether a prompt's text leaves the answer inside a reasoning block: it ends with an opening
    /// tag (and whitespace), as DeepSeek-R1's generation prompt does.
    public static func promptOpensBlock(_ promptTail: String) -> Bool {
        var tail = Substring(promptTail)
        while let last = tail.last, last.isWhitespace { tail.removeLast() }
        return tail.hasSuffix(openTag)
    }

    /// An answer cut into its reasoning and the rest.
    public struct Split: Equatable, Sendable {
        /// The reasoning's text (tags removed, trimmed), nil when the answer has none.
        public var reasoning: String?
        /// The answer after the reasoning (or all of it).
        public var answer: String
        /// The block has not been closed (yet): everything so far is reasoning.
        public var open: Bool
    }

    /// Splits `answer`: a block that opens at its start (after whitespace), or — when the answer
    /// `startsInside` a block the prompt opened, or carries a closing tag without an opening one —
    /// everything before the first closing tag.
    public static func split(_ answer: String, startsInside: Bool = false) -> Split {
        var body = Substring(answer)
        var opened = startsInside
        let leading = body.drop(while: { $0.isWhitespace })
        if leading.hasPrefix(openTag) {
            body = leading.dropFirst(openTag.count)
            opened = true
        }
        if let close = body.range(of: closeTag) {
            return Split(reasoning: trimmed(body[..<close.lowerBound]), answer: String(trimmedLeading(body[close.upperBound...])),
                         open: false)
        }
        if opened { return Split(reasoning: trimmed(body), answer: "", open: true) }
        return Split(reasoning: nil, answer: answer, open: false)
    }

    private static func trimmedLeading(_ s: Substring) -> Substring { s.drop(while: { $0.isWhitespace }) }

    private static func trimmed(_ s: Substring) -> String {
        var t = trimmedLeading(s)
        while let last = t.last, last.isWhitespace { t.removeLast() }
        return String(t)
    }
}

/// Counts the generated tokens that belong to the reasoning block, fed one token's text at a time.
struct ReasoningCounter {
    private(set) var tokens = 0
    private var inside: Bool
    private var closed = false
    private var seenOpen = false
    /// Tokens so far, and the answer's text so far (only its start and the last few characters
    /// matter: an opening tag counts at the start, a closing one anywhere).
    private var count = 0
    private var text = ""

    init(startsInside: Bool) { inside = startsInside }

    /// Takes the text one generated token added (possibly empty while a stop string or a UTF-8
    /// sequence is held back).
    mutating func add(_ piece: String) {
        count += 1
        if closed { return }
        text += piece
        if !inside && !seenOpen {
            let leading = text.drop(while: { $0.isWhitespace })
            if leading.hasPrefix(Reasoning.openTag) {
                seenOpen = true
                inside = true
            } else if !Reasoning.openTag.hasPrefix(String(leading.prefix(Reasoning.openTag.count))) {
                seenOpen = true  // the answer did not open a block; a closing tag may still end one the template opened
            }
        }
        if text.contains(Reasoning.closeTag) {
            // a closing tag without an opening one: everything before it was reasoning
            tokens = count
            closed = true
            inside = false
            return
        }
        if inside { tokens = count }
        // keep only what a closing tag split across tokens needs
        if text.utf8.count > 64 { text = String(text.suffix(Reasoning.closeTag.count)) }
    }
}
