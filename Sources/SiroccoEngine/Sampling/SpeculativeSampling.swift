// SpeculativeSampling: the acceptance rule of speculative decoding (Leviathan et al. 2023, Chen et
// al. 2023). A draft chain samples x ~ q and hands q over; the target chain, with p its own filtered
// distribution at the same position, keeps x with probability min(1, p(x)/q(x)), else draws from
// norm(max(0, p − q)). The tokens that come out are distributed exactly as p, whatever q is.
// When all k drafts are kept, the target's bonus token is an ordinary `sample(logits)`.
// It never touches a model: logits in, tokens out.

extension TokenCandidates {
    /// The distribution that puts all its mass on `token` (a greedy chain's q).
    init(pointMassOn token: TokenID, logit: Float) {
        self.init(ids: [token], logits: [logit])
        probabilities = [1]
        isSorted = true
    }

    /// The probability of `token` (0 when it was filtered out).
    func probability(of token: TokenID) -> Float {
        guard let i = ids.firstIndex(of: token), i < probabilities.count else { return 0 }
        return probabilities[i]
    }
}

extension SamplerChain {
    /// Picks a token exactly as `sample` does (same random draw, same history) and also returns the
    /// distribution q it was drawn from — a point mass on the token when greedy. For a draft model.
    public mutating func sampleWithDistribution(_ logits: [Float]) -> (token: TokenID, distribution: TokenCandidates) {
        let token: TokenID
        let q: TokenCandidates
        if takesArgmax {
            token = SamplerChain.argmax(logits)
            q = TokenCandidates(pointMassOn: token, logit: logits[Int(token)])
        } else {
            q = candidates(logits)
            token = draw(from: q)
        }
        accept(token)
        return (token, q)
    }

    /// The target's verdict on a draft token `x` drawn from `q`, given the target's `logits` at that
    /// position: x kept with probability min(1, p(x)/q(x)), else a token from norm(max(0, p − q))
    /// (from p if that has no mass). The token returned is recorded in the history. Greedy chains
    /// return exactly what `sample(logits)` would, kept iff it is x. After k kept drafts, the bonus
    /// token is `sample` on the next logits.
    public mutating func verify(draft x: TokenID, draftDistribution q: TokenCandidates,
                                logits: [Float]) -> (token: TokenID, accepted: Bool) {
        if settings.temperature <= 0 {
            // `sample`'s token: temperature leaves one candidate, the best after bias and penalties
            let token = takesArgmax ? SamplerChain.argmax(logits) : candidates(logits).ids[0]
            accept(token)
            return (token, token == x)
        }
        let p = candidates(logits)
        let px = Double(p.probability(of: x)), qx = Double(q.probability(of: x))
        // u < p/q, written so that q(x) = 0 keeps any token p allows and p(x) = 0 keeps nothing
        if nextUniform() * qx < px {
            accept(x)
            return (x, true)
        }
        let token = drawFromResidual(p, minus: q)
        accept(token)
        return (token, false)
    }

    /// A draw from norm(max(0, p − q)), or from p when p ≤ q everywhere (only rounding gets there).
    private mutating func drawFromResidual(_ p: TokenCandidates, minus q: TokenCandidates) -> TokenID {
        // q by token id over p's support (ids p does not have get no residual mass anyway)
        let size = Int(p.ids.max() ?? 0) + 1
        var qByID = [Float](repeating: 0, count: size)
        for (id, probability) in zip(q.ids, q.probabilities) where Int(id) < size { qByID[Int(id)] = probability }
        var residual = [Double](repeating: 0, count: p.count)
        var mass = 0.0
        for i in 0..<p.count {
            residual[i] = max(0, Double(p.probabilities[i]) - Double(qByID[Int(p.ids[i])]))
            mass += residual[i]
        }
        guard mass > 0 else { return draw(from: p) }
        let r = nextUniform() * mass
        var acc = 0.0
        var last = 0
        for i in 0..<p.count where residual[i] > 0 {
            acc += residual[i]
            if r < acc { return p.ids[i] }
            last = i
        }
        return p.ids[last]
    }
}
