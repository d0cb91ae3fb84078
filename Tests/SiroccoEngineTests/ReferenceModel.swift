// Shared access to the default model and llama.cpp's reference data for it.

import Foundation
@testable import SiroccoEngine
import TestSupport

enum ReferenceModel {
    /// Where `sirocco pull` puts models.
    static var directory: String { TestModelFiles.directory }

    /// The tests' model (SmolLM2, `sirocco pull smollm2:135m`): $SIROCCO_MODEL, else its place in the models folder.
    static var path: String { TestModelFiles.smolLM2 }

    static var gemmaPath: String { directory + "/gemma-3-270m-q4_k_m.gguf" }

    struct Missing: Error, CustomStringConvertible {
        let path: String
        var description: String { "model not found at \(path): run sirocco pull smollm2:135m gemma3:270m" }
    }

    /// Loaded once per path and shared by every test (tests that use them run serialized).
    nonisolated(unsafe) private static var cached: [String: Model] = [:]
    private static let lock = NSLock()

    static func load(_ modelPath: String = path) throws -> Model {
        lock.lock()
        defer { lock.unlock() }
        if let model = cached[modelPath] { return model }
        guard FileManager.default.fileExists(atPath: modelPath) else { throw Missing(path: modelPath) }
        let model = try Model(path: modelPath)
        cached[modelPath] = model
        return model
    }

    struct Data: Decodable {
        struct Case: Decodable { var text: String; var ids: [Int32] }
        struct Detok: Decodable { var ids: [Int32]; var text: String }
        struct Step: Decodable { var id: Int32; var top5: [[Float]] }
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
            /// F16 fixtures: llama.cpp with flash attention off, along the same path.
            var flash_attn_off: FlashAttentionOff?
            /// Q8_0-cache fixtures: llama.cpp with its default F16 cache, along the same path.
            var f16_cache: FlashAttentionOff?
        }
        var tokenize: [Case]
        var tokenize_plain: [Case]
        var detokenize: [Detok]
        var prompts: [Prompt]
    }

    static func reference(_ name: String = "smollm2-reference") throws -> Data {
        let url = try fixtureURL("Fixtures/\(name)", "json")
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
