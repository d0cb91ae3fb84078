// SpeculativeDecoding: a small draft model proposes the next few tokens and the target checks them
// all in one forward call (Leviathan et al. 2023; llama.cpp's speculative-simple). Generation is
// bound by reading the weights, so the target's pass over k + 1 rows costs little more than over
// one, and every kept draft token is a target pass saved. The target's chain decides every token
// (SpeculativeSampling's rule), so greedy output is the target's own, token for token, and sampled
// output follows the target's distribution. Rejected tokens are taken back from both caches.
//
// How many tokens to draft follows a cost model measured as it runs: a round of k drafts costs
// F + (k − 1)·T_draft + k·T_row + T_target (F the draft's first call, which also catches up on the
// token before, often two rows) and yields E(k) = (1 − α^(k+1)) / (1 − α) tokens on average (α the
// recent acceptance rate), against T_target a token without a draft. k maximises the ratio; when
// no k beats drafting nothing, drafting switches off for the rest of the answer. A sampled answer
// with a fixed seed must come out the same every time, and k changes which random draws decide
// which token: it then takes the costs from the models' sizes instead of the clock.

import Foundation

/// A draft model's context, checked against the target's vocabulary, and how it drafts.
public final class SpeculativeDraft: @unchecked Sendable {
    public let context: InferenceContext
    /// The most tokens one round proposes.
    public var maxTokens = 16
    /// A round stops drafting at a token the draft gives less than this probability (llama.cpp's
    /// --draft-p-min): such tokens are seldom kept.
    public var minProbability: Float = 0.5

    /// Throws `DraftVocabularyMismatch` when the draft's token ids do not mean what the target's do.
    public init(context: InferenceContext, target: Model) throws {
        try Tokenizer.checkDraft(context.model.tokenizer, for: target.tokenizer)
        self.context = context
    }
}

/// Speculative decoding's counters for one answer.
public struct DraftStatistics: Sendable, Equatable, Codable {
    /// Rounds that verified at least one draft token.
    public var rounds = 0
    public var drafted = 0
    public var accepted = 0
    /// Whether drafting stopped paying off and was switched off for the rest of the answer.
    public var switchedOff = false

    public init() {}

    /// The share of drafted tokens the target kept.
    public var acceptanceRate: Double { drafted > 0 ? Double(accepted) / Double(drafted) : 0 }
}

/// Hands out an answer's tokens one at a time, from the target alone or from speculative rounds.
/// `next` gives the next token; `advance` commits it (the answer goes on past it).
struct TokenDecoder {
    let target: InferenceContext
    let draft: SpeculativeDraft?
    /// The prompt and the tokens committed since.
    private(set) var committed: [TokenID]
    /// Logits for the token after `committed`, when the target has just computed them.
    private var logits: [Float]?
    /// Tokens a round decided that `next` has not handed out yet.
    private var decided: [TokenID] = []
    private var draftChain: SamplerChain
    private var cost: DraftCostModel
    private(set) var statistics: DraftStatistics?

    /// `reproducible`: the answer must depend on its seed alone (see DraftCostModel.timed).
    init(target: InferenceContext, prompt: [TokenID], logits: [Float], draft: SpeculativeDraft?, seed: UInt64,
         reproducible: Bool) {
        self.target = target
        self.draft = draft
        committed = prompt
        self.logits = logits
        draftChain = SamplerChain(settings: .greedy)
        draftChain.reseed(to: seed ^ 0x5DEE_CE66_D1CE_5EED)
        cost = DraftCostModel(draftBytes: draft?.context.model.weightBytesPerToken ?? 0,
                              targetBytes: target.model.weightBytesPerToken, timed: !reproducible)
        statistics = draft == nil ? nil : DraftStatistics()
    }

    /// The next token of the answer; `budget` is how many more the answer may take (drafts beyond
    /// it would be wasted). `notice` reports drafting switching itself off.
    mutating func next(sampler: inout SamplerChain, budget: Int, notice: (String) -> Void) throws -> TokenID {
        if !decided.isEmpty { return decided.removeFirst() }
        if let l = logits {
            logits = nil
            return sampler.sample(l)
        }
        try round(sampler: &sampler, budget: budget, notice: notice)
        return decided.removeFirst()
    }

    /// Commits `token` as the answer's next.
    mutating func advance(_ token: TokenID) throws {
        committed.append(token)
        if draft == nil || statistics?.switchedOff == true, decided.isEmpty {
            // the plain path: evaluate the token now, as generation without a draft does
            logits = try evaluateCommitted()
        }
    }

    /// Brings the target up to `committed` and returns the logits after its last token.
    private func evaluateCommitted() throws -> [Float] {
        target.truncate(to: min(target.sharedPrefixLength(with: committed), committed.count - 1))
        return try target.evaluate(Array(committed[target.position...]))
    }

    /// Positions the committed tokens fill (the target's cache may briefly hold more).
    var position: Int { committed.count }

    /// Brings `context` to the committed tokens but the last `leaving` (at least the last one) and
    /// returns those it still lacks, for the caller's next call: what it holds beyond them
    /// (rejected drafts) is taken back, what it lacks before them is evaluated now.
    private func catchUp(_ context: InferenceContext, leaving: Int) throws -> ArraySlice<TokenID> {
        context.truncate(to: min(context.sharedPrefixLength(with: committed), committed.count - 1))
        let end = committed.count - leaving
        if end > context.position { try context.evaluate(Array(committed[context.position..<end])) }
        return committed[context.position...]
    }

    /// One speculative round: the draft proposes up to k tokens after `committed`, the target
    /// verifies them with the token before in one call, and `decided` receives the kept drafts and
    /// the target's own next token.
    private mutating func round(sampler: inout SamplerChain, budget: Int, notice: (String) -> Void) throws {
        // the target's input: the committed tokens it lacks (one, normally)
        let last = try catchUp(target, leaving: 1).last!
        let room = min(budget - 1, target.contextLength - target.position - 1)
        var k = 0
        if let draft, var stats = statistics, !stats.switchedOff {
            k = cost.wantsPlainStep ? 0 : min(cost.bestDraftLength(max: draft.maxTokens), room, draft.context.contextLength - committed.count)
            if cost.showsDraftingDoesNotPay {
                stats.switchedOff = true
                statistics = stats
                k = 0
                notice(String(format: "drafting off for this answer: it cost more time than it saved (%.0f%% of %d drafted tokens kept)",
                              100 * stats.acceptanceRate, stats.drafted))
            }
        }
        var drafts: [TokenID] = []
        var distributions: [TokenCandidates] = []
        var draftSeconds = 0.0, firstCallSeconds = 0.0
        if k > 0, let draft {
            let context = draft.context
            // the draft catches up: a prompt's worth first (not a round's cost), then the last token
            // or two (a kept draft it never evaluated) in the round's first call
            let pending = try catchUp(context, leaving: 2)
            let t0 = monotonicNanoseconds()
            var settings = sampler.settings  // the target's, without the history-bound penalties
            settings.repeatPenalty = 1
            settings.frequencyPenalty = 0
            settings.presencePenalty = 0
            draftChain.settings = settings
            var draftLogits = try context.evaluate(Array(pending))
            firstCallSeconds = Double(monotonicNanoseconds() - t0) / 1e9
            while drafts.count < k {
                let (token, q) = draftChain.sampleWithDistribution(draftLogits)
                let sure = draftChain.settings.temperature <= 0 ? Self.topProbability(draftLogits) : Float(q.probabilities.max() ?? 0)
                if sure < draft.minProbability { break }
                drafts.append(token)
                distributions.append(q)
                if drafts.count == k { break }
                draftLogits = try context.evaluate([token])
            }
            draftSeconds = Double(monotonicNanoseconds() - t0) / 1e9
        }
        // the target checks [last] + drafts in one call
        let t1 = monotonicNanoseconds()
        let rows = try target.evaluateEach([last] + drafts)
        let targetSeconds = Double(monotonicNanoseconds() - t1) / 1e9
        var kept = 0
        decided = []
        for (i, d) in drafts.enumerated() {
            let (token, accepted) = sampler.verify(draft: d, draftDistribution: distributions[i], logits: rows[i])
            decided.append(token)
            if !accepted { break }
            kept += 1
        }
        if kept == drafts.count { decided.append(sampler.sample(rows[drafts.count])) }
        // take back what was rejected: the target keeps `last` and the kept drafts
        target.truncate(to: committed.count + kept)
        if let draft { draft.context.truncate(to: min(draft.context.position, committed.count + kept)) }
        if drafts.isEmpty {
            cost.recordPlainStep(seconds: targetSeconds)
        } else {
            cost.recordRound(drafted: drafts.count, kept: kept, firstCallSeconds: firstCallSeconds, draftSeconds: draftSeconds,
                             targetSeconds: targetSeconds)
            cost.recordYield(tokens: decided.count, seconds: draftSeconds + targetSeconds)
            statistics?.rounds += 1
            statistics?.drafted += drafts.count
            statistics?.accepted += kept
        }
    }

    /// The largest softmax probability of `logits`: how sure a greedy draft is of its token.
    /// Logits more than 20 below the top are left out of the sum (each weighs under 2.1e-9 of
    /// the top's; all of a 152k vocabulary under 3.2e-4): expf then runs on a handful of the
    /// 151,936 logits of a drafted token, not on all of them (0.3 ms a token).
    static func topProbability(_ logits: [Float]) -> Float {
        guard let top = logits.max() else { return 0 }
        let floor = top - 20
        var sum: Float = 0
        for l in logits where l > floor { sum += expf(l - top) }
        return 1 / sum
    }
}

/// The measured costs of speculative rounds and the draft length they favour.
struct DraftCostModel {
    /// Recent acceptance rate α (an exponential average per drafted token).
    private(set) var acceptance = 0.8
    /// Seconds of a target pass over one token, and what each further row adds.
    private var targetSeconds: Double?
    private var rowSeconds = 0.0
    /// Seconds of the draft's first call in a round, and of each further one.
    private var firstCallSeconds: Double?
    private var draftSeconds: Double?
    /// Draft cost relative to the target before anything is measured: the weights each reads.
    private let bytesRatio: Double
    /// Whether costs come from the clock; if not, from the models' sizes (a draft token costs the
    /// ratio of their weights, a verified row `untimedRowCost` of a target pass).
    let timed: Bool
    /// A verified row's cost in target passes, when the clock may not decide: measured on the
    /// Qwen2.5-Coder 1.5B (docs/PERFORMANCE.md, 2026-12-03), 3.3–6 ms a row against 26–29 ms a
    /// pass, 0.13–0.21; the upper end, so a seeded answer drafts no longer than a timed one would.
    static let untimedRowCost = 0.2
    private var draftedSoFar = 0
    private var roundsSincePlainStep = 0
    private static let smoothing = 0.15

    /// Whether the next round should go without a draft, to measure the target alone: before the
    /// first round, then every 16 rounds (the machine's load changes what each costs).
    var wantsPlainStep: Bool { timed && (targetSeconds == nil || roundsSincePlainStep >= 16) }

    init(draftBytes: Int, targetBytes: Int, timed: Bool = true) {
        bytesRatio = targetBytes > 0 ? Double(draftBytes) / Double(targetBytes) : 1
        self.timed = timed
        if !timed {
            targetSeconds = 1
            draftSeconds = bytesRatio
            rowSeconds = Self.untimedRowCost
        }
    }

    /// Expected tokens a round of `k` drafts yields at acceptance `a`.
    static func expectedTokens(k: Int, acceptance a: Double) -> Double {
        a >= 1 ? Double(k + 1) : (1 - pow(a, Double(k + 1))) / (1 - a)
    }

    /// The speed of rounds of `k` drafts relative to the target alone.
    func speedup(k: Int) -> Double {
        let t = targetSeconds ?? 1
        let d = draftSeconds ?? bytesRatio * t
        let first = firstCallSeconds ?? d
        return Self.expectedTokens(k: k, acceptance: acceptance) * t / (first + Double(k - 1) * d + Double(k) * rowSeconds + t)
    }

    /// The draft length with the best expected speed (at least 1 while too little is measured).
    func bestDraftLength(max: Int) -> Int {
        var best = 1, bestSpeed = speedup(k: 1)
        for k in Swift.stride(from: 2, through: max, by: 1) where speedup(k: k) > bestSpeed {
            best = k
            bestSpeed = speedup(k: k)
        }
        return best
    }

    /// Seconds and tokens of recent drafting rounds (exponential averages), as they came out: the
    /// model leaves costs out (switching between the models, a draft's first call taking two
    /// rows). Their ratio, not an average of per-round ratios, which a few one-token rounds skew.
    private var roundSeconds: Double?
    private var roundTokens = 0.0

    /// Whether enough has been measured to say that no draft length beats the target alone: by
    /// the model, or by what recent rounds yielded against a token of the target alone.
    var showsDraftingDoesNotPay: Bool {
        guard draftedSoFar >= 16, let t = targetSeconds else { return false }
        if speedup(k: bestDraftLength(max: 16)) < 1 { return true }
        guard timed, let seconds = roundSeconds, roundTokens > 0 else { return false }
        // rounds a little slower than the target alone, kept on, cost the whole answer that much
        // (prose at 0.85× with a 10% tolerance here); where drafting pays, rounds run far below T₁
        return seconds / roundTokens > t
    }

    mutating func recordYield(tokens: Int, seconds: Double) {
        guard timed, tokens > 0 else { return }
        if let s = roundSeconds {
            roundSeconds = s + Self.smoothing * (seconds - s)
            roundTokens += Self.smoothing * (Double(tokens) - roundTokens)
        } else {
            roundSeconds = seconds
            roundTokens = Double(tokens)
        }
    }

    mutating func recordPlainStep(seconds: Double) {
        guard timed else { return }
        roundsSincePlainStep = 0
        targetSeconds = targetSeconds.map { $0 + Self.smoothing * (seconds - $0) } ?? seconds
    }

    mutating func recordRound(drafted: Int, kept: Int, firstCallSeconds first: Double = 0, draftSeconds seconds: Double,
                              targetSeconds verify: Double) {
        roundsSincePlainStep += 1
        let a = Double(kept) / Double(drafted)
        acceptance += Self.smoothing * (a - acceptance)
        draftedSoFar += drafted
        guard timed else { return }
        firstCallSeconds = firstCallSeconds.map { $0 + Self.smoothing * (first - $0) } ?? first
        if drafted > 1 {  // the further calls: one row each
            let perCall = (seconds - first) / Double(drafted - 1)
            draftSeconds = draftSeconds.map { $0 + Self.smoothing * (perCall - $0) } ?? perCall
        }
        if let t = targetSeconds {
            let perRow = max(0, (verify - t) / Double(drafted))
            rowSeconds += Self.smoothing * (perRow - rowSeconds)
        }
    }
}
