// End-to-end parity with llama.cpp on real models — SmolLM2-135M-Instruct Q4_1 (the default) and
// Gemma 3 270M Q4_K_M (sliding window 512; prompts of 1,181 and 559 tokens exceed it): same prompt
// tokens → top-5 logits within tolerance, and the same 32-token greedy continuation except at
// near-ties (followed on llama.cpp's path, so all 32 steps are compared).

import CKernels
import Foundation
import Testing
@testable import SiroccoEngine

/// How close is close enough is measured against llama.cpp's own spread: the reference records,
/// for every step, how far llama.cpp's top-5 logits move when only its attention implementation
/// changes (flash attention on vs off). Per step that spread has a median of 0.24 (SmolLM2) and
/// 0.30 (Gemma 3), up to 1.2. The fixtures come from one machine's build of llama.cpp (an AVX-512
/// Xeon); the same llama.cpp built on an AVX2-only EPYC differs from them by a median of 0.23, up
/// to 0.38 at the prompt and 0.83 along the greedy path, and Sirocco's own results move between
/// those CPUs too. Our difference to llama.cpp measured a median of 0.25–0.28 (SmolLM2) and 0.30–0.34.
/// llama.cpp's cross-build difference exceeds 3 × the FA spread at some steps (up to 8 ×), so the
/// per-step bound needs a floor that covers both builds: our largest step difference measured 1.07
/// on the EPYC where 3 × the spread was 1.06.
/// Rules: at the prompt, within max(0.5, 2 × that spread); along the greedy path, within
/// max(1.2, 3 × the spread at that step) (1.2: about 4–6% of the top logits, 20–30); and a median
/// no more than 1.3 × llama.cpp's own median, which is what catches small systematic errors.
/// Any real error (a wrong scale, RoPE pair, head mapping or window) moves logits by whole units.
let logitTolerance: Float = 0.5

/// The floor of the per-step bound along the greedy path (see logitTolerance).
let stepTolerance: Float = 1.2

/// Greedy decoding may differ from llama.cpp only at a near-tie: a step where our choice is among
/// llama.cpp's top five and its logit there is within this of llama.cpp's best.
let nearTieMargin: Float = 0.45

/// Whether choosing `ours` where llama.cpp chose top5[0] is a near-tie (top5: [token, logit] pairs):
/// within `margin` (at least nearTieMargin) of llama.cpp's best.
func isNearTie(_ ours: Int32, top5: [[Float]], margin: Float = nearTieMargin) -> Bool {
    top5.contains { Int32($0[0]) == ours && top5[0][1] - $0[1] < max(margin, nearTieMargin) }
}

/// (model file, reference fixture)
let parityModels = [("smollm2", "smollm2-reference"), ("gemma3", "gemma3-reference")]

func parityModel(_ name: String) throws -> Model {
    try ReferenceModel.load(name == "gemma3" ? ReferenceModel.gemmaPath : ReferenceModel.path)
}

@Suite(.serialized) struct ModelParityTests {
    @Test(arguments: parityModels)
    func promptTokensMatchLlamaCpp(model name: String, reference: String) throws {
        let model = try parityModel(name)
        for p in try ReferenceModel.reference(reference).prompts {
            #expect(model.tokenizer.encode(p.prompt, addSpecial: true, parseSpecial: true) == p.ids, "\(p.name)")
        }
    }

    @Test(arguments: parityModels)
    func topLogitsMatchLlamaCpp(model name: String, reference: String) throws {
        try checkPromptParity(try parityModel(name), try ReferenceModel.reference(reference).prompts, label: name)
    }

    /// Each prompt's top-5 logits within max(0.5, 2 × llama.cpp's flash attention spread there), and
    /// the same argmax unless it is a near-tie.
    func checkPromptParity(_ model: Model, _ prompts: [ReferenceModel.Data.Prompt], label name: String) throws {
        let context = InferenceContext(model: model, contextLength: 2048, threads: 2)
        var diffs: [Float] = []
        for p in prompts {
            context.reset()
            let logits = try context.evaluate(p.ids)
            let allowed = max(logitTolerance, 2 * p.flash_attn_off!.top5_maxdiff[0])
            for pair in p.top5 {
                let id = Int(pair[0])
                let expected = pair[1]
                diffs.append(abs(logits[id] - expected))
                #expect(abs(logits[id] - expected) <= allowed,
                        "\(name) \(p.name): token \(id) logit \(logits[id]) vs llama.cpp \(expected) (allowed \(allowed))")
            }
            // the same token wins, unless ours and llama.cpp's are a near-tie there
            let ours = SamplerChain.argmax(logits)
            #expect(ours == Int32(p.top5[0][0]) || isNearTie(ours, top5: p.top5),
                    "\(name) \(p.name): argmax \(ours), llama.cpp \(Int(p.top5[0][0])) (top five \(p.top5))")
        }
        if ProcessInfo.processInfo.environment["SIROCCO_PARITY_REPORT"] != nil {
            let own = prompts.map { $0.flash_attn_off!.top5_maxdiff[0] }
            print("parity \(name) prompts: top-5 |Δlogit| max \(diffs.max()!), mean \(diffs.reduce(0, +) / Float(diffs.count)) (llama.cpp's flash attention on/off, per prompt: max \(own.max()!), mean \(own.reduce(0, +) / Float(own.count)))")
        }
    }

    @Test(arguments: parityModels)
    func greedyContinuationsMatchLlamaCpp(model name: String, reference: String) throws {
        let prompts = try ReferenceModel.reference(reference).prompts
        try checkGreedyParity(try parityModel(name), prompts, spreads: prompts.map { $0.flash_attn_off!.top5_maxdiff },
                              cacheType: .f16, label: name)
    }

    /// The same with a Q8_0 cache against llama.cpp's `--cache-type-k/-v q8_0` (which rotates queries,
    /// keys and values by a Walsh–Hadamard matrix around the cache; Sirocco does the same; Gemma 3's
    /// head size 256 takes one 256-wide rotation for keys, four 64-wide ones for values). The spread
    /// is how far llama.cpp's logits move when only its cache type changes (q8_0 vs F16, along the
    /// same path): a quantized cache turns tiny differences in a key into whole rounding steps, so
    /// two correct implementations differ about that much (median 0.27, as the F16 comparisons).
    @Test(arguments: [("smollm2", "smollm2-reference"), ("gemma3", "gemma3-reference")])
    func greedyContinuationsMatchLlamaCppWithQ8Cache(model name: String, reference: String) throws {
        let prompts = try ReferenceModel.reference(reference + "-q8_0").prompts
        #expect(prompts.map(\.ids) == (try ReferenceModel.reference(reference).prompts.map(\.ids)))
        try checkGreedyParity(try parityModel(name), prompts, spreads: prompts.map { $0.f16_cache!.top5_maxdiff },
                              cacheType: .q8_0, label: "\(name) q8_0")
    }

    /// Greedy steps along llama.cpp's path: every step's top-5 logits within max(1.2, 3 × spread),
    /// flips only at near-ties, and the median difference within 1.3 × the median spread.
    @discardableResult
    func checkGreedyParity(_ model: Model, _ prompts: [ReferenceModel.Data.Prompt], spreads: [[Float]],
                           cacheType: KVCacheType, label name: String) throws -> (median: Float, ownMedian: Float) {
        let context = try InferenceContext(model: model, contextLength: 2048, threads: 2, cacheType: cacheType)
        var exact = 0
        var flips = 0
        var nearTies = 0
        var allDiffs: [Float] = []
        var ownDiffs: [Float] = []
        for (p, spread) in zip(prompts, spreads) {
            context.reset()
            var logits = try context.evaluate(p.ids)
            var produced: [Int32] = []
            for (k, step) in p.steps.enumerated() {
                // a step where llama.cpp itself moves a lot (a quantized cache rounds a slightly
                // different key to a different integer) tolerates a flip over a wider margin
                let margin = max(nearTieMargin, 2 * spread[k])
                if step.top5[0][1] - step.top5[1][1] < margin { nearTies += 1 }
                let diff = step.top5.map { abs(logits[Int($0[0])] - $0[1]) }.max()!
                allDiffs.append(diff)
                ownDiffs.append(spread[k])
                let allowed = max(stepTolerance, 3 * spread[k])
                #expect(diff <= allowed, "\(name) \(p.name) step \(k): top-5 logits differ by \(diff) (allowed \(allowed))")
                let next = SamplerChain.argmax(logits)
                produced.append(next)
                if next != step.id {
                    // only a near-tie may flip
                    #expect(isNearTie(next, top5: step.top5, margin: margin),
                            "\(name) \(p.name): diverged at step \(k) to \(next) (llama.cpp's top five \(step.top5))")
                    flips += 1
                }
                // llama.cpp's token goes in, so every step compares logits along llama.cpp's path
                logits = try context.evaluate([step.id])
            }
            if produced == p.greedy {  // no flip: the same text
                exact += 1
                #expect(model.tokenizer.decode(produced, renderSpecial: true) == p.greedy_text, "\(p.name)")
            }
        }
        let median = allDiffs.sorted()[allDiffs.count / 2]
        let ownMedian = ownDiffs.sorted()[ownDiffs.count / 2]
        if ProcessInfo.processInfo.environment["SIROCCO_PARITY_REPORT"] != nil {
            let mean = allDiffs.reduce(0, +) / Float(allDiffs.count), ownMean = ownDiffs.reduce(0, +) / Float(ownDiffs.count)
            print("parity \(name): \(exact)/\(prompts.count) exact, \(flips) flips at \(nearTies) near-ties, median step diff \(median) (llama.cpp's own spread \(ownMedian)), mean \(mean) (own \(ownMean)), max \(allDiffs.max()!) (own \(ownDiffs.max()!))")
        }
        #expect(median <= 1.3 * ownMedian, "\(name): median per-step difference \(median), llama.cpp's own \(ownMedian)")
        // A flip at a near-tie is a coin toss once the margin is below our typical difference (~0.27),
        // so how many prompts match all 32 tokens is luck: rounding-order changes in the kernels moved
        // SmolLM2 between 1 and 5 of 6. Measured: 1 to 6 flips at SmolLM2's 27 near-tie steps (margins
        // 0.005 to 0.15), 1 at Gemma's 11. An error with a direction would flip most of them.
        #expect(flips * 2 <= nearTies, "\(name): \(flips) flips at \(nearTies) near-tie steps")
        return (median, ownMedian)
    }

    @Test func promptInBatchesEqualsOneBatch() throws {
        // prefill split into batches must give the logits of one batch, on each attention path:
        // batches of SK_ATTENTION_TILE rows or more go through the tiled path, shorter ones row by row
        // (as in llama.cpp, the two paths differ by rounding, so each is compared with itself)
        let model = try ReferenceModel.load()
        let longest = try ReferenceModel.reference().prompts.map(\.ids).max { $0.count < $1.count }!
        let tile = Int(SK_ATTENTION_TILE)
        let tiled = Array(longest.prefix(longest.count / tile * tile))
        #expect(tiled.count >= 2 * tile)
        for (prompt, a, b) in [(tiled, 512, tile), (longest, 7, 1)] {
            let whole = InferenceContext(model: model, contextLength: 512, batchSize: a, threads: 2)
            let split = InferenceContext(model: model, contextLength: 512, batchSize: b, threads: 1)
            let x = try whole.evaluate(prompt)
            let y = try split.evaluate(prompt)
            let maxDiff = zip(x, y).map { abs($0 - $1) }.max()!
            #expect(maxDiff < 1e-3, "batches of \(a) and \(b): max difference \(maxDiff)")
        }
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
