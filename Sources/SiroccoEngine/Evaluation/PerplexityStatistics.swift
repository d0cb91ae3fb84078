// PerplexityStatistics: the numbers llama-perplexity reports (tools/perplexity/perplexity.cpp), from
// the logits of each scored position: the negative log-likelihood of the next token and, against a
// base run's log-probabilities, the KL divergence, the change in the next token's probability and
// whether the most likely token is the same. Pure arithmetic: it never evaluates a model.

import Foundation

/// A value with its one-sigma uncertainty.
public struct Estimate: Sendable, Equatable {
    public var value: Double
    public var uncertainty: Double
}

/// Running sums over scored positions, as llama.cpp keeps them.
public struct PerplexityAccumulator: Sendable {
    public private(set) var count = 0
    private var sumNLL = 0.0, sumNLL2 = 0.0
    private var sumNLLBase = 0.0, sumNLLBase2 = 0.0, sumNLLNLLBase = 0.0
    private var sumKLD = 0.0, sumKLD2 = 0.0
    private var sumPDiff = 0.0, sumPDiff2 = 0.0, sumPDiff4 = 0.0
    private var sameTop = 0
    /// KL divergence and p − p_base of every position scored against a base, in order.
    public private(set) var kldValues: [Float] = []
    public private(set) var pDiffValues: [Float] = []

    public init() {}

    /// Whether the positions were scored against a base.
    public var hasBase: Bool { !kldValues.isEmpty }

    /// Scores one position whose `logits` predict `next`; returns its negative log-likelihood.
    @discardableResult
    public mutating func add(logits: UnsafeBufferPointer<Float>, next: TokenID) -> Double {
        let (nll, _, _) = Self.logSoftmax(logits, next)
        count += 1
        sumNLL += nll
        sumNLL2 += nll * nll
        return nll
    }

    /// Scores one position against the base run's quantized log-probabilities for it.
    public mutating func add(logits: UnsafeBufferPointer<Float>, next: TokenID, base: QuantizedLogProbabilities) {
        let (nll, logNorm, top) = Self.logSoftmax(logits, next)
        let nllBase = -Double(base.logProb(Int(next)))
        // KL(base || this) over the tokens the base keeps (log p_base > -16), as llama.cpp
        var kld = 0.0
        var topBase = 0
        var topBaseLogProb: Float = 0
        for i in 0..<logits.count {
            let logProbBase = base.logProb(i)
            if i == 0 || logProbBase > topBaseLogProb {
                topBaseLogProb = logProbBase
                topBase = i
            }
            if logProbBase > -16 {
                kld += Double(expf(logProbBase)) * (Double(logProbBase) - (Double(logits[i]) - logNorm))
            }
        }
        let pDiff = exp(-nll) - exp(-nllBase)
        count += 1
        sumNLL += nll
        sumNLL2 += nll * nll
        sumNLLBase += nllBase
        sumNLLBase2 += nllBase * nllBase
        sumNLLNLLBase += nll * nllBase
        sumKLD += kld
        sumKLD2 += kld * kld
        sumPDiff += pDiff
        sumPDiff2 += pDiff * pDiff
        sumPDiff4 += pDiff * pDiff * pDiff * pDiff
        if top == topBase { sameTop += 1 }
        kldValues.append(Float(kld))
        pDiffValues.append(Float(pDiff))
    }

    /// −log softmax(logits)[next], the log of the normalizer (max + log Σ exp) and the first arg max.
    private static func logSoftmax(_ logits: UnsafeBufferPointer<Float>, _ next: TokenID) -> (Double, Double, Int) {
        var top = 0
        var maxLogit = logits[0]
        for i in 1..<logits.count where logits[i] > maxLogit {
            maxLogit = logits[i]
            top = i
        }
        var sumExp = 0.0
        for v in logits { sumExp += Double(expf(v - maxLogit)) }
        let logNorm = Double(maxLogit) + log(sumExp)
        return (logNorm - Double(logits[Int(next)]), logNorm, top)
    }

    // MARK: results

    /// llama.cpp's mean_and_uncertainty: the mean and the standard error of the mean (0 for ≤ 10 values).
    private func mean(_ sum: Double, _ sum2: Double) -> Estimate {
        guard count > 0 else { return Estimate(value: 0, uncertainty: 0) }
        let f = sum / Double(count)
        let variance = sum2 / Double(count) - f * f
        return Estimate(value: f, uncertainty: variance > 0 && count > 10 ? (variance / Double(count - 1)).squareRoot() : 0)
    }

    /// exp of the mean negative log-likelihood, with its uncertainty (llama.cpp's Final estimate).
    public var perplexity: Estimate {
        let logPPL = mean(sumNLL, sumNLL2)
        let ppl = exp(logPPL.value)
        return Estimate(value: ppl, uncertainty: ppl * logPPL.uncertainty)
    }

    /// The comparison with the base (nil without one): llama.cpp's closing statistics.
    public var comparison: KLDivergenceSummary? {
        guard hasBase else { return nil }
        let n = Double(count)
        let logPPL = mean(sumNLL, sumNLL2), logBase = mean(sumNLLBase, sumNLLBase2)
        let covariance = count < 10 ? 0 : (sumNLLNLLBase / n - (sumNLL / n) * (sumNLLBase / n)) / (n - 1)
        let ppl = perplexity
        let pplBase = Estimate(value: exp(logBase.value), uncertainty: exp(logBase.value) * logBase.uncertainty)
        let lnRatio = Estimate(value: logPPL.value - logBase.value,
                               uncertainty: (logPPL.uncertainty * logPPL.uncertainty + logBase.uncertainty * logBase.uncertainty
                                             - 2 * covariance).squareRoot())
        let ratio = exp(lnRatio.value)
        let pplCovariance = ppl.value * pplBase.value * covariance
        let difference = Estimate(value: ppl.value - pplBase.value,
                                  uncertainty: (ppl.uncertainty * ppl.uncertainty + pplBase.uncertainty * pplBase.uncertainty
                                                - 2 * pplCovariance).squareRoot())
        let mse = mean(sumPDiff2, sumPDiff4)
        let rms = mse.value.squareRoot()
        let same = Double(sameTop) / n
        return KLDivergenceSummary(
            count: count, perplexity: ppl, basePerplexity: pplBase,
            correlation: covariance / (logPPL.uncertainty * logBase.uncertainty),
            logPerplexityRatio: lnRatio, perplexityRatio: Estimate(value: ratio, uncertainty: ratio * lnRatio.uncertainty),
            perplexityDifference: difference,
            kld: mean(sumKLD, sumKLD2), kldQuantiles: Quantiles(kldValues),
            pDiff: mean(sumPDiff, sumPDiff2), pDiffQuantiles: Quantiles(pDiffValues),
            pDiffRMS: Estimate(value: rms, uncertainty: 0.5 / rms * mse.uncertainty),
            sameTop: Estimate(value: same, uncertainty: count > 1 ? (same * (1 - same) / (n - 1)).squareRoot() : 0))
    }
}

/// Sorted values with llama.cpp's percentile (linear interpolation between neighbours) and median.
public struct Quantiles: Sendable, Equatable {
    public let sorted: [Float]

    public init(_ values: [Float]) { sorted = values.sorted() }

    /// The value below which `fraction` of the values lie.
    public func percentile(_ fraction: Double) -> Double {
        guard let first = sorted.first, let last = sorted.last else { return 0 }
        if fraction <= 0 { return Double(first) }
        if fraction >= 1 { return Double(last) }
        let p = fraction * Double(sorted.count - 1)
        let i = Int(p)
        let t = p - Double(i)
        return (1 - t) * Double(sorted[i]) + t * Double(sorted[min(i + 1, sorted.count - 1)])
    }

    public var median: Double {
        let n = sorted.count
        guard n > 0 else { return 0 }
        return n % 2 == 0 ? 0.5 * (Double(sorted[n / 2]) + Double(sorted[n / 2 - 1])) : Double(sorted[n / 2])
    }
    public var minimum: Double { Double(sorted.first ?? 0) }
    public var maximum: Double { Double(sorted.last ?? 0) }
}

/// How a run compares with its base, in llama-perplexity's terms (Q is this run).
public struct KLDivergenceSummary: Sendable {
    public let count: Int
    public let perplexity: Estimate
    public let basePerplexity: Estimate
    /// Correlation of ln PPL(Q) and ln PPL(base).
    public let correlation: Double
    public let logPerplexityRatio: Estimate
    public let perplexityRatio: Estimate
    public let perplexityDifference: Estimate
    public let kld: Estimate
    public let kldQuantiles: Quantiles
    /// p(next) − p_base(next).
    public let pDiff: Estimate
    public let pDiffQuantiles: Quantiles
    public let pDiffRMS: Estimate
    /// Share of positions whose most likely token is the base's.
    public let sameTop: Estimate
}
