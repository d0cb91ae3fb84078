// Generation: the prompt → tokens loop on an InferenceContext, with llama.cpp-style timings,
// stop strings, live sampler settings and cancellation between any two tokens.

import Foundation

/// Timings and cache occupancy of one generation.
public struct GenerationStats: Sendable, Equatable, Codable {
    /// Prompt tokens evaluated (those not already in the cache).
    public var promptTokens = 0
    /// Prompt tokens found in the cache and reused.
    public var reusedTokens = 0
    public var promptSeconds = 0.0
    public var generatedTokens = 0
    public var generationSeconds = 0.0
    public var timeToFirstToken = 0.0
    public var cacheCellsUsed = 0
    public var cacheCapacity = 0
    public var cacheBytesUsed = 0
    public var cacheBytesCapacity = 0
    /// Occupancy per kind of layer (full-attention cells / context, windowed cells / W).
    public var cacheOccupancy = CacheOccupancy(fullCellsUsed: 0, fullCapacity: 0, hasFullLayers: true,
                                               windowCellsUsed: 0, windowCapacity: 0)
    /// The seed the answer's random draws started from (nil before an answer).
    public var seed: UInt64?
    /// Generated tokens that belong to a reasoning block (`<think>…</think>`; see Reasoning).
    public var reasoningTokens = 0
    /// Speculative decoding's counters (nil without a draft model).
    public var draft: DraftStatistics?
    /// Sequences in each forward call of this answer's tokens, on average, when they were decoded
    /// together with others (see SequenceBatcher); nil when decoded alone.
    public var sequencesPerStep: Double?

    public init() {}

    public var promptTokensPerSecond: Double { promptSeconds > 0 ? Double(promptTokens) / promptSeconds : 0 }
    public var generationTokensPerSecond: Double { generationSeconds > 0 ? Double(generatedTokens) / generationSeconds : 0 }
}

/// Why generation stopped.
public enum StopReason: String, Sendable, Codable {
    case endOfGeneration, stopString, maxTokens, contextFull, cancelled
}

/// The outcome of one generation.
public struct GenerationResult: Sendable {
    public var tokens: [TokenID]
    public var text: String
    public var stop: StopReason
    public var stats: GenerationStats

    public init(tokens: [TokenID], text: String, stop: StopReason, stats: GenerationStats) {
        self.tokens = tokens
        self.text = text
        self.stop = stop
        self.stats = stats
    }
}

extension InferenceContext {
    /// Evaluates the part of `prompt` not already cached (the shared prefix is reused), then samples
    /// up to `maxTokens` tokens. `settings` is read before every token (live changes);
    /// `isCancelled` is polled between tokens. Text reaches `onEvent` UTF-8-complete, with any
    /// stop string and what follows it held back. Generated tokens stay in the cache.
    /// `startsInReasoning`: the prompt opened a reasoning block (its tokens are counted apart).
    /// With a `draft`, tokens come from speculative rounds (see SpeculativeDecoding): the same
    /// greedy text, and sampled text from the same distribution, sooner.
    public func generate(prompt: [TokenID], maxTokens: Int, sampler: inout SamplerChain,
                         stopStrings: [String] = [], startsInReasoning: Bool = false,
                         draft: SpeculativeDraft? = nil,
                         settings: (() -> SamplerSettings)? = nil,
                         isCancelled: () -> Bool = { false },
                         onEvent: (GenerationEvent) -> Void = { _ in }) throws -> GenerationResult {
        guard !prompt.isEmpty else { throw ChatError.emptyMessage }
        guard prompt.count < contextLength else {
            throw ModelError.contextFull(needed: prompt.count + 1, capacity: contextLength)
        }
        var stats = GenerationStats()
        stats.seed = sampler.seed
        // always re-evaluate at least the last prompt token so its logits are fresh
        truncate(to: min(sharedPrefixLength(with: prompt), prompt.count - 1))
        let keep = position  // less when a rolling buffer has moved past the cut (then nothing is kept)
        let newTokens = Array(prompt[keep...])
        stats.reusedTokens = keep

        let clock = ContinuousClock()
        let t0 = clock.now
        let logits = try evaluate(newTokens)
        for t in newTokens { sampler.accept(t) }
        stats.promptTokens = newTokens.count
        stats.promptSeconds = (clock.now - t0).seconds
        fillCacheStats(&stats)
        onEvent(.progress(stats))

        let tokenizer = model.tokenizer
        var detokenizer = StreamingDetokenizer(tokenizer: tokenizer)
        var stopFilter = StopStringFilter(stopStrings: stopStrings)
        var reasoning = ReasoningCounter(startsInside: startsInReasoning)
        var generated: [TokenID] = []
        var text = ""
        var stop = StopReason.maxTokens
        let t1 = clock.now
        func emit(_ piece: String) {
            if piece.isEmpty { return }
            text += piece
            onEvent(.text(piece))
        }
        // decoded together with the other sequences of a batcher while this one generates
        batcher?.join()
        defer { batcher?.leave() }
        let shared0 = sharedSteps
        var decoder = TokenDecoder(target: self, prompt: prompt, logits: logits, draft: draft, seed: sampler.seed,
                                   reproducible: sampler.settings.seed != nil && sampler.settings.temperature > 0)
        while generated.count < maxTokens {
            if isCancelled() { stop = .cancelled; break }
            if let settings { sampler.settings = settings() }
            let next = try decoder.next(sampler: &sampler, budget: maxTokens - generated.count) { onEvent(.notice($0)) }
            if generated.isEmpty { stats.timeToFirstToken = (clock.now - t0).seconds }
            if tokenizer.isEndOfGeneration(next) { stop = .endOfGeneration; break }
            generated.append(next)
            let (visible, hitStop) = stopFilter.push(detokenizer.append(next))
            emit(visible)
            reasoning.add(visible)
            stats.reasoningTokens = reasoning.tokens
            stats.draft = decoder.statistics
            stats.sequencesPerStep = sequencesPerStep(since: shared0)
            if hitStop { stop = .stopString; break }
            stats.generatedTokens = generated.count
            stats.generationSeconds = (clock.now - t1).seconds
            if generated.count == maxTokens { break }
            if decoder.position >= contextLength { stop = .contextFull; break }
            try decoder.advance(next)
            fillCacheStats(&stats)
            onEvent(.progress(stats))
        }
        // the cache keeps the answer's tokens, not drafts rejected or decided past its end
        truncate(to: sharedPrefixLength(with: prompt + generated))
        stats.draft = decoder.statistics
        if stop != .stopString {
            emit(stopFilter.push(detokenizer.finish()).visible)
            emit(stopFilter.flush())
        }
        stats.generatedTokens = generated.count
        stats.generationSeconds = (clock.now - t1).seconds
        fillCacheStats(&stats)
        onEvent(.finished(stop, stats))
        return GenerationResult(tokens: generated, text: text, stop: stop, stats: stats)
    }

    /// Sequences a forward call since `start` (a reading of `sharedSteps`), on a batcher.
    private func sequencesPerStep(since start: (steps: Int, sequences: Int)) -> Double? {
        let steps = sharedSteps.steps - start.steps
        guard batcher != nil, steps > 0 else { return nil }
        return Double(sharedSteps.sequences - start.sequences) / Double(steps)
    }

    private func fillCacheStats(_ stats: inout GenerationStats) {
        stats.cacheCellsUsed = cache.count
        stats.cacheCapacity = cache.capacity
        stats.cacheBytesUsed = cache.bytesUsed
        stats.cacheBytesCapacity = cache.byteCapacity
        stats.cacheOccupancy = cache.occupancy
    }
}

/// Holds back text that could be the start of a stop string, and cuts at the first stop string.
struct StopStringFilter {
    let stopStrings: [String]
    private var pending = ""

    init(stopStrings: [String]) { self.stopStrings = stopStrings.filter { !$0.isEmpty } }

    /// Adds `piece`; returns the text safe to show, and whether a stop string was reached.
    mutating func push(_ piece: String) -> (visible: String, hitStop: Bool) {
        guard !stopStrings.isEmpty else { return (piece, false) }
        pending += piece
        var earliest: String.Index?
        for s in stopStrings {
            if let r = pending.range(of: s), earliest.map({ r.lowerBound < $0 }) ?? true { earliest = r.lowerBound }
        }
        if let cut = earliest {
            let visible = String(pending[..<cut])
            pending = ""
            return (visible, true)
        }
        // keep the longest suffix that is a prefix of some stop string
        var hold = 0
        for s in stopStrings {
            var n = min(s.count, pending.count)
            while n > hold {
                if pending.hasSuffix(String(s.prefix(n))) { hold = n; break }
                n -= 1
            }
        }
        let visible = String(pending.dropLast(hold))
        pending = String(pending.suffix(hold))
        return (visible, false)
    }

    /// Whatever is still held back (at the end of generation).
    mutating func flush() -> String {
        defer { pending = "" }
        return pending
    }
}

extension Duration {
    /// The duration in seconds as a Double.
    public var seconds: Double {
        let c = components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }
}
