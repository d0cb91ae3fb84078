// ChatTemplate: built-in prompt formats, each matching the real published template it is named
// after (system handling and whitespace trimming included), and detection of the format a GGUF's
// Jinja template follows by its distinctive substrings (as llama.cpp's llm_chat_detect_template).

/// A built-in chat prompt format.
public enum ChatTemplate: String, Sendable, CaseIterable {
    case chatml
    case llama2
    case llama3
    case mistralV1 = "mistral-v1"
    case mistralV3 = "mistral-v3"
    case mistralV7 = "mistral-v7"
    case gemma
    case phi3
    case zephyr

    /// The published template each format reproduces.
    public var reference: String {
        switch self {
        case .chatml: return "ChatML (Qwen2.5, SmolLM2) without a default system prompt"
        case .llama2: return "Llama-2-chat"
        case .llama3: return "Llama-3-Instruct"
        case .mistralV1: return "Mistral-7B-Instruct v0.1 with system support"
        case .mistralV3: return "Mistral-7B-Instruct v0.3"
        case .mistralV7: return "Mistral-Small-24B-Instruct-2501 (v7) without a default system prompt"
        case .gemma: return "Gemma 3 instruction-tuned"
        case .phi3: return "Phi-3-mini-instruct"
        case .zephyr: return "Zephyr"
        }
    }

    /// The built-in format a Jinja template text follows, if recognised.
    public static func detect(fromJinja text: String) -> ChatTemplate? {
        if text.contains("<|im_start|>") { return .chatml }
        if text.contains("<|start_header_id|>") && text.contains("<|end_header_id|>") { return .llama3 }
        if text.contains("<start_of_turn>") { return .gemma }
        if text.contains("<|user|>") && text.contains("<|end|>") { return .phi3 }
        if text.contains("<|user|>") { return .zephyr }
        if text.contains("[SYSTEM_PROMPT]") { return .mistralV7 }
        if text.contains("' [INST] '") { return .mistralV1 }
        if text.contains("[AVAILABLE_TOOLS]") { return .mistralV3 }
        // Llama-2 and the original Mistral v0.1 template (llama.cpp treats both as Llama-2)
        if text.contains("[INST]") { return .llama2 }
        return nil
    }

    /// Renders `messages`; with `addGenerationPrompt` it ends where the assistant speaks.
    /// `bos`/`eos` are the model's BOS and EOS token texts for the formats that write them.
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool = true,
                       bos: String = "<s>", eos: String = "</s>") -> String {
        let system = messages.first?.role == "system" ? messages[0].content : nil
        let turns = system == nil ? messages[...] : messages.dropFirst()
        var out = ""
        switch self {
        case .chatml:
            for m in messages { out += "<|im_start|>\(m.role)\n\(m.content)<|im_end|>\n" }
            if addGenerationPrompt { out += "<|im_start|>assistant\n" }

        case .llama3:
            out = bos
            for m in messages {
                out += "<|start_header_id|>\(m.role)<|end_header_id|>\n\n\(m.content.pythonStripped)<|eot_id|>"
            }
            if addGenerationPrompt { out += "<|start_header_id|>assistant<|end_header_id|>\n\n" }

        case .llama2:  // system folded into the first user turn; contents stripped
            for (i, m) in turns.enumerated() {
                if m.role == "user" {
                    var content = m.content
                    if i == 0, let system { content = "<<SYS>>\n\(system)\n<</SYS>>\n\n\(content)" }
                    out += "\(bos)[INST] \(content.pythonStripped) [/INST]"
                } else {
                    out += " \(m.content.pythonStripped) \(eos)"
                }
            }

        case .mistralV1:  // system prepended to the first user turn
            out = bos
            for (i, m) in turns.enumerated() {
                if m.role == "user" {
                    let content = i == 0 && system != nil ? "\(system!)\n\n\(m.content)" : m.content
                    out += " [INST] \(content) [/INST]"
                } else {
                    out += " \(m.content)\(eos)"
                }
            }

        case .mistralV3:  // system prepended to the final message when it is a user turn; answers stripped
            out = bos
            for (i, m) in zip(turns.indices, turns) {
                if m.role == "user" {
                    let content = i == turns.endIndex - 1 && system != nil ? "\(system!)\n\n\(m.content)" : m.content
                    out += "[INST] \(content)[/INST]"
                } else {
                    out += " \(m.content.pythonStripped)\(eos)"
                }
            }

        case .mistralV7:
            out = bos
            if let system { out += "[SYSTEM_PROMPT]\(system)[/SYSTEM_PROMPT]" }
            for m in turns {
                out += m.role == "user" ? "[INST]\(m.content)[/INST]" : "\(m.content)\(eos)"
            }

        case .gemma:  // no system role: it opens the first user turn
            out = bos
            for (i, m) in turns.enumerated() {
                let prefix = i == 0 && system != nil ? "\(system!)\n\n" : ""
                let role = m.role == "assistant" ? "model" : m.role
                out += "<start_of_turn>\(role)\n\(prefix)\(m.content.pythonStripped)<end_of_turn>\n"
            }
            if addGenerationPrompt { out += "<start_of_turn>model\n" }

        case .phi3:  // the published template ignores the system prompt
            out = bos
            for m in turns {
                out += m.role == "user" ? "<|user|>\n\(m.content)<|end|>\n<|assistant|>\n" : "\(m.content)<|end|>\n"
            }

        case .zephyr:
            for m in messages { out += "<|\(m.role)|>\n\(m.content)\(eos)\n" }
            if addGenerationPrompt { out += "<|assistant|>\n" }
        }
        return out
    }
}

extension String {
    /// The string without leading and trailing whitespace, as Python's `str.strip()` (Jinja's `trim`).
    var pythonStripped: String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[first...last])
    }
}
