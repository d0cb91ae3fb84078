// Generation: the prompt → tokens loop on an InferenceContext, with llama.cpp-style timings.

import Foundation

/// Timings and cache occupancy of one generation.
public struct GenerationStats: Sendable, Equatable {
    public var promptTokens = 0
    public var promptSeconds = 0.0
    public var generatedTokens = 0
    public var generationSeconds = 0.0
    public var timeToFirstToken = 0.0
    public var cacheCellsUsed = 0
    public var cacheCapacity = 0
    public var cacheBytes = 0

    public var promptTokensPerSecond: Double { promptSeconds > 0 ? Double(promptTokens) / promptSeconds : 0 }
    public var generationTokensPerSecond: Double { generationSeconds > 0 ? Double(generatedTokens) / generationSeconds : 0 }
}

/// Why generation stopped.
public enum StopReason: String, Sendable {
    case endOfGeneration, maxTokens, contextFull, cancelled
}

extension InferenceContext {
    /// Evaluates the part of `prompt` not already cached, then samples up to `maxTokens` tokens,
    /// calling `onText` with each UTF-8-complete piece (return false to stop). Generated tokens
    /// stay in the cache. Returns the generated ids, why it stopped, and timings.
    public func generate(prompt: [TokenID], maxTokens: Int, sampler: inout SamplerChain,
                         onText: (String) -> Bool) throws -> (tokens: [TokenID], stop: StopReason, stats: GenerationStats) {
        var stats = GenerationStats()
        let shared = sharedPrefixLength(with: prompt)
        // always re-evaluate at least the last prompt token so its logits are fresh
        let keep = min(shared, prompt.count - 1)
        truncate(to: max(0, keep))
        let newTokens = Array(prompt[max(0, keep)...])
        guard prompt.count < contextLength else {
            throw ModelError.contextFull(needed: prompt.count + 1, capacity: contextLength)
        }
        let clock = ContinuousClock()
        let t0 = clock.now
        var logits = try evaluate(newTokens)
        stats.promptTokens = newTokens.count
        stats.promptSeconds = (clock.now - t0).seconds

        let tokenizer = model.tokenizer
        var detokenizer = StreamingDetokenizer(tokenizer: tokenizer)
        var generated: [TokenID] = []
        var stop = StopReason.maxTokens
        let t1 = clock.now
        while generated.count < maxTokens {
            let next = sampler.sample(logits)
            if generated.isEmpty { stats.timeToFirstToken = (clock.now - t0).seconds }
            if tokenizer.isEndOfGeneration(next) { stop = .endOfGeneration; break }
            generated.append(next)
            let piece = detokenizer.append(next)
            if !piece.isEmpty && !onText(piece) { stop = .cancelled; break }
            if generated.count == maxTokens { break }
            if position >= contextLength { stop = .contextFull; break }
            logits = try evaluate([next])
        }
        let rest = detokenizer.finish()
        if !rest.isEmpty { _ = onText(rest) }
        stats.generatedTokens = generated.count
        stats.generationSeconds = (clock.now - t1).seconds
        stats.cacheCellsUsed = cache.count
        stats.cacheCapacity = cache.capacity
        stats.cacheBytes = cache.bytesUsed
        return (generated, stop, stats)
    }
}

extension Duration {
    /// The duration in seconds as a Double.
    public var seconds: Double {
        let c = components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }
}
