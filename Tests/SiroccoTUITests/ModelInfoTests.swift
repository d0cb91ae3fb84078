// /show info: the facts about the focused pane's model and chat, on the real default model.

import Foundation
@testable import SiroccoTUI
import SiroccoEngine
import Testing

struct ModelInfoTests {
    @Test func numbersReadAsOllamaShowsThem() {
        #expect(ModelInfo.parameters(134_515_008) == "134.5M")
        #expect(ModelInfo.parameters(1_543_714_304) == "1.54B")
        #expect(ModelInfo.parameters(900) == "900")
    }

    @Test func infoOfTheDefaultModel() throws {
        guard FileManager.default.fileExists(atPath: defaultModelPath) else {
            throw TUITestError("default model missing at \(defaultModelPath)")
        }
        let session = try ChatSession(model: try Model(path: defaultModelPath), contextLength: 512, threads: 1)
        let lines = ModelInfo.lines(for: session, name: "SmolLM2-135M-Instruct.Q4_1")
        #expect(lines.contains("architecture: llama"))
        #expect(lines.contains("quantization: Q4_1"))
        #expect(lines.contains("context length: 512 in this chat, 8192 trained"))
        #expect(lines.contains("chat template: model template (chatml family)"))
        #expect(lines.contains("system prompt: You are a helpful AI assistant named SmolLM, trained by Hugging Face (the template's default)"))
        #expect(lines.contains { $0.hasPrefix("parameters: 1") && $0.hasSuffix("M") }, "\(lines)")
        session.systemPrompt = "Be brief."
        #expect(ModelInfo.lines(for: session, name: "x").last == "system prompt: Be brief.")
    }
}
