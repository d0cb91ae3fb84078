// TokenSampler: one step of a sampler chain (llama.cpp's llama_sampler interface).

import Foundation

/// Transforms the candidate list; `accept` sees each chosen token, `reset` forgets history.
public protocol TokenSampler: Sendable {
    mutating func apply(_ candidates: inout TokenCandidates, settings: SamplerSettings)
    mutating func accept(_ token: TokenID)
    mutating func reset()
}

extension TokenSampler {
    public mutating func accept(_ token: TokenID) {}
    public mutating func reset() {}
}

/// Adds per-token biases to the logits.
public struct LogitBiasSampler: TokenSampler {
    public init() {}
    public func apply(_ c: inout TokenCandidates, settings: SamplerSettings) {
        guard !settings.logitBias.isEmpty else { return }
        if c.isSorted {
            for i in c.ids.indices { if let b = settings.logitBias[c.ids[i]] { c.logits[i] += b } }
            c.isSorted = false
            c.probabilities = []
        } else {
            // unsorted candidates are indexed by token id when they cover the vocabulary
            for (t, b) in settings.logitBias {
                if let i = c.ids.count > Int(t) && c.ids[Int(t)] == t ? Int(t) : c.ids.firstIndex(of: t) {
                    c.logits[i] += b
                }
            }
        }
    }
}

/// Repetition, frequency and presence penalties over the last N accepted tokens (as llama.cpp):
/// a repeated token's logit is divided by the repeat penalty if positive, multiplied if negative,
/// then lowered by count × frequency + presence.
public struct PenaltySampler: TokenSampler {
    private var history: [TokenID] = []
    private let historyLimit = 8192
    public init() {}

    public mutating func accept(_ token: TokenID) {
        history.append(token)
        if history.count > historyLimit { history.removeFirst(history.count - historyLimit) }
    }

    public mutating func reset() { history.removeAll() }

    public func apply(_ c: inout TokenCandidates, settings s: SamplerSettings) {
        let active = s.repeatPenalty != 1 || s.frequencyPenalty != 0 || s.presencePenalty != 0
        guard active, s.penaltyLastN != 0, !history.isEmpty else { return }
        let window = s.penaltyLastN < 0 ? history[...] : history.suffix(s.penaltyLastN)
        var counts: [TokenID: Int] = [:]
        for t in window { counts[t, default: 0] += 1 }
        let direct = !c.isSorted && c.count > 0 && c.ids[c.count - 1] == TokenID(c.count - 1)
        for (t, n) in counts {
            let index: Int?
            if direct { index = Int(t) < c.count ? Int(t) : nil } else { index = c.ids.firstIndex(of: t) }
            guard let i = index else { continue }
            var l = c.logits[i]
            l = l <= 0 ? l * s.repeatPenalty : l / s.repeatPenalty
            l -= Float(n) * s.frequencyPenalty + s.presencePenalty
            c.logits[i] = l
        }
        c.isSorted = false
        c.probabilities = []
    }
}

/// Keeps the k most likely tokens (0 = off).
public struct TopKSampler: TokenSampler {
    public init() {}
    public func apply(_ c: inout TokenCandidates, settings: SamplerSettings) {
        if settings.topK > 0 { c.keepTop(settings.topK) }
    }
}

/// Locally typical sampling (Meister et al.): keeps tokens whose surprise is closest to the entropy
/// until their mass reaches p (1 = off).
public struct TypicalSampler: TokenSampler {
    public init() {}
    public func apply(_ c: inout TokenCandidates, settings: SamplerSettings) {
        let p = settings.typicalP
        guard p < 1, c.count > 1 else { return }
        c.computeProbabilities()
        let entropy = -c.probabilities.reduce(Float(0)) { $0 + ($1 > 0 ? $1 * logf($1) : 0) }
        let shifted = c.probabilities.map { abs(-logf($0) - entropy) }
        let order = c.ids.indices.sorted { shifted[$0] < shifted[$1] }
        var mass: Float = 0
        var keep = order.count
        for (n, i) in order.enumerated() {
            mass += c.probabilities[i]
            if mass > p { keep = n + 1; break }
        }
        let kept = order.prefix(keep)
        c = TokenCandidates(ids: kept.map { c.ids[$0] }, logits: kept.map { c.logits[$0] })
    }
}

/// Nucleus sampling: keeps the smallest set of most likely tokens whose mass reaches p (1 = off).
public struct TopPSampler: TokenSampler {
    public init() {}
    public func apply(_ c: inout TokenCandidates, settings: SamplerSettings) {
        let p = settings.topP
        guard p < 1, c.count > 1 else { return }
        c.computeProbabilities()
        var mass: Float = 0
        var keep = c.count
        for (i, q) in c.probabilities.enumerated() {
            mass += q
            if mass >= p { keep = i + 1; break }
        }
        c.truncate(to: max(1, keep))
    }
}

/// Drops tokens less likely than min-p × the most likely one (0 = off).
public struct MinPSampler: TokenSampler {
    public init() {}
    public func apply(_ c: inout TokenCandidates, settings: SamplerSettings) {
        let p = settings.minP
        guard p > 0, c.count > 1 else { return }
        c.sort()
        let threshold = c.logits[0] + logf(p)
        let keep = c.logits.prefix { $0 >= threshold }.count
        c.truncate(to: max(1, keep))
    }
}

/// Divides logits by the temperature; at temperature 0 only the best token survives.
public struct TemperatureSampler: TokenSampler {
    public init() {}
    public func apply(_ c: inout TokenCandidates, settings: SamplerSettings) {
        let t = settings.temperature
        if t <= 0 {
            c.sort()
            c.truncate(to: 1)
            return
        }
        if t == 1 { return }
        for i in c.logits.indices { c.logits[i] /= t }
        c.probabilities = []
    }
}
