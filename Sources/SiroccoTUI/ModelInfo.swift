// ModelInfo: what /show info prints about a pane's model and chat — architecture, parameter
// count, quantization (the GGUF's file type, as llama.cpp names it), context length (this
// chat's and the trained one), chat template and the effective system prompt; for a server's
// model, its name and URL (the rest is the server's). Pure text.

import Foundation
import SiroccoEngine

enum ModelInfo {
    /// "Q4_K_M" (the GGUF's file type); for a file without one, its most common tensor type.
    static func quantization(_ model: Model) -> String {
        if let name = model.file.fileTypeName { return name }
        let common = model.tensorTypeCounts.max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }
        return common.map { "\($0.key) (most tensors)" } ?? "unknown"
    }

    /// 134_515_008 → "134.5M", 1_543_714_304 → "1.54B", 900 → "900".
    static func parameters(_ n: Int) -> String {
        if n >= 1_000_000_000 { return String(format: "%.2fB", Double(n) / 1e9) }
        if n >= 1_000_000 { return String(format: "%.1fM", Double(n) / 1e6) }
        if n >= 1_000 { return String(format: "%.1fK", Double(n) / 1e3) }
        return "\(n)"
    }

    /// What a chat template is, for a person: "model template (chatml)", "completion (…)".
    static func templateDescription(_ session: ChatSession) -> String {
        let format = session.format
        if format.isCompletion {
            return session.model.chatTemplate == nil
                ? "completion (the file has no chat template: the model continues the text)"
                : "completion (the model continues the text)"
        }
        if format.name == "model template", let source = session.model.chatTemplate,
           let family = ChatTemplate.detect(fromJinja: source) {
            return "model template (\(family.rawValue) family)"
        }
        return format.name
    }

    /// The effective system prompt and where it comes from.
    static func systemPrompt(_ session: any ChatBackend) -> String {
        if let own = session.systemPrompt, !own.isEmpty { return own }
        if let implied = session.effectiveSystemPrompt { return "\(implied) (the template's default)" }
        return "none"
    }

    /// The lines of /show info, one fact each.
    static func lines(for session: any ChatBackend, name: String) -> [String] {
        if case let .remote(baseURL, model) = session.location {
            return [
                "model: \(model.isEmpty ? name : model)",
                "server: \(baseURL)",
                "runs on the server: template, context and KV cache are the server's",
                "system prompt: \(systemPrompt(session))",
            ]
        }
        guard let session = session as? ChatSession else { return ["model: \(name)", "system prompt: \(systemPrompt(session))"] }
        let model = session.model
        let c = model.config
        return [
            "model: \(name)" + (c.name.isEmpty ? "" : " (\(c.name))"),
            "architecture: \(c.architecture)",
            "parameters: \(parameters(model.parameterCount))",
            "quantization: \(quantization(model))",
            "context length: \(session.context.contextLength) in this chat, \(c.trainedContextLength) trained",
            "chat template: \(templateDescription(session))",
            "system prompt: \(systemPrompt(session))",
        ]
    }
}
