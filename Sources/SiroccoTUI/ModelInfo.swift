// ModelInfo: what /show info prints about a pane's model and chat — architecture, parameter
// count, quantization (the GGUF's file type, named as llama.cpp names it), context length (this
// chat's and the trained one), chat template and the effective system prompt. Pure text.

import Foundation
import SiroccoEngine

enum ModelInfo {
    /// llama.cpp's `llama_ftype` names for `general.file_type` (a table, as llama_model_ftype_name).
    static let fileTypeNames: [Int: String] = [
        0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K", 11: "Q3_K_S",
        12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K",
        19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS", 23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL",
        26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S", 29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16", 36: "TQ1_0",
        37: "TQ2_0", 38: "MXFP4_MOE",
    ]
    /// llama.cpp sets this bit on a file type it guessed from the tensors.
    static let guessedFileType = 1024

    /// "Q4_K_M"; for a file without `general.file_type`, its most common tensor type.
    static func quantization(_ model: Model) -> String {
        if let raw = model.file.int(GGUFKey.fileType) {
            let type = raw & ~guessedFileType
            return fileTypeNames[type] ?? "file type \(type)"
        }
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
    static func systemPrompt(_ session: ChatSession) -> String {
        if let own = session.systemPrompt, !own.isEmpty { return own }
        if let implied = session.format.defaultSystemPrompt { return "\(implied) (the template's default)" }
        return "none"
    }

    /// The lines of /show info, one fact each.
    static func lines(for session: ChatSession, name: String) -> [String] {
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
