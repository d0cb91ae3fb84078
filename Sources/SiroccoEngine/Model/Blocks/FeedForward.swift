// FeedForward: the position-wise feed-forward block — gated (SwiGLU, GeGLU), sequential (Falcon's
// up → GELU → down) or a mixture of experts (Mixtral: a router picks experts per token, each a gated
// block).

import CKernels

/// One layer's feed-forward weights.
enum FeedForward {
    /// down(act(gate·x) * up·x).
    case gated(gate: WeightMatrix, up: WeightMatrix, down: WeightMatrix)   // [ffn, dim], [ffn, dim], [dim, ffn]
    /// down(act(up·x)).
    case sequential(up: WeightMatrix, down: WeightMatrix)                  // [ffn, dim], [dim, ffn]
    /// The router picks `used` experts per token; their gated outputs are summed, weighted by the
    /// renormalised router probabilities.
    case experts(router: WeightMatrix, gate: [WeightMatrix], up: [WeightMatrix], down: [WeightMatrix], used: Int)
    // router [nExpert, dim]; per expert: gate [ffn, dim], up [ffn, dim], down [dim, ffn]

    /// Bytes of weights one token reads (for experts: the router and the experts it uses).
    var bytesPerToken: Int {
        switch self {
        case let .gated(gate, up, down): gate.byteCount + up.byteCount + down.byteCount
        case let .sequential(up, down): up.byteCount + down.byteCount
        case let .experts(router, gate, up, down, used): router.byteCount + used * (gate[0].byteCount + up[0].byteCount + down[0].byteCount)
        }
    }

    /// The gated block of layer `i` — experts when the model has them; gate and up fused in one
    /// `ffn_up` matrix ([gate | up] rows, Phi-3) when there is no `ffn_gate`; else three matrices.
    init(gatedLoading t: TensorLoader, layer i: Int, config c: ModelConfig) throws(ModelError) {
        let dim = c.embeddingLength, f = c.feedForwardLength
        if c.isMixtureOfExperts {
            let n = c.expertCount
            self = .experts(
                router: try t.matrix(TensorName.ffnGateInput(i), rows: n, cols: dim),
                gate: try t.stacked(TensorName.ffnGateExperts(i), count: n, rows: f, cols: dim),
                up: try t.stacked(TensorName.ffnUpExperts(i), count: n, rows: f, cols: dim),
                down: try t.stacked(TensorName.ffnDownExperts(i), count: n, rows: dim, cols: f),
                used: c.expertUsedCount)
        } else if !t.has(TensorName.ffnGate(i)) && t.has(TensorName.ffnUp(i)) {
            let fused = try t.matrix(TensorName.ffnUp(i), rows: 2 * f, cols: dim)
            self = .gated(gate: fused.rows(0..<f, name: "\(fused.name)[gate]"), up: fused.rows(f..<2 * f, name: "\(fused.name)[up]"),
                          down: try t.matrix(TensorName.ffnDown(i), rows: dim, cols: f))
        } else {
            self = .gated(gate: try t.matrix(TensorName.ffnGate(i), rows: f, cols: dim),
                          up: try t.matrix(TensorName.ffnUp(i), rows: f, cols: dim),
                          down: try t.matrix(TensorName.ffnDown(i), rows: dim, cols: f))
        }
    }

    /// The sequential block of layer `i` (`ffn_up`, `ffn_down`).
    init(sequentialLoading t: TensorLoader, layer i: Int, config c: ModelConfig) throws(ModelError) {
        let dim = c.embeddingLength, f = c.feedForwardLength
        self = .sequential(up: try t.matrix(TensorName.ffnUp(i), rows: f, cols: dim),
                           down: try t.matrix(TensorName.ffnDown(i), rows: dim, cols: f))
    }
}

extension ForwardPass {
    /// output = feedForward(input), [batch, dim] each.
    func feedForward(_ f: FeedForward, input: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>) {
        switch f {
        case let .gated(gate, up, down):
            gatedFeedForward(gate: gate, up: up, down: down, input: input, rows: rows, output: output)
        case let .sequential(up, down):
            let s = scratch, width = up.rows
            mm.multiply(up, input, rows: rows, into: s.up, outStride: width)
            eachRows { r in activate(s.up + r.lowerBound * width, times: nil, count: r.count * width) }
            mm.multiply(down, s.up, rows: rows, into: output, outStride: down.rows)
        case let .experts(router, gate, up, down, used):
            mixtureOfExperts(router: router, gate: gate, up: up, down: down, used: used, input: input, output: output)
        }
    }

    /// g = act(g) * u (`u` nil: act(g)) with the model's activation: SiLU, or GELU through ggml's F16
    /// table as llama.cpp's CPU backend computes it.
    private func activate(_ g: UnsafeMutablePointer<Float>, times u: UnsafePointer<Float>?, count: Int) {
        switch config.activation {
        case .silu:
            precondition(u != nil, "SiLU is only used gated")
            sk_silu_mul(g, u, Int64(count))
        case .geluTanh: sk_gelu_mul_table(g, u, Int64(count))
        }
    }

    /// output = down(act(gate·input) * up·input) for `n` rows (input and output may alias).
    private func gatedFeedForward(gate: WeightMatrix, up: WeightMatrix, down: WeightMatrix, input: UnsafeMutablePointer<Float>,
                                  rows n: Int, output: UnsafeMutablePointer<Float>) {
        let s = scratch, f = gate.rows
        mm.prepare(input, rows: n, cols: gate.cols, for: gate.type, up.type)
        pool.run { i, t in
            mm.multiply(gate, rows: n, into: s.gate, outStride: f, thread: i, of: t)
            mm.multiply(up, rows: n, into: s.up, outStride: f, thread: i, of: t)
        }
        eachRows(of: n) { r in activate(s.gate + r.lowerBound * f, times: s.up + r.lowerBound * f, count: r.count * f) }
        mm.multiply(down, s.gate, rows: n, into: output, outStride: down.rows)
    }

    /// Mixtral routing (llama.cpp's build_moe_ffn with softmax gating and renormalised weights):
    /// p = softmax(router·x); the `used` most probable experts run the gated block on x; their
    /// outputs are summed with weights p_e / Σ p_chosen. Tokens are grouped per expert so each
    /// expert's weights are read once per batch, and only the chosen experts' weights are read at all.
    private func mixtureOfExperts(router: WeightMatrix, gate: [WeightMatrix], up: [WeightMatrix], down: [WeightMatrix],
                                  used: Int, input: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>) {
        let s = scratch, n = rows
        let dim = config.embeddingLength
        let experts = gate.count
        mm.multiply(router, input, rows: n, into: s.routerLogits, outStride: experts)
        for e in 0..<experts { s.expertCounts[e] = 0 }
        for i in 0..<n {
            let p = s.routerLogits + i * experts
            sk_softmax(p, Int64(experts))
            // top-k by probability (lowest index first on ties)
            var chosen = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)  // up to 16 chosen experts, no allocation
            var total: Float = 0
            withUnsafeMutableBytes(of: &chosen) { raw in
                let picks = raw.bindMemory(to: Int.self)
                for k in 0..<used {
                    var best = -1
                    for e in 0..<experts {
                        var taken = false
                        for j in 0..<k where picks[j] == e { taken = true }
                        if !taken && (best < 0 || p[e] > p[best]) { best = e }
                    }
                    picks[k] = best
                    total += p[best]
                }
                for k in 0..<used {
                    let e = picks[k]
                    let slot = e * s.maxBatch + s.expertCounts[e]
                    s.expertTokens[slot] = Int32(i)
                    s.expertWeights[slot] = p[e] / total
                    s.expertCounts[e] += 1
                }
            }
        }
        // each expert's input rows are gathered; the weighted sum collects in the output
        output.update(repeating: 0, count: n * dim)
        for e in 0..<experts where s.expertCounts[e] > 0 {
            let m = s.expertCounts[e]
            for j in 0..<m {
                let row = Int(s.expertTokens[e * s.maxBatch + j])
                (s.expertIn + j * dim).update(from: input + row * dim, count: dim)
            }
            gatedFeedForward(gate: gate[e], up: up[e], down: down[e], input: s.expertIn, rows: m, output: s.expertOut)
            for j in 0..<m {
                let row = Int(s.expertTokens[e * s.maxBatch + j])
                let weight = s.expertWeights[e * s.maxBatch + j]
                let dst = output + row * dim
                let src = s.expertOut + j * dim
                for d in 0..<dim { dst[d] += weight * src[d] }
            }
        }
    }
}
