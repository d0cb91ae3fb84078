// InferenceContext: how many threads a call runs on changes who computes what, never the result.

import Foundation
import Testing
@testable import SiroccoEngine

struct InferenceContextTests {
    /// A prompt, then one token at a time past 512 positions (where one token's attention is split
    /// over the pool's threads), at every width of a 3-thread pool and with the width left to the
    /// context: the logits are the same bit for bit.
    @Test func logitsDoNotDependOnHowManyThreadsRun() throws {
        let model = try Model(path: try fixtureURL("Fixtures/synthetic/llama-dense-q4_1", "gguf").path)
        let vocab = model.config.vocabularySize
        let prompt = (0..<520).map { TokenID(($0 * 31 + 7) % vocab) }
        func run(width: Int?) throws -> [[Float]] {
            let context = InferenceContext(model: model, contextLength: 544, batchSize: 128, threads: 3)
            if let width {
                context.adaptsThreadCount = false
                context.pool.width = width
            }
            var out = [try context.evaluate(prompt)]
            for i in 0..<8 { out.append(try context.evaluate([TokenID((i * 17 + 3) % vocab)])) }
            return out
        }
        let full = try run(width: 3)
        for width in [2, 1, nil] {
            #expect(try run(width: width) == full, "width \(width.map(String.init) ?? "adaptive")")
        }
    }
}
