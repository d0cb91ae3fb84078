// Each sampler on a known distribution (the style of llama.cpp's test-sampling.cpp), determinism
// with a seed, and edge cases.

import Foundation
import Testing
@testable import SiroccoEngine

private let probs: [Float] = [0.1, 0.2, 0.3, 0.4]
private var logits: [Float] { probs.map { logf($0) } }

private func survivors(_ configure: (inout SamplerSettings) -> Void, logits input: [Float] = logits,
                       history: [TokenID] = []) -> (ids: [TokenID], probs: [Float]) {
    var s = SamplerSettings()
    s.topK = 0; s.topP = 1; s.minP = 0; s.temperature = 1
    configure(&s)
    var chain = SamplerChain(settings: s)
    for t in history { chain.accept(t) }
    let c = chain.candidates(input)
    return (c.ids, c.probabilities)
}

private func close(_ a: [Float], _ b: [Float]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) < 1e-5 }
}

@Suite struct SamplerChainTests {
    @Test(arguments: [
        (1, [3], [1.0]),
        (3, [3, 2, 1], [0.4 / 0.9, 0.3 / 0.9, 0.2 / 0.9]),
        (4, [3, 2, 1, 0], [0.4, 0.3, 0.2, 0.1]),
        (0, [3, 2, 1, 0], [0.4, 0.3, 0.2, 0.1]),      // 0 = off
        (100, [3, 2, 1, 0], [0.4, 0.3, 0.2, 0.1]),    // k > vocabulary
    ] as [(Int, [TokenID], [Float])])
    func topK(k: Int, ids: [TokenID], expected: [Float]) {
        let r = survivors { $0.topK = k }
        #expect(r.ids == ids && close(r.probs, expected), "\(r)")
    }

    @Test func topKOnALargeVocabularyMatchesAFullSort() {
        var rng = SplitMix64(seed: 7)
        let big = (0..<5000).map { _ in Float(rng.next() % 1000) / 10 }  // many ties
        let r = survivors({ $0.topK = 40 }, logits: big)
        let expected = big.indices.sorted { big[$0] > big[$1] || (big[$0] == big[$1] && $0 < $1) }.prefix(40).map { TokenID($0) }
        #expect(r.ids == expected)
    }

    @Test(arguments: [
        (0.0, [3], [1.0]),
        (0.3, [3], [1.0]),
        (0.65, [3, 2], [0.4 / 0.7, 0.3 / 0.7]),
        (0.85, [3, 2, 1], [0.4 / 0.9, 0.3 / 0.9, 0.2 / 0.9]),
        (1.0, [3, 2, 1, 0], [0.4, 0.3, 0.2, 0.1]),
    ] as [(Float, [TokenID], [Float])])
    func topP(p: Float, ids: [TokenID], expected: [Float]) {
        let r = survivors { $0.topP = p }
        #expect(r.ids == ids && close(r.probs, expected), "\(r)")
    }

    @Test(arguments: [
        (0.0, [3, 2, 1, 0]),
        (0.2, [3, 2, 1, 0]),
        (0.6, [3, 2]),
        (0.76, [3]),
        (1.0, [3]),
    ] as [(Float, [TokenID])])
    func minP(p: Float, ids: [TokenID]) {
        #expect(survivors { $0.minP = p }.ids == ids)
    }

    @Test func typicalKeepsTokensNearTheEntropy() {
        // entropy of [0.1 0.2 0.3 0.4] ≈ 1.28 nats; surprises: 2.30 1.61 1.20 0.92 → order 2, 1, 3, 0
        let r = survivors { $0.typicalP = 0.4 }
        #expect(r.ids == [2, 1])
        #expect(survivors { $0.typicalP = 1 }.ids.count == 4)
    }

    @Test func temperatureSharpensAndFlattens() {
        let cold = survivors { $0.temperature = 0.5 }.probs
        let hot = survivors { $0.temperature = 2 }.probs
        // p_i ∝ p_i^(1/T)
        let c = probs.reversed().map { $0 * $0 }
        let cs = c.reduce(0, +)
        #expect(close(cold, c.map { $0 / cs }))
        let h = probs.reversed().map { $0.squareRoot() }
        let hs = h.reduce(0, +)
        #expect(close(hot, h.map { $0 / hs }))
        #expect(survivors { $0.temperature = 0 }.ids == [3])
    }

    @Test func repeatPenaltyDividesPositiveAndMultipliesNegative() {
        let r = survivors({ $0.repeatPenalty = 2 }, logits: [1, -1, 2], history: [0, 1])
        // logits become [0.5, -2, 2]
        let e: [Float] = [2, 0.5, -2].map { expf($0) }
        let s = e.reduce(0, +)
        #expect(r.ids == [2, 0, 1] && close(r.probs, e.map { $0 / s }))
    }

    @Test func frequencyAndPresencePenalties() {
        let r = survivors({ $0.frequencyPenalty = 0.5; $0.presencePenalty = 1 }, logits: [1, 0, 2], history: [2, 2])
        // token 2: 2 - (2 × 0.5 + 1) = 0 → ties with token 1, which has the lower id
        #expect(r.ids == [0, 1, 2])
    }

    @Test func penaltyWindowOnlySeesRecentTokens() {
        let r = survivors({ $0.repeatPenalty = 100; $0.penaltyLastN = 1 }, logits: [3, 2, 1], history: [0, 2])
        #expect(r.ids.first == 0)  // token 0 is outside the 1-token window
    }

    @Test func logitBiasCanBanAndBoost() {
        let r = survivors { $0.logitBias = [3: -.infinity, 0: 10] }
        #expect(r.ids.first == 0 && r.probs.last == 0)
    }

    @Test func sameSeedSameTokensDifferentSeedDifferentTokens() {
        let flat = [Float](repeating: 0, count: 1000)
        func draw(_ seed: UInt64) -> [TokenID] {
            var s = SamplerSettings(); s.seed = seed; s.topK = 0; s.topP = 1; s.minP = 0
            var chain = SamplerChain(settings: s)
            return (0..<20).map { _ in chain.sample(flat) }
        }
        #expect(draw(42) == draw(42))
        #expect(draw(42) != draw(43))
    }

    @Test func samplingFollowsTheDistribution() {
        var s = SamplerSettings(); s.topK = 0; s.topP = 1; s.minP = 0; s.temperature = 1
        var chain = SamplerChain(settings: s)
        var counts = [0, 0, 0, 0]
        for _ in 0..<20_000 { counts[Int(chain.sample(logits))] += 1 }
        for (i, p) in probs.enumerated() {
            #expect(abs(Float(counts[i]) / 20_000 - p) < 0.015, "token \(i): \(counts[i])")
        }
    }

    @Test func greedyTakesTheLowestIdOnTies() {
        var chain = SamplerChain(settings: .greedy)
        #expect(chain.sample([1, 1, 1]) == 0)
        #expect(chain.sample([0, 5, 5]) == 1)
    }

    @Test func settingsChangeBetweenTokens() {
        var chain = SamplerChain(settings: .greedy)
        #expect(chain.sample(logits) == 3)
        chain.settings.logitBias = [0: 100]
        #expect(chain.sample(logits) == 0)
    }

    @Test(arguments: [
        { (s: inout SamplerSettings) in s.temperature = -1 },
        { (s: inout SamplerSettings) in s.topP = 1.5 },
        { (s: inout SamplerSettings) in s.minP = -0.1 },
        { (s: inout SamplerSettings) in s.topK = -3 },
        { (s: inout SamplerSettings) in s.repeatPenalty = 0 },
        { (s: inout SamplerSettings) in s.temperature = .nan },
    ] as [(inout SamplerSettings) -> Void])
    func invalidSettingsAreRejected(change: (inout SamplerSettings) -> Void) {
        var s = SamplerSettings()
        change(&s)
        #expect(throws: SamplerError.self) { try s.validate() }
    }

    @Test func defaultsAreLlamaCpps() throws {
        let s = SamplerSettings()
        #expect(s.temperature == 0.8 && s.topK == 40 && s.topP == 0.95 && s.minP == 0.05 && s.repeatPenalty == 1)
        try s.validate()
    }
}
