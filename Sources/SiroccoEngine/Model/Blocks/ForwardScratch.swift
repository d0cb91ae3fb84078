// ForwardScratch: every activation buffer of a forward pass, one per role, allocated once for the
// largest batch (llama2.c's RunState). Nothing is allocated per token.

import CKernels

/// Activation buffers for a batch of up to `maxBatch` tokens.
final class ForwardScratch {
    let maxBatch: Int
    let threads: Int
    /// [batch, dim] the residual stream.
    let residual: UnsafeMutablePointer<Float>
    /// [batch, dim] a norm's output: the input of the next block.
    let normed: UnsafeMutablePointer<Float>
    /// [batch, dim] a second norm's output, for blocks that read two (Falcon-40B's parallel block).
    let normedSecond: UnsafeMutablePointer<Float>
    /// [batch, dim] the attention block's output (after Wo).
    let attentionOut: UnsafeMutablePointer<Float>
    /// [batch, dim] the feed-forward block's output.
    let feedForwardOut: UnsafeMutablePointer<Float>
    /// [batch, nHeads·headDim], [batch, nKVHeads·headDim] ×2: projected queries, keys and values.
    let queries: UnsafeMutablePointer<Float>
    let keys: UnsafeMutablePointer<Float>
    let values: UnsafeMutablePointer<Float>
    /// [batch, nHeads·headDim] attention output per head, before Wo.
    let heads: UnsafeMutablePointer<Float>
    /// [batch, ffn] the feed-forward's gate and up projections (the up one alone when not gated).
    let gate: UnsafeMutablePointer<Float>
    let up: UnsafeMutablePointer<Float>
    /// [threads, attentionWorkFloats] per-thread attention kernel scratch.
    let attentionWork: UnsafeMutablePointer<Float>
    let attentionWorkFloats: Int
    /// [heads, threads, partialStride] split-KV partial results.
    let attentionPartials: UnsafeMutablePointer<Float>
    /// Floats per partial result (m, sum, headDim values), padded to a cache line: threads writing
    /// neighbouring partials must not share a line.
    let partialStride: Int
    /// [threads, 4] key/value pieces of one attention call.
    let segments: UnsafeMutablePointer<sk_kv_segment>
    /// [batch, ropeDim/2] cos and sin of the global layers' RoPE angles, and of windowed layers with
    /// their own base.
    let ropeCos: UnsafeMutablePointer<Float>
    let ropeSin: UnsafeMutablePointer<Float>
    let ropeCosLocal: UnsafeMutablePointer<Float>
    let ropeSinLocal: UnsafeMutablePointer<Float>
    // mixture of experts
    let routerLogits: UnsafeMutablePointer<Float>   // [batch, nExpert]
    let expertIn: UnsafeMutablePointer<Float>       // [batch, dim] rows routed to one expert
    let expertOut: UnsafeMutablePointer<Float>      // [batch, dim]
    let expertTokens: UnsafeMutablePointer<Int32>   // [nExpert, batch] token rows per expert
    let expertWeights: UnsafeMutablePointer<Float>  // [nExpert, batch] their router weights
    let expertCounts: UnsafeMutablePointer<Int>     // [nExpert]
    private var floats: [UnsafeMutablePointer<Float>] = []

    init(config c: ModelConfig, maxBatch: Int, threads: Int) {
        self.maxBatch = maxBatch
        self.threads = threads
        var all: [UnsafeMutablePointer<Float>] = []
        func buffer(_ n: Int) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutableRawPointer.allocate(byteCount: max(n, 1) * 4, alignment: 64).bindMemory(to: Float.self, capacity: max(n, 1))
            p.initialize(repeating: 0, count: max(n, 1))
            all.append(p)
            return p
        }
        func lines(_ floats: Int) -> Int { (floats + 15) / 16 * 16 }
        let experts = max(c.expertCount, 1)
        let dim = c.embeddingLength
        residual = buffer(maxBatch * dim)
        normed = buffer(maxBatch * dim)
        normedSecond = buffer(maxBatch * dim)
        attentionOut = buffer(maxBatch * dim)
        feedForwardOut = buffer(maxBatch * dim)
        queries = buffer(maxBatch * c.qDim)
        keys = buffer(maxBatch * c.kvDim)
        values = buffer(maxBatch * c.kvDim)
        heads = buffer(maxBatch * c.qDim)
        gate = buffer(maxBatch * c.feedForwardLength)
        up = buffer(maxBatch * c.feedForwardLength)
        attentionWorkFloats = lines(Int(sk_attention_scratch_floats(Int64(c.headDim))))
        attentionWork = buffer(threads * attentionWorkFloats)
        partialStride = lines(2 + c.headDim)
        attentionPartials = buffer(max(c.headCount, c.groupSize) * threads * partialStride)
        ropeCos = buffer(maxBatch * c.ropeDimensions / 2)
        ropeSin = buffer(maxBatch * c.ropeDimensions / 2)
        ropeCosLocal = buffer(maxBatch * c.ropeDimensions / 2)
        ropeSinLocal = buffer(maxBatch * c.ropeDimensions / 2)
        routerLogits = buffer(maxBatch * experts)
        expertIn = buffer(c.isMixtureOfExperts ? maxBatch * dim : 1)
        expertOut = buffer(c.isMixtureOfExperts ? maxBatch * dim : 1)
        expertWeights = buffer(maxBatch * experts)
        expertTokens = .allocate(capacity: maxBatch * experts)
        expertCounts = .allocate(capacity: experts)
        segments = .allocate(capacity: threads * 4)
        floats = all
    }

    deinit {
        floats.forEach { $0.deallocate() }
        expertTokens.deallocate()
        expertCounts.deallocate()
        segments.deallocate()
    }
}
