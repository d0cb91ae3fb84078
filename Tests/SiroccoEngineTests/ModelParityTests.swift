// End-to-end parity with llama.cpp on the default model (SmolLM2-135M-Instruct Q4_1):
// same prompt tokens → top-5 logits within tolerance, and the same 32-token greedy continuation.

import Foundation
import Testing
@testable import SiroccoEngine

/// Logit tolerance (absolute). Both engines quantize activations to Q8_1/Q8_0, sum the same integer
/// products and run attention the way ggml's CPU flash attention does (F16 query and accumulator),
/// but accumulate float block sums in a different order and use different exp/sin/cos. Measured
/// worst top-5 difference over the reference prompts: 0.37 (the 297-token prompt) on logits of
/// magnitude 15-20. llama.cpp itself moves these logits by 0.4-1.2 between flash attention on and
/// off, and by up to 1.0 between 1 and 2 threads on the long prompt (scripts/make_reference.py
/// records that), so 0.45 is tighter than llama.cpp's own spread and still catches any real error
/// (a wrong scale, RoPE pair or head mapping moves logits by whole units).
let logitTolerance: Float = 0.45

/// Greedy decoding may differ from llama.cpp only at a near-tie: a step where llama.cpp's top two
/// logits are closer than this and our choice is llama.cpp's second-best token.
let nearTieMargin: Float = 0.45

@Suite(.serialized) struct ModelParityTests {
    @Test func promptTokensMatchLlamaCpp() throws {
        let model = try ReferenceModel.load()
        for p in try ReferenceModel.reference().prompts {
            #expect(model.tokenizer.encode(p.prompt, addSpecial: true, parseSpecial: true) == p.ids, "\(p.name)")
        }
    }

    @Test func topLogitsMatchLlamaCpp() throws {
        let model = try ReferenceModel.load()
        let context = InferenceContext(model: model, contextLength: 1024, threads: 2)
        for p in try ReferenceModel.reference().prompts {
            context.reset()
            let logits = try context.evaluate(p.ids)
            for pair in p.top5 {
                let id = Int(pair[0])
                let expected = pair[1]
                #expect(abs(logits[id] - expected) <= logitTolerance,
                        "\(p.name): token \(id) logit \(logits[id]) vs llama.cpp \(expected)")
            }
            // the same token wins, unless llama.cpp's own top two are a near-tie
            let ours = SamplerChain.argmax(logits)
            let margin = p.top5[0][1] - p.top5[1][1]
            #expect(ours == Int32(p.top5[0][0]) || (margin < nearTieMargin && ours == Int32(p.top5[1][0])),
                    "\(p.name): argmax \(ours), llama.cpp \(Int(p.top5[0][0])) (margin \(margin))")
        }
    }

    /// Along the greedy path llama.cpp's own logits are less stable than at the prompt: switching
    /// its flash attention off moves the top-5 by a median 0.24 and up to 1.2 (recorded per step
    /// in the reference). Our per-step difference to llama.cpp measured a median 0.25, max 1.56.
    /// So each step must stay within max(0.6, 2 × llama.cpp's own on/off difference at that step),
    /// and the median over all steps within 0.3.
    @Test func greedyContinuationsMatchLlamaCpp() throws {
        let model = try ReferenceModel.load()
        let context = InferenceContext(model: model, contextLength: 1024, threads: 2)
        var exact = 0
        var allDiffs: [Float] = []
        for p in try ReferenceModel.reference().prompts {
            context.reset()
            var logits = try context.evaluate(p.ids)
            var produced: [Int32] = []
            for (k, step) in p.steps.enumerated() {
                let diff = step.top5.map { abs(logits[Int($0[0])] - $0[1]) }.max()!
                allDiffs.append(diff)
                let allowed = max(0.6, 2 * p.flash_attn_off.top5_maxdiff[k])
                #expect(diff <= allowed, "\(p.name) step \(k): top-5 logits differ by \(diff) (allowed \(allowed))")
                let next = SamplerChain.argmax(logits)
                produced.append(next)
                if next != step.id {
                    // only a near-tie may flip, and only to llama.cpp's runner-up
                    #expect(step.top2_margin < nearTieMargin && Int32(step.top5[1][0]) == next,
                            "\(p.name): diverged at step \(k) (llama.cpp margin \(step.top2_margin))")
                    break
                }
                logits = try context.evaluate([next])
            }
            if produced == p.greedy {
                exact += 1
                #expect(model.tokenizer.decode(produced, renderSpecial: true) == p.greedy_text, "\(p.name)")
            }
        }
        let median = allDiffs.sorted()[allDiffs.count / 2]
        #expect(median <= 0.3, "median per-step logit difference \(median)")
        // measured: 3 of the 6 reference prompts match all 32 greedy tokens; the others flip at
        // llama.cpp margins of 0.13, 0.02 and 0.075 (llama.cpp flips there itself without flash attention)
        #expect(exact >= 3, "only \(exact) prompts matched all 32 greedy tokens")
    }

    @Test func promptInBatchesEqualsOneBatch() throws {
        // prefill split into small batches must give the same logits as one batch
        let model = try ReferenceModel.load()
        let prompt = try ReferenceModel.reference().prompts.first { $0.ids.count > 100 }!.ids
        let whole = InferenceContext(model: model, contextLength: 512, batchSize: 512, threads: 2)
        let split = InferenceContext(model: model, contextLength: 512, batchSize: 7, threads: 1)
        let a = try whole.evaluate(prompt)
        let b = try split.evaluate(prompt)
        let maxDiff = zip(a, b).map { abs($0 - $1) }.max()!
        #expect(maxDiff < 1e-3, "max difference \(maxDiff)")
    }

    @Test func contextOverflowIsAnError() throws {
        let model = try ReferenceModel.load()
        let context = InferenceContext(model: model, contextLength: 16, threads: 1)
        #expect(throws: ModelError.contextFull(needed: 20, capacity: 16)) {
            try context.evaluate([TokenID](repeating: 42, count: 20))
        }
        #expect(context.position == 0)
        #expect(throws: ModelError.invalidToken(id: 999_999, vocabularySize: 49152)) {
            try context.evaluate([999_999])
        }
    }
}
