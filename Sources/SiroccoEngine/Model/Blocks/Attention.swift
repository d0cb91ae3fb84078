// Attention: the self-attention block — Q, K, V projections (separate or fused, with optional
// biases), per-head QK-norm, RoPE, the KV cache, attention over it (Attend.swift) and the output
// projection Wo. Grouped- and multi-query attention follow from the head counts: query head h reads
// KV head h / groupSize.

/// One layer's attention weights.
struct AttentionWeights {
    let wq: WeightMatrix    // [nHeads·headDim, dim]
    let wk: WeightMatrix    // [nKVHeads·headDim, dim]
    let wv: WeightMatrix    // [nKVHeads·headDim, dim]
    let bq: [Float]?        // [nHeads·headDim]
    let bk: [Float]?        // [nKVHeads·headDim]
    let bv: [Float]?        // [nKVHeads·headDim]
    let qNorm: Norm?        // [headDim] RMSNorm of each query head (Qwen3, Gemma 3)
    let kNorm: Norm?        // [headDim] RMSNorm of each key head
    let wo: WeightMatrix    // [dim, nHeads·headDim]

    /// Which optional parts an architecture's files carry.
    struct Layout {
        enum Presence { case absent, optional, required }
        /// Q, K and V as one `attn_qkv` matrix ([Q | K | V] rows), or as three.
        var fusedQKV: Presence = .absent
        var biases: Presence = .optional
        var qkNorm: Presence = .absent
    }

    /// Bytes of weights one token reads.
    var byteCount: Int { wq.byteCount + wk.byteCount + wv.byteCount + wo.byteCount }

    init(loading t: TensorLoader, layer i: Int, config c: ModelConfig, layout: Layout) throws(ModelError) {
        let dim = c.embeddingLength
        func wanted(_ presence: Layout.Presence, _ name: String) -> Bool {
            presence == .required || (presence == .optional && t.has(name))
        }
        if wanted(layout.fusedQKV, TensorName.attnQKV(i)) {
            let qkv = try t.matrix(TensorName.attnQKV(i), rows: c.qDim + 2 * c.kvDim, cols: dim)
            wq = qkv.rows(0..<c.qDim, name: "\(qkv.name)[q]")
            wk = qkv.rows(c.qDim..<c.qDim + c.kvDim, name: "\(qkv.name)[k]")
            wv = qkv.rows(c.qDim + c.kvDim..<c.qDim + 2 * c.kvDim, name: "\(qkv.name)[v]")
        } else {
            wq = try t.matrix(TensorName.attnQ(i), rows: c.qDim, cols: dim)
            wk = try t.matrix(TensorName.attnK(i), rows: c.kvDim, cols: dim)
            wv = try t.matrix(TensorName.attnV(i), rows: c.kvDim, cols: dim)
        }
        let (q, k, v) = (TensorName.attnQBias(i), TensorName.attnKBias(i), TensorName.attnVBias(i))
        bq = wanted(layout.biases, q) ? try t.vector(q, count: c.qDim) : nil
        bk = wanted(layout.biases, k) ? try t.vector(k, count: c.kvDim) : nil
        bv = wanted(layout.biases, v) ? try t.vector(v, count: c.kvDim) : nil
        let (qn, kn) = (TensorName.attnQNorm(i), TensorName.attnKNorm(i))
        qNorm = wanted(layout.qkNorm, qn) ? try t.rmsNorm(qn, width: c.headDim, epsilon: c.rmsEpsilon) : nil
        kNorm = wanted(layout.qkNorm, kn) ? try t.rmsNorm(kn, width: c.headDim, epsilon: c.rmsEpsilon) : nil
        wo = try t.matrix(TensorName.attnOutput(i), rows: dim, cols: c.qDim)
    }
}

extension ForwardPass {
    /// output = Wo · attention(layer l) of `input` ([batch, dim] each); this batch's keys and values
    /// join their sequences' caches.
    func attention(_ w: AttentionWeights, layer l: Int, input: UnsafeMutablePointer<Float>,
                   output: UnsafeMutablePointer<Float>) {
        let c = config, s = scratch, n = rows

        // Q, K, V projections (one activation conversion, one dispatch), then biases
        mm.prepare(input, rows: n, cols: c.embeddingLength, for: w.wq.type, w.wk.type, w.wv.type)
        pool.run { i, t in
            mm.multiply(w.wq, rows: n, into: s.queries, outStride: c.qDim, thread: i, of: t)
            mm.multiply(w.wk, rows: n, into: s.keys, outStride: c.kvDim, thread: i, of: t)
            mm.multiply(w.wv, rows: n, into: s.values, outStride: c.kvDim, thread: i, of: t)
        }
        if let b = w.bq { addBias(s.queries, b) }
        if let b = w.bk { addBias(s.keys, b) }
        if let b = w.bv { addBias(s.values, b) }

        // QK-norm per head, then RoPE on queries and keys
        eachRows { r in
            let q = s.queries + r.lowerBound * c.qDim, k = s.keys + r.lowerBound * c.kvDim
            w.qNorm?.apply(q, into: q, rows: r.count * c.headCount)
            w.kNorm?.apply(k, into: k, rows: r.count * c.kvHeadCount)
            applyRope(q, heads: c.headCount, layer: l, first: r.lowerBound, rows: r.count)
            applyRope(k, heads: c.kvHeadCount, layer: l, first: r.lowerBound, rows: r.count)
        }

        // each sequence's cache takes its rows' keys and values (a quantized cache rotates all three
        // first, and the attention output back); every query attends over what it may see
        for seq in sequences {
            let first = seq.rows.lowerBound, cache = seq.cache
            let (q, k, v) = (s.queries + first * c.qDim, s.keys + first * c.kvDim, s.values + first * c.kvDim)
            eachRows(of: seq.rows.count) { r in
                cache.rotateIn(queries: q + r.lowerBound * c.qDim, qDim: c.qDim, keys: k + r.lowerBound * c.kvDim,
                               values: v + r.lowerBound * c.kvDim, rows: r.count)
            }
            cache.write(layer: l, keys: k, values: v, rows: seq.rows.count, start: seq.start)
            attend(layer: l, seq)
            cache.commit(layer: l, rows: seq.rows.count, start: seq.start)
            eachRows(of: seq.rows.count) { r in
                cache.rotateOut(s.heads + (first + r.lowerBound) * c.qDim, count: r.count * c.qDim)
            }
        }

        // output projection
        mm.multiply(w.wo, s.heads, rows: n, into: output, outStride: c.embeddingLength)
    }

    /// x[row] += bias for every row of the batch.
    private func addBias(_ x: UnsafeMutablePointer<Float>, _ bias: [Float]) {
        let width = bias.count
        bias.withUnsafeBufferPointer { b in
            for i in 0..<rows {
                let row = x + i * width
                for j in 0..<width { row[j] += b[j] }
            }
        }
    }
}
