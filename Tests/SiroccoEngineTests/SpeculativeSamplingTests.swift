// The speculative-sampling rule: a draft chain draws as `sample` does, a greedy target gives
// `sample`'s token, and a sampling target's tokens follow its own distribution p whatever the
// draft's q — a chi-square test that a plausible wrong rule fails by a wide margin.

import Foundation
import Testing
@testable import SiroccoEngine

private func randomLogits(_ rng: inout SplitMix64, count: Int) -> [Float] {
    (0..<count).map { _ in Float(rng.next() % 2000) / 200 - 5 }  // steps of 0.005: some ties
}

/// Softmax of the k largest logits / temperature, by token id (0 outside them), in Double.
private func filtered(_ logits: [Float], temperature: Double, topK: Int) -> [Double] {
    let kept = logits.indices.sorted { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }.prefix(topK)
    var p = [Double](repeating: 0, count: logits.count)
    for i in kept { p[i] = exp(Double(logits[i]) / temperature) }
    let sum = p.reduce(0, +)
    return p.map { $0 / sum }
}

/// Pearson's statistic of `counts` against `expected` probabilities; infinite if a token of
/// probability 0 occurs.
private func chiSquare(_ counts: [Int], _ expected: [Double]) -> Double {
    let n = Double(counts.reduce(0, +))
    var x = 0.0
    for (o, p) in zip(counts, expected) {
        if p == 0 {
            if o > 0 { return .infinity }
            continue
        }
        x += (Double(o) - n * p) * (Double(o) - n * p) / (n * p)
    }
    return x
}

/// The x with P(χ²(df) > x) = alpha, for even df, where the tail has a closed form:
/// e^(−x/2) Σ_{j<df/2} (x/2)^j / j!. Found by bisection.
private func chiSquareCriticalValue(degreesOfFreedom df: Int, alpha: Double) -> Double {
    precondition(df > 0 && df % 2 == 0, "closed form only for even degrees of freedom")
    func tail(_ x: Double) -> Double {
        var term = 1.0, sum = 0.0
        for j in 0..<(df / 2) {
            if j > 0 { term *= x / 2 / Double(j) }
            sum += term
        }
        return exp(-x / 2) * sum
    }
    var lo = 0.0, hi = 1000.0
    for _ in 0..<200 {
        let mid = (lo + hi) / 2
        if tail(mid) > alpha { lo = mid } else { hi = mid }
    }
    return hi
}

@Suite struct SpeculativeSamplingTests {
    @Test(arguments: [
        { (_: inout SamplerSettings) in },
        { (s: inout SamplerSettings) in s.temperature = 0 },
        { (s: inout SamplerSettings) in s.temperature = 0; s.repeatPenalty = 1.3 },
        { (s: inout SamplerSettings) in s.topK = 0; s.topP = 1; s.minP = 0; s.temperature = 1.2 },
    ] as [(inout SamplerSettings) -> Void])
    func draftChainDrawsAsSampleDoes(configure: (inout SamplerSettings) -> Void) {
        var s = SamplerSettings()
        s.seed = 11
        configure(&s)
        var plain = SamplerChain(settings: s), draft = SamplerChain(settings: s)
        var rng = SplitMix64(seed: 3)
        for _ in 0..<500 {
            let logits = randomLogits(&rng, count: 64)
            var before = draft
            let expected = before.candidates(logits)
            let token = plain.sample(logits)
            let (drafted, q) = draft.sampleWithDistribution(logits)
            #expect(drafted == token)
            if s.temperature <= 0 {
                #expect(q.ids == [token] && q.probabilities == [1])
            } else {
                #expect(q.ids == expected.ids && q.probabilities == expected.probabilities)
            }
        }
    }

    @Test(arguments: [
        { (_: inout SamplerSettings) in },
        { (s: inout SamplerSettings) in s.repeatPenalty = 1.5; s.presencePenalty = 0.5 },
        { (s: inout SamplerSettings) in s.logitBias = [3: 4, 7: -.infinity] },
    ] as [(inout SamplerSettings) -> Void])
    func greedyTargetGivesSamplesToken(configure: (inout SamplerSettings) -> Void) {
        var s = SamplerSettings.greedy
        s.seed = 5
        configure(&s)
        var target = SamplerChain(settings: s)
        var draftSettings = SamplerSettings()
        draftSettings.seed = 6
        var draft = SamplerChain(settings: draftSettings)
        var rng = SplitMix64(seed: 9)
        var accepted = 0
        for _ in 0..<2000 {
            let logits = randomLogits(&rng, count: 16)
            // the draft sees nearby logits, so it agrees often but not always
            let (x, q) = draft.sampleWithDistribution(logits.map { $0 + Float(rng.next() % 100) / 100 })
            var reference = target
            let expected = reference.sample(logits)
            let verdict = target.verify(draft: x, draftDistribution: q, logits: logits)
            #expect(verdict.token == expected && verdict.accepted == (x == expected))
            if verdict.accepted { accepted += 1 }
        }
        #expect(accepted > 100 && accepted < 1900, "both outcomes occur: \(accepted) accepted")
    }

    @Test func greedyDraftForGreedyTargetIsKeptIffTheArgmaxesAgree() {
        var target = SamplerChain(settings: .greedy), draft = SamplerChain(settings: .greedy)
        let (x, q) = draft.sampleWithDistribution([0, 3, 1])
        #expect(target.verify(draft: x, draftDistribution: q, logits: [0, 2, 1]) == (1, true))
        let (y, r) = draft.sampleWithDistribution([0, 3, 1])
        #expect(target.verify(draft: y, draftDistribution: r, logits: [2, 0, 1]) == (0, false))
    }

    /// The draft token (keep it, or not) and the target's answer, for one position.
    private typealias Rule = (_ draft: inout SamplerChain, _ target: inout SamplerChain, _ rng: inout SplitMix64)
        -> (token: TokenID, accepted: Bool)

    // target p: top-5 of these at temperature 0.8; draft q: top-6 of others at temperature 1, so q
    // is far from p and puts mass on tokens 5 and 6, which p never gives
    private static let targetLogits: [Float] = [2.0, 1.5, 1.0, 0.6, 0.3, 0.0, -0.5, -1.0]
    private static let draftLogits: [Float] = [0.2, 1.8, 0.4, -0.3, 1.0, 0.9, 0.0, -1.0]

    private func run(trials: Int, _ rule: Rule) -> (counts: [Int], accepted: Int) {
        var ts = SamplerSettings(), ds = SamplerSettings()
        ts.temperature = 0.8; ts.topK = 5; ts.topP = 1; ts.minP = 0; ts.seed = 1
        ds.temperature = 1; ds.topK = 6; ds.topP = 1; ds.minP = 0; ds.seed = 2
        var target = SamplerChain(settings: ts), draft = SamplerChain(settings: ds)
        var rng = SplitMix64(seed: 3)
        var counts = [Int](repeating: 0, count: Self.targetLogits.count)
        var accepted = 0
        for _ in 0..<trials {
            let (token, kept) = rule(&draft, &target, &rng)
            counts[Int(token)] += 1
            if kept { accepted += 1 }
        }
        return (counts, accepted)
    }

    @Test func tokensFollowTheTargetsDistributionAndAWrongRuleIsCaught() {
        let trials = 200_000
        let p = filtered(Self.targetLogits, temperature: 0.8, topK: 5)
        let q = filtered(Self.draftLogits, temperature: 1, topK: 6)
        // 5 tokens possible under p → 4 degrees of freedom; by chance above this once in a million runs
        let critical = chiSquareCriticalValue(degreesOfFreedom: 4, alpha: 1e-6)
        #expect(abs(critical - 33.38) < 0.01)

        let speculative = run(trials: trials) { draft, target, _ in
            let (x, q) = draft.sampleWithDistribution(Self.draftLogits)
            return target.verify(draft: x, draftDistribution: q, logits: Self.targetLogits)
        }
        let statistic = chiSquare(speculative.counts, p)
        #expect(statistic < critical, "χ² = \(statistic), counts \(speculative.counts), p \(p)")

        // acceptance rate Σ min(p, q), within 6 standard deviations of a binomial proportion
        let alpha = zip(p, q).map { min($0, $1) }.reduce(0, +)
        let rate = Double(speculative.accepted) / Double(trials)
        #expect(abs(rate - alpha) < 6 * (alpha * (1 - alpha) / Double(trials)).squareRoot(), "rate \(rate), Σ min(p, q) = \(alpha)")

        // wrong: keep every draft (the tokens follow q)
        let keepAll = run(trials: trials) { draft, _, _ in (draft.sampleWithDistribution(Self.draftLogits).token, true) }
        #expect(chiSquare(keepAll.counts, p) > 100 * critical)

        // wrong: the right acceptance test, but a rejected draft is replaced by a draw from p
        // rather than from the residual (expected χ² ≈ 31,000 here)
        let redrawFromP = run(trials: trials) { draft, target, rng in
            let (x, qx) = draft.sampleWithDistribution(Self.draftLogits)
            let px = target.candidates(Self.targetLogits).probability(of: x)
            if Double(rng.next() >> 11) / Double(1 << 53) * Double(qx.probability(of: x)) < Double(px) {
                target.accept(x)
                return (x, true)
            }
            return (target.sample(Self.targetLogits), false)
        }
        let wrong = chiSquare(redrawFromP.counts, p)
        #expect(wrong > 100 * critical, "χ² = \(wrong)")
    }
}
