// Shared access to the default model and llama.cpp's reference data for it.

import Foundation
@testable import SiroccoEngine

enum ReferenceModel {
    /// The default model's path: $SIROCCO_MODEL, else where scripts/setup-models.sh puts it.
    static var path: String {
        let env = ProcessInfo.processInfo.environment
        if let p = env["SIROCCO_MODEL"], !p.isEmpty { return p }
        let dir = env["SIROCCO_MODELS"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory() + "/.cache/sirocco/models"
        return dir + "/SmolLM2-135M-Instruct.Q4_1.gguf"
    }

    struct Missing: Error, CustomStringConvertible {
        var description: String { "default model not found at \(ReferenceModel.path): run scripts/setup-models.sh" }
    }

    /// Loaded once and shared by every test (tests that use it run serialized).
    nonisolated(unsafe) private static var cached: Model?
    private static let lock = NSLock()

    static func load() throws -> Model {
        lock.lock()
        defer { lock.unlock() }
        if let cached { return cached }
        guard FileManager.default.fileExists(atPath: path) else { throw Missing() }
        let model = try Model(path: path)
        cached = model
        return model
    }

    struct Data: Decodable {
        struct Case: Decodable { var text: String; var ids: [Int32] }
        struct Detok: Decodable { var ids: [Int32]; var text: String }
        struct Step: Decodable { var id: Int32; var top2_margin: Float; var top5: [[Float]] }
        /// llama.cpp with flash attention off, per greedy step: how far its own top-5 logits moved.
        struct FlashAttentionOff: Decodable { var top5_maxdiff: [Float] }
        struct Prompt: Decodable {
            var name: String
            var prompt: String
            var ids: [Int32]
            var top5: [[Float]]
            var greedy: [Int32]
            var greedy_text: String
            var steps: [Step]
            var flash_attn_off: FlashAttentionOff
        }
        var tokenize: [Case]
        var tokenize_plain: [Case]
        var detokenize: [Detok]
        var prompts: [Prompt]
    }

    static func reference() throws -> Data {
        let url = try fixtureURL("Fixtures/smollm2-reference", "json")
        return try JSONDecoder().decode(Data.self, from: Foundation.Data(contentsOf: url))
    }
}

struct MissingFixture: Error, CustomStringConvertible {
    let name: String
    var description: String { "fixture \(name) is missing from the test bundle" }
}

/// A bundled fixture's URL, or an error naming the missing file.
func fixtureURL(_ name: String, _ ext: String) throws -> URL {
    guard let url = Bundle.module.url(forResource: name, withExtension: ext) else { throw MissingFixture(name: "\(name).\(ext)") }
    return url
}
