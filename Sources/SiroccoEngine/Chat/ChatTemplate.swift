// ChatTemplate: built-in prompt formats, and detection of the format a GGUF's Jinja template
// follows by its distinctive substrings (as llama.cpp's llm_chat_detect_template).

/// A built-in chat prompt format.
public enum ChatTemplate: String, Sendable, CaseIterable {
    case chatml
    case llama2
    case llama3
    case mistralV1 = "mistral-v1"
    case mistralV3 = "mistral-v3"

    /// The built-in format a Jinja template text follows, if recognised.
    public static func detect(fromJinja text: String) -> ChatTemplate? {
        if text.contains("<|im_start|>") { return .chatml }
        if text.contains("<|start_header_id|>") && text.contains("<|end_header_id|>") { return .llama3 }
        if text.contains("<<SYS>>") { return .llama2 }
        if text.contains("[INST]") {
            return text.contains(" [INST]") || text.contains("' [INST] '") ? .mistralV1 : .mistralV3
        }
        return nil
    }

    /// Renders `messages` into a prompt; with `addGenerationPrompt` it ends where the assistant speaks.
    /// `bos` is the BOS token text for formats that write it into the prompt.
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool = true, bos: String = "<s>") -> String {
        switch self {
        case .chatml:
            var out = ""
            for m in messages { out += "<|im_start|>\(m.role)\n\(m.content)<|im_end|>\n" }
            if addGenerationPrompt { out += "<|im_start|>assistant\n" }
            return out
        case .llama3:
            var out = "<|begin_of_text|>"
            for m in messages {
                out += "<|start_header_id|>\(m.role)<|end_header_id|>\n\n\(m.content.trimmingWhitespace())<|eot_id|>"
            }
            if addGenerationPrompt { out += "<|start_header_id|>assistant<|end_header_id|>\n\n" }
            return out
        case .llama2, .mistralV1, .mistralV3:
            // the system prompt is folded into the first user turn
            var system: String? = nil
            var out = ""
            for m in messages {
                switch m.role {
                case "system":
                    system = m.content
                case "user":
                    var content = m.content
                    if let sys = system {
                        content = self == .llama2 ? "<<SYS>>\n\(sys)\n<</SYS>>\n\n\(content)" : "\(sys)\n\n\(content)"
                        system = nil
                    }
                    switch self {
                    case .mistralV3: out += "[INST]\(content)[/INST]"
                    default: out += "\(bos)[INST] \(content) [/INST]"
                    }
                default:
                    switch self {
                    case .mistralV3: out += "\(m.content)</s>"
                    default: out += " \(m.content)</s>"
                    }
                }
            }
            if self == .mistralV3 { out = bos + out }
            return out
        }
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
