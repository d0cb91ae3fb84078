// SamplerChain: llama.cpp's default order — logit bias → penalties → top-k → typical → top-p →
// min-p → temperature → a seeded draw (or the argmax when greedy).

import Foundation

/// Chooses tokens from logits according to `settings`; reproducible for a given seed.
/// Settings may change between any two tokens; history (for penalties) survives the change.
public struct SamplerChain: Sendable {
    /// A change of `settings.seed` takes effect at the next `reseed()` (the next answer).
    public var settings: SamplerSettings
    private var logitBias = LogitBiasSampler()
    private var penalties = PenaltySampler()
    private var topK = TopKSampler()
    private var typical = TypicalSampler()
    private var topP = TopPSampler()
    private var minP = MinPSampler()
    private var temperature = TemperatureSampler()
    private var rng: SplitMix64
    /// The seed the random sequence started from (reported with an answer so it can be reproduced).
    public private(set) var seed: UInt64

    public init(settings: SamplerSettings = SamplerSettings()) {
        self.settings = settings
        seed = settings.seed ?? SamplerChain.randomSeed()
        rng = SplitMix64(seed: seed)
    }

    /// A seed from the system's random source.
    public static func randomSeed() -> UInt64 {
        var g = SystemRandomNumberGenerator()
        return UInt64.random(in: 0...UInt64(UInt32.max - 1), using: &g)
    }

    /// Restarts the random sequence from `seed` when given, else from `settings.seed`, else from a
    /// fresh random seed.
    public mutating func reseed(to seed: UInt64? = nil) {
        self.seed = seed ?? settings.seed ?? SamplerChain.randomSeed()
        rng = SplitMix64(seed: self.seed)
    }

    /// The index of the largest logit (lowest index on ties).
    public static func argmax(_ logits: [Float]) -> TokenID {
        var best = 0
        var bestValue = -Float.infinity
        for (i, v) in logits.enumerated() where v > bestValue {
            best = i
            bestValue = v
        }
        return TokenID(best)
    }

    /// The candidates left after every filter, with probabilities (for display and tests).
    public mutating func candidates(_ logits: [Float]) -> TokenCandidates {
        var c = TokenCandidates(logits: logits)
        let s = settings
        logitBias.apply(&c, settings: s)
        penalties.apply(&c, settings: s)
        topK.apply(&c, settings: s)
        typical.apply(&c, settings: s)
        topP.apply(&c, settings: s)
        minP.apply(&c, settings: s)
        temperature.apply(&c, settings: s)
        c.computeProbabilities()
        return c
    }

    /// Picks the next token and records it in the history (call `accept` yourself only for
    /// tokens you did not sample, e.g. the prompt).
    public mutating func sample(_ logits: [Float]) -> TokenID {
        let token = takesArgmax ? SamplerChain.argmax(logits) : draw(from: candidates(logits))
        accept(token)
        return token
    }

    /// Greedy with nothing that changes logits: `sample` skips the candidate list.
    var takesArgmax: Bool { settings.temperature <= 0 && settings.logitBias.isEmpty && !penaltiesActive }

    private var penaltiesActive: Bool {
        settings.repeatPenalty != 1 || settings.frequencyPenalty != 0 || settings.presencePenalty != 0
    }

    /// One draw from `c`'s probabilities (one number from the random sequence).
    mutating func draw(from c: TokenCandidates) -> TokenID {
        let r = Float(nextUniform())
        var acc: Float = 0
        for (i, p) in c.probabilities.enumerated() {
            acc += p
            if r < acc { return c.ids[i] }
        }
        return c.ids[c.count - 1]
    }

    /// The next number of the random sequence, uniform in [0, 1).
    mutating func nextUniform() -> Double { Double(rng.next() >> 11) / Double(1 << 53) }

    /// Adds `token` to the penalty history.
    public mutating func accept(_ token: TokenID) { penalties.accept(token) }

    /// Forgets the history and restarts the random sequence (see `reseed`).
    public mutating func reset() {
        penalties.reset()
        reseed()
    }
}

/// A small, fast, seedable generator (SplitMix64), so runs are reproducible on every platform.
struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
