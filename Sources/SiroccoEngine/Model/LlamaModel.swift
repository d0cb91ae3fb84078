// LlamaModel: the forward pass of the Llama family (Llama 2/3, Mistral, SmolLM, TinyLlama ...),
// following llama2.c's forward() and llama.cpp's models/llama.cpp graph:
// embed → per layer [RMSNorm → Q,K,V → RoPE → cache → GQA attention → Wo → residual →
// RMSNorm → SwiGLU → residual] → final RMSNorm → output projection.
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
    let attentionWork: UnsafeMutablePointer<Float>  // [threads, headDim] per-thread attention scratch
    let ropeCos: UnsafeMutablePointer<Float>  // [batch, ropeDim/2]
    let ropeSin: UnsafeMutablePointer<Float>
    private var all: [UnsafeMutablePointer<Float>] = []

    init(config c: ModelConfig, maxBatch: Int, threads: Int) {
        self.maxBatch = maxBatch
        func buffer(_ n: Int) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: max(n, 1))
            p.initialize(repeating: 0, count: max(n, 1))
            return p
        }
        x = buffer(maxBatch * c.embeddingLength)
        xb = buffer(maxBatch * max(c.embeddingLength, c.qDim))
        q = buffer(maxBatch * c.qDim)
        k = buffer(maxBatch * c.kvDim)
        v = buffer(maxBatch * c.kvDim)
        attn = buffer(maxBatch * c.qDim)
        hb = buffer(maxBatch * c.feedForwardLength)
        hb2 = buffer(maxBatch * c.feedForwardLength)
        attentionWork = buffer(threads * c.headDim)
        ropeCos = buffer(maxBatch * c.ropeDimensions / 2)
        ropeSin = buffer(maxBatch * c.ropeDimensions / 2)
        all = [x, xb, q, k, v, attn, hb, hb2, attentionWork, ropeCos, ropeSin]
    }

    deinit { all.forEach { $0.deallocate() } }
}

/// A loaded Llama-family network: configuration plus weights; stateless between calls.
final class LlamaModel {
    let config: ModelConfig
    let weights: LlamaWeights

    init(file: GGUFFile, config: ModelConfig) throws(ModelError) {
        self.config = config
        self.weights = try LlamaWeights(file: file, config: config)
    }

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
        computeRopeTables(start: start, count: n, scratch: s)

        for (l, w) in weights.layers.enumerated() {
            // attention rmsnorm
            rmsnorm(s.xb, s.x, w.attnNorm, rows: n, pool: pool)

            // Q, K, V projections (one activation conversion, one dispatch)
            mm.prepare(s.xb, rows: n, cols: dim, for: w.wq.type, w.wk.type, w.wv.type)
            pool.run { i, t in
                mm.multiply(w.wq, rows: n, into: s.q, outStride: c.qDim, thread: i, of: t)
                mm.multiply(w.wk, rows: n, into: s.k, outStride: c.kvDim, thread: i, of: t)
                mm.multiply(w.wv, rows: n, into: s.v, outStride: c.kvDim, thread: i, of: t)
            }

            // RoPE on queries and keys
            applyRope(s.q, heads: c.headCount, rows: n, scratch: s)
            applyRope(s.k, heads: c.kvHeadCount, rows: n, scratch: s)

            // append K and V to the cache (F16)
            for i in 0..<n {
                for h in 0..<c.kvHeadCount {
                    let o = cache.offset(layer: l, head: h, position: start + i)
                    sk_f32_to_f16(s.k + i * c.kvDim + h * c.headDim, cache.keys + o, Int64(c.headDim))
                    sk_f32_to_f16(s.v + i * c.kvDim + h * c.headDim, cache.values + o, Int64(c.headDim))
                }
            }

            // GQA attention over the cache: query head h reads kv head h / groupSize
            attention(layer: l, rows: n, start: start, cache: cache, scratch: s, pool: pool)

            // output projection and residual
            mm.multiply(w.wo, s.attn, rows: n, into: s.xb, outStride: dim)
            addInPlace(s.x, s.xb, count: n * dim)

            // ffn rmsnorm
            rmsnorm(s.xb, s.x, w.ffnNorm, rows: n, pool: pool)

            // SwiGLU: w2(silu(w1·x) * w3·x)
            mm.prepare(s.xb, rows: n, cols: dim, for: w.w1.type, w.w3.type)
            pool.run { i, t in
                mm.multiply(w.w1, rows: n, into: s.hb, outStride: c.feedForwardLength, thread: i, of: t)
                mm.multiply(w.w3, rows: n, into: s.hb2, outStride: c.feedForwardLength, thread: i, of: t)
            }
            sk_silu_mul(s.hb, s.hb2, Int64(n * c.feedForwardLength))
            mm.multiply(w.w2, s.hb, rows: n, into: s.xb, outStride: dim)
            addInPlace(s.x, s.xb, count: n * dim)
        }
        cache.count = start + n

        // final rmsnorm and output projection (last row only unless every row's logits are wanted)
        let first = allLogits ? 0 : n - 1
        let rows = n - first
        rmsnorm(s.xb, s.x + first * dim, weights.outputNorm, rows: rows, pool: pool)
        mm.multiply(weights.output, s.xb, rows: rows, into: logits, outStride: c.vocabularySize)
    }

    // MARK: steps

    private func rmsnorm(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ weight: [Float],
                         rows n: Int, pool: ThreadPool) {
        let dim = config.embeddingLength
        let eps = config.rmsEpsilon
        weight.withUnsafeBufferPointer { w in
            for i in 0..<n {
                sk_rmsnorm(out + i * dim, x + i * dim, w.baseAddress, Int64(dim), eps)
            }
        }
    }

    private func addInPlace(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count: Int) {
        for i in 0..<count { x[i] += y[i] }
    }

    /// cos/sin of every rotation angle for each position, computed as GGML does
    /// (theta_i = p · base^(-2i/d), built by repeated multiplication in Float).
    private func computeRopeTables(start: Int, count n: Int, scratch s: ForwardScratch) {
        let half = config.ropeDimensions / 2
        let thetaScale = powf(config.ropeFreqBase, -2.0 / Float(config.ropeDimensions))
        for i in 0..<n {
            var theta = Float(start + i) * config.ropeFreqScale
            for j in 0..<half {
                var angle = theta
                if let f = weights.ropeFactors { angle /= f[j] }
                s.ropeCos[i * half + j] = cosf(angle)
                s.ropeSin[i * half + j] = sinf(angle)
                theta *= thetaScale
            }
        }
    }

    private func applyRope(_ x: UnsafeMutablePointer<Float>, heads: Int, rows n: Int, scratch s: ForwardScratch) {
        let half = config.ropeDimensions / 2
        let hd = config.headDim
        let rowStride = heads * hd
        for i in 0..<n {
            let cosRow = s.ropeCos + i * half
            let sinRow = s.ropeSin + i * half
            for h in 0..<heads {
                let v = x + i * rowStride + h * hd
                switch config.ropeStyle {
                case .normal:  // rotate adjacent pairs (x0, x1), (x2, x3), ...
                    for j in 0..<half {
                        let a = v[2 * j], b = v[2 * j + 1]
                        v[2 * j] = a * cosRow[j] - b * sinRow[j]
                        v[2 * j + 1] = a * sinRow[j] + b * cosRow[j]
                    }
                case .neox:  // rotate (x_j, x_{j+half})
                    for j in 0..<half {
                        let a = v[j], b = v[j + half]
                        v[j] = a * cosRow[j] - b * sinRow[j]
                        v[j + half] = a * sinRow[j] + b * cosRow[j]
                    }
                }
            }
        }
    }

    /// Causal attention for each (token, query head), spread round-robin over the threads;
    /// computed as ggml's CPU flash attention (see CKernels/Attention.h) to track llama.cpp.
    private func attention(layer l: Int, rows n: Int, start: Int, cache: KVCache,
                           scratch s: ForwardScratch, pool: ThreadPool) {
        let c = config
        let hd = c.headDim
        let scale = 1 / Float(hd).squareRoot()
        let items = n * c.headCount
        pool.run { thread, total in
            let work = UnsafeMutableRawPointer(s.attentionWork + thread * hd).assumingMemoryBound(to: UInt16.self)
            var item = thread
            while item < items {
                let i = item / c.headCount
                let h = item % c.headCount
                let kvh = h / c.groupSize  // GQA: query head h reads kv head h / groupSize
                let o = cache.offset(layer: l, head: kvh, position: 0)
                sk_attention_f16(s.q + i * c.qDim + h * hd, cache.keys + o, cache.values + o,
                                 Int64(start + i + 1), Int64(hd), scale, s.attn + i * c.qDim + h * hd, work)
                item += total
            }
        }
    }
}
