// LlamaModel: the forward pass of the Llama family — Llama 2/3, Mistral (sliding window),
// Mixtral (mixture of experts), Qwen2 (Q/K/V biases), Phi-3 (fused projections) — following
// llama2.c's forward() and llama.cpp's llama graph (Gemma 3's extra norms, GeGLU and embedding
// scale are properties of the same pass, following llama.cpp's gemma3 graph):
// embed → per layer [RMSNorm → Q,K,V (+bias) → RoPE → cache → GQA attention → Wo → residual →
// RMSNorm → SwiGLU or experts → residual] → final RMSNorm → output projection.
// Never allocates per token: every activation buffer lives in ForwardScratch.

import CKernels
import Foundation

/// Activation buffers for a batch of up to `maxBatch` tokens, allocated once (run.c's RunState).
final class ForwardScratch {
    let maxBatch: Int
    let x: UnsafeMutablePointer<Float>        // [batch, dim] residual stream
    let xb: UnsafeMutablePointer<Float>       // [batch, dim] normed input / block output
    let q: UnsafeMutablePointer<Float>        // [batch, nHeads*headDim]
    let k: UnsafeMutablePointer<Float>        // [batch, nKVHeads*headDim]
    let v: UnsafeMutablePointer<Float>        // [batch, nKVHeads*headDim]
    let attn: UnsafeMutablePointer<Float>     // [batch, nHeads*headDim] attention output
    let hb: UnsafeMutablePointer<Float>       // [batch, ffnDim] gate
    let hb2: UnsafeMutablePointer<Float>      // [batch, ffnDim] up
    let attentionWork: UnsafeMutablePointer<Float>  // [threads, attentionWorkFloats] per-thread attention scratch
    let attentionWorkFloats: Int
    let attentionPartials: UnsafeMutablePointer<Float>  // [heads, threads, partialStride] split-KV partial results
    /// Floats per partial result (m, sum, headDim values), padded to a cache line: threads writing
    /// neighbouring partials must not share a line.
    let partialStride: Int
    let segments: UnsafeMutablePointer<sk_kv_segment>   // [threads, 4] key/value pieces of one attention call
    let threads: Int
    let ropeCos: UnsafeMutablePointer<Float>  // [batch, ropeDim/2] global layers
    let ropeSin: UnsafeMutablePointer<Float>
    let ropeCosLocal: UnsafeMutablePointer<Float>  // [batch, ropeDim/2] windowed layers with their own base
    let ropeSinLocal: UnsafeMutablePointer<Float>
    let chunkK: UnsafeMutableRawPointer  // [nKVHeads, batch] rows of this batch's keys in the cache's type, windowed layers
    let chunkV: UnsafeMutableRawPointer
    // mixture of experts
    let routerLogits: UnsafeMutablePointer<Float>   // [batch, nExpert]
    let expertIn: UnsafeMutablePointer<Float>       // [batch, dim] rows routed to one expert
    let expertOut: UnsafeMutablePointer<Float>      // [batch, dim]
    let expertSum: UnsafeMutablePointer<Float>      // [batch, dim] weighted sum of the chosen experts
    let expertTokens: UnsafeMutablePointer<Int32>   // [nExpert, batch] token rows per expert
    let expertWeights: UnsafeMutablePointer<Float>  // [nExpert, batch] their router weights
    let expertCounts: UnsafeMutablePointer<Int>     // [nExpert]
    private var floats: [UnsafeMutablePointer<Float>] = []

    init(config c: ModelConfig, maxBatch: Int, threads: Int) {
        self.maxBatch = maxBatch
        func buffer(_ n: Int) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutableRawPointer.allocate(byteCount: max(n, 1) * 4, alignment: 64).bindMemory(to: Float.self, capacity: max(n, 1))
            p.initialize(repeating: 0, count: max(n, 1))
            return p
        }
        let experts = max(c.expertCount, 1)
        x = buffer(maxBatch * c.embeddingLength)
        xb = buffer(maxBatch * max(c.embeddingLength, c.qDim))
        q = buffer(maxBatch * c.qDim)
        k = buffer(maxBatch * c.kvDim)
        v = buffer(maxBatch * c.kvDim)
        attn = buffer(maxBatch * c.qDim)
        hb = buffer(maxBatch * c.feedForwardLength)
        hb2 = buffer(maxBatch * c.feedForwardLength)
        self.threads = threads
        func lines(_ floats: Int) -> Int { (floats + 15) / 16 * 16 }
        attentionWorkFloats = lines(Int(sk_attention_scratch_floats(Int64(c.headDim))))
        attentionWork = buffer(threads * attentionWorkFloats)
        partialStride = lines(2 + c.headDim)
        attentionPartials = buffer(max(c.headCount, c.groupSize) * threads * partialStride)
        ropeCos = buffer(maxBatch * c.ropeDimensions / 2)
        ropeSin = buffer(maxBatch * c.ropeDimensions / 2)
        ropeCosLocal = buffer(maxBatch * c.ropeDimensions / 2)
        ropeSinLocal = buffer(maxBatch * c.ropeDimensions / 2)
        routerLogits = buffer(maxBatch * experts)
        expertIn = buffer(maxBatch * c.embeddingLength)
        expertOut = buffer(maxBatch * c.embeddingLength)
        expertSum = buffer(c.isMixtureOfExperts ? maxBatch * c.embeddingLength : 1)
        expertWeights = buffer(maxBatch * experts)
        floats = [x, xb, q, k, v, attn, hb, hb2, attentionWork, attentionPartials, ropeCos, ropeSin, ropeCosLocal, ropeSinLocal, routerLogits, expertIn, expertOut, expertSum, expertWeights]
        chunkK = .allocate(byteCount: maxBatch * c.kvDim * 2, alignment: 64)  // F16 rows are the largest
        chunkV = .allocate(byteCount: maxBatch * c.kvDim * 2, alignment: 64)
        expertTokens = .allocate(capacity: maxBatch * experts)
        expertCounts = .allocate(capacity: experts)
        segments = .allocate(capacity: threads * 4)
    }

    deinit {
        floats.forEach { $0.deallocate() }
        chunkK.deallocate()
        chunkV.deallocate()
        expertTokens.deallocate()
        expertCounts.deallocate()
        segments.deallocate()
    }
}

/// A loaded Llama-family network: configuration plus weights; stateless between calls.
final class LlamaModel {
    let config: ModelConfig
    let weights: LlamaWeights

    init(file: GGUFFile, config: ModelConfig) throws(ModelError) {
        self.config = config
        self.weights = try LlamaWeights(file: file, config: config)
    }

    /// The attention window of each layer (Mistral: every layer; Gemma 3: five of every six).
    var layerWindows: [Int?] { (0..<config.layerCount).map { config.window(layer: $0) } }

    /// Runs `tokens` (at positions `cache.count ..< cache.count + n`) through the network, appends
    /// their keys and values to `cache`, and writes logits: for the last token into `logits`
    /// ([vocab]), or for every token when `allLogits` ([n, vocab]).
    func forward(tokens: UnsafeBufferPointer<TokenID>, cache: KVCache, scratch s: ForwardScratch,
                 mm: MatrixMultiplier, logits: UnsafeMutablePointer<Float>, allLogits: Bool) {
        let c = config
        let n = tokens.count
        let dim = c.embeddingLength
        let start = cache.count
        precondition(n > 0 && n <= s.maxBatch && start + n <= cache.capacity)
        let pool = mm.pool

        // token embedding
        for (i, token) in tokens.enumerated() {
            weights.tokenEmbedding.dequantizeRow(Int(token), into: s.x + i * dim)
        }
        if let scale = c.embeddingScale {
            for j in 0..<n * dim { s.x[j] *= scale }
        }
        computeRopeTables(start: start, count: n, base: c.ropeFreqBase, freqScale: c.ropeFreqScale, cos: s.ropeCos, sin: s.ropeSin)
        if let localBase = c.localRopeFreqBase {
            computeRopeTables(start: start, count: n, base: localBase, freqScale: 1, cos: s.ropeCosLocal, sin: s.ropeSinLocal)
        }

        let rotation = cache.type.rotationBlocks(headDim: c.headDim)
        for (l, w) in weights.layers.enumerated() {
            // attention rmsnorm
            eachRows(n, pool) { r in rmsnorm(s.xb + r.lowerBound * dim, s.x + r.lowerBound * dim, w.attnNorm, rows: r.count) }

            // Q, K, V projections (one activation conversion, one dispatch), then biases
            mm.prepare(s.xb, rows: n, cols: dim, for: w.wq.type, w.wk.type, w.wv.type)
            pool.run { i, t in
                mm.multiply(w.wq, rows: n, into: s.q, outStride: c.qDim, thread: i, of: t)
                mm.multiply(w.wk, rows: n, into: s.k, outStride: c.kvDim, thread: i, of: t)
                mm.multiply(w.wv, rows: n, into: s.v, outStride: c.kvDim, thread: i, of: t)
            }
            if let b = w.bq { addBias(s.q, b, rows: n) }
            if let b = w.bk { addBias(s.k, b, rows: n) }
            if let b = w.bv { addBias(s.v, b, rows: n) }

            // QK-norm (per head), then RoPE on queries and keys (windowed layers may use their own base)
            let half = c.ropeDimensions / 2
            let local = c.localRopeFreqBase != nil && cache.isWindowed(l)
            let (ropeCos, ropeSin) = local ? (s.ropeCosLocal, s.ropeSinLocal) : (s.ropeCos, s.ropeSin)
            eachRows(n, pool) { r in
                let q = s.q + r.lowerBound * c.qDim, k = s.k + r.lowerBound * c.kvDim
                if let qn = w.qNorm { headNorm(q, qn, heads: c.headCount, rows: r.count) }
                if let kn = w.kNorm { headNorm(k, kn, heads: c.kvHeadCount, rows: r.count) }
                let cos = ropeCos + r.lowerBound * half, sin = ropeSin + r.lowerBound * half
                applyRope(q, heads: c.headCount, rows: r.count, cos: cos, sin: sin)
                applyRope(k, heads: c.kvHeadCount, rows: r.count, cos: cos, sin: sin)
                if let blocks = rotation {  // a quantized cache holds rotated keys and values (as llama.cpp's)
                    let v = s.v + r.lowerBound * c.kvDim
                    sk_hadamard_rotate(q, Int64(r.count * c.qDim), Int64(blocks.keys))
                    sk_hadamard_rotate(k, Int64(r.count * c.kvDim), Int64(blocks.keys))
                    sk_hadamard_rotate(v, Int64(r.count * c.kvDim), Int64(blocks.values))
                }
            }

            // GQA attention over the cache (query head h reads kv head h / groupSize)
            let windowed = cache.isWindowed(l)
            if windowed {
                stageKeysAndValues(rows: n, cache: cache, scratch: s)
            } else {
                storeKeysAndValues(layer: l, rows: n, start: start, cache: cache, scratch: s)
            }
            attention(layer: l, rows: n, start: start, cache: cache, scratch: s, pool: pool)
            if windowed { keepWindow(layer: l, rows: n, start: start, cache: cache, scratch: s) }
            if let blocks = rotation {  // the output of rotated values, rotated back
                eachRows(n, pool) { r in
                    sk_hadamard_rotate(s.attn + r.lowerBound * c.qDim, Int64(r.count * c.qDim), Int64(blocks.values))
                }
            }

            // output projection (post-norm for Gemma), residual, ffn rmsnorm
            mm.multiply(w.wo, s.attn, rows: n, into: s.xb, outStride: dim)
            eachRows(n, pool) { r in
                let o = r.lowerBound * dim
                if let pn = w.postAttentionNorm { rmsnorm(s.xb + o, s.xb + o, pn, rows: r.count) }
                addInPlace(s.x + o, s.xb + o, count: r.count * dim)
                rmsnorm(s.xb + o, s.x + o, w.ffnNorm, rows: r.count)
            }

            // feed-forward (post-norm for Gemma), residual
            switch w.ffn {
            case let .dense(w1, w3, w2):
                gatedFeedForward(w1: w1, w3: w3, w2: w2, input: s.xb, rows: n, output: s.xb, scratch: s, mm: mm)
            case let .experts(router, gate, up, down, used):
                mixtureOfExperts(router: router, gate: gate, up: up, down: down, used: used, rows: n, scratch: s, mm: mm)
            }
            eachRows(n, pool) { r in
                let o = r.lowerBound * dim
                if let pn = w.postFeedForwardNorm { rmsnorm(s.xb + o, s.xb + o, pn, rows: r.count) }
                addInPlace(s.x + o, s.xb + o, count: r.count * dim)
            }
        }
        cache.count = start + n

        // final rmsnorm and output projection (last row only unless every row's logits are wanted)
        let first = allLogits ? 0 : n - 1
        let rows = n - first
        rmsnorm(s.xb, s.x + first * dim, weights.outputNorm, rows: rows)
        mm.multiply(weights.output, s.xb, rows: rows, into: logits, outStride: c.vocabularySize)
    }

    // MARK: feed-forward

    /// output = w2(act(w1·input) * w3·input) for `rows` rows — SwiGLU, or GeGLU for Gemma
    /// (input and output may alias).
    private func gatedFeedForward(w1: WeightMatrix, w3: WeightMatrix, w2: WeightMatrix, input: UnsafeMutablePointer<Float>,
                        rows n: Int, output: UnsafeMutablePointer<Float>, scratch s: ForwardScratch, mm: MatrixMultiplier) {
        let f = w1.rows
        mm.prepare(input, rows: n, cols: w1.cols, for: w1.type, w3.type)
        mm.pool.run { i, t in
            mm.multiply(w1, rows: n, into: s.hb, outStride: f, thread: i, of: t)
            mm.multiply(w3, rows: n, into: s.hb2, outStride: f, thread: i, of: t)
        }
        eachRows(n, mm.pool) { r in
            let (g, u, count) = (s.hb + r.lowerBound * f, s.hb2 + r.lowerBound * f, Int64(r.count * f))
            switch config.activation {
            case .silu: sk_silu_mul(g, u, count)
            case .geluTanh: sk_gelu_mul_table(g, u, count)  // ggml's F16-table GELU, as llama.cpp
            }
        }
        mm.multiply(w2, s.hb, rows: n, into: output, outStride: w2.rows)
    }

    /// Mixtral routing (llama.cpp's build_moe_ffn with softmax gating and renormalised weights):
    /// p = softmax(router·x); the `used` most probable experts run SwiGLU on x; their outputs are
    /// summed with weights p_e / Σ p_chosen. Tokens are grouped per expert so each expert's weights
    /// are read once per batch, and only the chosen experts' weights are read at all.
    private func mixtureOfExperts(router: WeightMatrix, gate: [WeightMatrix], up: [WeightMatrix], down: [WeightMatrix],
                                  used: Int, rows n: Int, scratch s: ForwardScratch, mm: MatrixMultiplier) {
        let dim = config.embeddingLength
        let experts = gate.count
        mm.multiply(router, s.xb, rows: n, into: s.routerLogits, outStride: experts)
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
        // each expert's input rows are gathered from xb; the weighted sum collects in expertSum
        let input = s.xb
        let moeSum = s.expertSum
        moeSum.update(repeating: 0, count: n * dim)
        for e in 0..<experts where s.expertCounts[e] > 0 {
            let m = s.expertCounts[e]
            for j in 0..<m {
                let row = Int(s.expertTokens[e * s.maxBatch + j])
                (s.expertIn + j * dim).update(from: input + row * dim, count: dim)
            }
            gatedFeedForward(w1: gate[e], w3: up[e], w2: down[e], input: s.expertIn, rows: m, output: s.expertOut, scratch: s, mm: mm)
            for j in 0..<m {
                let row = Int(s.expertTokens[e * s.maxBatch + j])
                let weight = s.expertWeights[e * s.maxBatch + j]
                let dst = moeSum + row * dim
                let src = s.expertOut + j * dim
                for d in 0..<dim { dst[d] += weight * src[d] }
            }
        }
        s.xb.update(from: moeSum, count: n * dim)
    }

    // MARK: attention

    /// Writes this batch's keys and values into their cells.
    private func storeKeysAndValues(layer l: Int, rows n: Int, start: Int, cache: KVCache, scratch s: ForwardScratch) {
        let c = config
        for h in 0..<c.kvHeadCount {
            let keys = cache.keyRows(layer: l, head: h), values = cache.valueRows(layer: l, head: h)
            for i in 0..<n {
                let cell = cache.cell(layer: l, position: start + i)
                keys.store(s.k + i * c.kvDim + h * c.headDim, cell: cell)
                values.store(s.v + i * c.kvDim + h * c.headDim, cell: cell)
            }
        }
    }

    /// This batch's keys (or values) of KV head `h` in the cache's type outside the cache (windowed
    /// layers: the rolling buffer is only updated after every token of the batch has attended).
    private func stagedRows(_ base: UnsafeMutableRawPointer, head h: Int, rows n: Int, cache: KVCache) -> KVRows {
        KVRows(base: base + h * n * cache.rowBytes, cells: n, headDim: config.headDim, type: cache.type)
    }

    /// Writes this batch's keys and values to the staging rows.
    private func stageKeysAndValues(rows n: Int, cache: KVCache, scratch s: ForwardScratch) {
        let c = config
        for h in 0..<c.kvHeadCount {
            let keys = stagedRows(s.chunkK, head: h, rows: n, cache: cache)
            let values = stagedRows(s.chunkV, head: h, rows: n, cache: cache)
            for i in 0..<n {
                keys.store(s.k + i * c.kvDim + h * c.headDim, cell: i)
                values.store(s.v + i * c.kvDim + h * c.headDim, cell: i)
            }
        }
    }

    /// Keeps the last W positions of a staged batch in the rolling buffer.
    private func keepWindow(layer l: Int, rows n: Int, start: Int, cache: KVCache, scratch s: ForwardScratch) {
        let c = config
        let window = cache.cellsPerLayer[l]
        for h in 0..<c.kvHeadCount {
            let keys = cache.keyRows(layer: l, head: h), values = cache.valueRows(layer: l, head: h)
            let stagedKeys = stagedRows(s.chunkK, head: h, rows: n, cache: cache)
            let stagedValues = stagedRows(s.chunkV, head: h, rows: n, cache: cache)
            for i in max(0, n - window)..<n {
                keys.copy(i, of: stagedKeys, into: (start + i) % window)
                values.copy(i, of: stagedValues, into: (start + i) % window)
            }
        }
    }

    /// The key/value pieces of KV head `kvh` holding positions [from, to), in position order (at
    /// most 3): a full layer's cache; or a windowed layer's rolling buffer (wrapping: two pieces)
    /// for positions before the batch and the staged batch for the rest.
    private func kvSegments(layer l: Int, kvHead kvh: Int, from: Int, to: Int, rows n: Int, start: Int,
                            cache: KVCache, scratch s: ForwardScratch, into out: UnsafeMutablePointer<sk_kv_segment>) -> Int {
        let keys = cache.keyRows(layer: l, head: kvh), values = cache.valueRows(layer: l, head: kvh)
        guard cache.isWindowed(l) else {
            out[0] = keys.segment(values: values, first: from, pos: from, n: to - from)
            return 1
        }
        let window = cache.cellsPerLayer[l]
        var count = 0
        var pos = from
        while pos < min(to, start) {
            let cell = pos % window
            let run = min(min(to, start) - pos, window - cell)
            out[count] = keys.segment(values: values, first: cell, pos: pos, n: run)
            count += 1
            pos += run
        }
        if to > start {
            let first = max(from, start)
            let stagedKeys = stagedRows(s.chunkK, head: kvh, rows: n, cache: cache)
            let stagedValues = stagedRows(s.chunkV, head: kvh, rows: n, cache: cache)
            out[count] = stagedKeys.segment(values: stagedValues, first: first - start, pos: first, n: to - first)
            count += 1
        }
        return count
    }

    /// Causal (and, for windowed layers, sliding-window) attention for the batch, computed the way
    /// ggml's CPU flash attention does (see CKernels/Attention.h): batches of SK_ATTENTION_TILE rows
    /// or more in tiles of rows per head; shorter batches row by row, a GQA group at a time; one
    /// token over 512 or more positions split into one chunk of positions per thread.
    private func attention(layer l: Int, rows n: Int, start: Int, cache: KVCache,
                           scratch s: ForwardScratch, pool: ThreadPool) {
        let c = config
        let hd = c.headDim
        let scale = c.attentionScale
        let window = cache.isWindowed(l) ? cache.cellsPerLayer[l] : 0
        let stride = s.partialStride
        func oldest(_ p: Int) -> Int { window > 0 ? max(0, p - window + 1) : 0 }
        let tile = Int(SK_ATTENTION_TILE)
        // a Q8_0 cache goes row by row at every batch size, as in ggml (its tiled path is F16-only)
        let partial = cache.type == .f16 ? sk_attention_partial_f16 : sk_attention_partial_q8_0

        if n >= tile && cache.type == .f16 {
            let tiles = (n + tile - 1) / tile
            let items = tiles * c.headCount
            pool.run { thread, total in
                let work = s.attentionWork + thread * s.attentionWorkFloats
                let segs = s.segments + thread * 4
                var item = thread
                while item < items {
                    let h = item % c.headCount
                    let r0 = (item / c.headCount) * tile
                    let rows = min(tile, n - r0)
                    let nsegs = kvSegments(layer: l, kvHead: h / c.groupSize, from: oldest(start + r0),
                                           to: start + r0 + rows, rows: n, start: start, cache: cache, scratch: s, into: segs)
                    sk_attention_tiled(s.q + r0 * c.qDim + h * hd, Int64(c.qDim), Int64(rows), Int64(start + r0), Int64(hd),
                                       scale, Int64(window), segs, Int64(nsegs), s.attn + r0 * c.qDim + h * hd, Int64(c.qDim), work)
                    item += total
                }
            }
            return
        }

        let p = start + n - 1
        if n == 1 && p + 1 - oldest(p) >= 512 && s.threads > 1 {
            // split-KV: each thread takes a chunk of positions for every head; merged below
            let lo = oldest(p)
            let chunk = (p + 1 - lo + s.threads - 1) / s.threads
            pool.run { thread, total in
                let work = s.attentionWork + thread * s.attentionWorkFloats
                let segs = s.segments + thread * 4
                let a = lo + thread * chunk, b = min(p + 1, a + chunk)
                for kvh in 0..<c.kvHeadCount {
                    let h0 = kvh * c.groupSize
                    let nsegs = kvSegments(layer: l, kvHead: kvh, from: lo, to: p + 1, rows: n, start: start,
                                           cache: cache, scratch: s, into: segs)
                    partial(s.q + h0 * hd, Int64(c.groupSize), Int64(hd), scale, segs, Int64(nsegs),
                                             Int64(a), Int64(max(a, b)), s.attentionPartials + (h0 * total + thread) * stride,
                                             Int64(total * stride), work)
                }
            }
            for h in 0..<c.headCount {
                sk_attention_merge(s.attentionPartials + h * s.threads * stride, Int64(s.threads), Int64(stride), Int64(hd),
                                   s.attn + h * hd)
            }
            return
        }

        // a GQA group per work item (each key read once per group), or single heads when there would
        // be too few items to keep the threads busy
        let headsPerItem = n * c.kvHeadCount >= 2 * s.threads ? c.groupSize : 1
        let itemsPerRow = c.headCount / headsPerItem
        let items = n * itemsPerRow
        pool.run { thread, total in
            let work = s.attentionWork + thread * s.attentionWorkFloats
            let segs = s.segments + thread * 4
            let partials = s.attentionPartials + thread * c.groupSize * stride
            var item = thread
            while item < items {
                let i = item / itemsPerRow
                let h0 = (item % itemsPerRow) * headsPerItem
                let pos = start + i
                let nsegs = kvSegments(layer: l, kvHead: h0 / c.groupSize, from: oldest(pos), to: pos + 1, rows: n,
                                       start: start, cache: cache, scratch: s, into: segs)
                partial(s.q + i * c.qDim + h0 * hd, Int64(headsPerItem), Int64(hd), scale, segs, Int64(nsegs),
                                         Int64(oldest(pos)), Int64(pos + 1), partials, Int64(stride), work)
                for j in 0..<headsPerItem {
                    sk_attention_merge(partials + j * stride, 1, Int64(stride), Int64(hd), s.attn + i * c.qDim + (h0 + j) * hd)
                }
                item += total
            }
        }
    }

    // MARK: small steps

    /// Runs `body` over slices of a prompt batch's rows on the pool's threads; a few rows (one
    /// generated token) stay on this thread, where a dispatch would cost more than it saves.
    private func eachRows(_ n: Int, _ pool: ThreadPool, _ body: (Range<Int>) -> Void) {
        if n < 8 { body(0..<n) } else { pool.parallelFor(n, body) }
    }

    private func rmsnorm(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ weight: [Float], rows n: Int) {
        let dim = config.embeddingLength
        let eps = config.rmsEpsilon
        weight.withUnsafeBufferPointer { w in
            for i in 0..<n {
                sk_rmsnorm(out + i * dim, x + i * dim, w.baseAddress, Int64(dim), eps)
            }
        }
    }

    /// RMSNorm of each head's `headDim` values with a shared weight (QK-norm).
    private func headNorm(_ x: UnsafeMutablePointer<Float>, _ weight: [Float], heads: Int, rows n: Int) {
        let hd = config.headDim
        let eps = config.rmsEpsilon
        weight.withUnsafeBufferPointer { w in
            for r in 0..<n * heads {
                sk_rmsnorm(x + r * hd, x + r * hd, w.baseAddress, Int64(hd), eps)
            }
        }
    }

    private func addBias(_ x: UnsafeMutablePointer<Float>, _ bias: [Float], rows n: Int) {
        let width = bias.count
        bias.withUnsafeBufferPointer { b in
            for i in 0..<n {
                let row = x + i * width
                for j in 0..<width { row[j] += b[j] }
            }
        }
    }

    private func addInPlace(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count: Int) {
        for i in 0..<count { x[i] += y[i] }
    }

    /// cos/sin of every rotation angle for each position, computed as GGML does
    /// (theta_i = p · scale · base^(-2i/d), built by repeated multiplication in Float).
    private func computeRopeTables(start: Int, count n: Int, base: Float, freqScale: Float,
                                   cos: UnsafeMutablePointer<Float>, sin: UnsafeMutablePointer<Float>) {
        let half = config.ropeDimensions / 2
        let thetaScale = powf(base, -2.0 / Float(config.ropeDimensions))
        for i in 0..<n {
            var theta = Float(start + i) * freqScale
            for j in 0..<half {
                var angle = theta
                if let f = weights.ropeFactors { angle /= f[j] }
                cos[i * half + j] = cosf(angle)
                sin[i * half + j] = sinf(angle)
                theta *= thetaScale
            }
        }
    }

    private func applyRope(_ x: UnsafeMutablePointer<Float>, heads: Int, rows n: Int,
                           cos: UnsafeMutablePointer<Float>, sin: UnsafeMutablePointer<Float>) {
        let half = config.ropeDimensions / 2
        let hd = config.headDim
        let rowStride = heads * hd
        for i in 0..<n {
            let cosRow = cos + i * half
            let sinRow = sin + i * half
            for h in 0..<heads {
                let v = x + i * rowStride + h * hd
                switch config.ropeStyle {
                case .normal:  // rotate adjacent pairs (x0, x1), (x2, x3), ...
                    for j in 0..<half {
                        let a = v[2 * j], b = v[2 * j + 1]
                        v[2 * j] = a * cosRow[j] - b * sinRow[j]
                        v[2 * j + 1] = a * sinRow[j] + b * cosRow[j]
                    }
                case .neox:  // rotate (x_j, x_{j+half}) over the rotated dimensions
                    for j in 0..<half {
                        let a = v[j], b = v[j + half]
                        v[j] = a * cosRow[j] - b * sinRow[j]
                        v[j + half] = a * sinRow[j] + b * cosRow[j]
                    }
                }
            }
        }
    }
}
