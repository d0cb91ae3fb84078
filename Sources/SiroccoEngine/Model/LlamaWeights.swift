// LlamaWeights: every weight of a Llama-family model, named after the math (llama2.c's
// TransformerWeights). Matrices stay in the mapped file; norms and biases are small float arrays.
// Gemma 3's extra norms (QK-norm, post-attention, post-feed-forward) are optional per layer.
// Variants are properties, not new architectures: Q/K/V biases (qwen2), fused QKV and gate/up
// projections (phi3, split as zero-copy row views), and a mixture of experts (Mixtral).

/// The feed-forward block of one layer.
enum FeedForward {
    /// SwiGLU: w2(silu(w1·x) * w3·x).
    case dense(w1: WeightMatrix, w3: WeightMatrix, w2: WeightMatrix)   // [ffn, dim], [ffn, dim], [dim, ffn]
    /// Mixture of experts: the router picks `used` experts per token; their SwiGLU outputs are summed,
    /// weighted by the renormalised router probabilities.
    case experts(router: WeightMatrix, gate: [WeightMatrix], up: [WeightMatrix], down: [WeightMatrix], used: Int)
    // router [nExpert, dim]; per expert: gate [ffn, dim], up [ffn, dim], down [dim, ffn]
}

/// One transformer block's weights.
struct LlamaLayerWeights {
    let attnNorm: [Float]          // [dim]
    let wq: WeightMatrix           // [nHeads*headDim, dim]
    let wk: WeightMatrix           // [nKVHeads*headDim, dim]
    let wv: WeightMatrix           // [nKVHeads*headDim, dim]
    let bq: [Float]?               // [nHeads*headDim]   (qwen2)
    let bk: [Float]?               // [nKVHeads*headDim]
    let bv: [Float]?               // [nKVHeads*headDim]
    let qNorm: [Float]?            // [headDim] per-head RMSNorm of queries (gemma3)
    let kNorm: [Float]?            // [headDim] per-head RMSNorm of keys (gemma3)
    let wo: WeightMatrix           // [dim, nHeads*headDim]
    let postAttentionNorm: [Float]?  // [dim] RMSNorm of the attention output (gemma3)
    let ffnNorm: [Float]           // [dim]
    let ffn: FeedForward
    let postFeedForwardNorm: [Float]?  // [dim] RMSNorm of the feed-forward output (gemma3)
}

/// All weights of a Llama-family model.
struct LlamaWeights {
    let tokenEmbedding: WeightMatrix   // [vocab, dim]
    let layers: [LlamaLayerWeights]
    let outputNorm: [Float]            // [dim]
    let output: WeightMatrix           // [vocab, dim]; the embedding itself when tied
    let ropeFactors: [Float]?          // [ropeDim/2] frequency divisors (Llama 3.1 long-context)

    init(file: GGUFFile, config c: ModelConfig) throws(ModelError) {
        let t = TensorLoader(file: file)
        let dim = c.embeddingLength
        tokenEmbedding = try t.matrix(TensorName.tokenEmbedding, rows: c.vocabularySize, cols: dim)
        var layers: [LlamaLayerWeights] = []
        for i in 0..<c.layerCount {
            // attention projections, fused (phi3) or separate
            let wq, wk, wv: WeightMatrix
            if t.has(TensorName.attnQKV(i)) {
                let qkv = try t.matrix(TensorName.attnQKV(i), rows: c.qDim + 2 * c.kvDim, cols: dim)
                wq = qkv.rows(0..<c.qDim, name: "\(qkv.name)[q]")
                wk = qkv.rows(c.qDim..<c.qDim + c.kvDim, name: "\(qkv.name)[k]")
                wv = qkv.rows(c.qDim + c.kvDim..<c.qDim + 2 * c.kvDim, name: "\(qkv.name)[v]")
            } else {
                wq = try t.matrix(TensorName.attnQ(i), rows: c.qDim, cols: dim)
                wk = try t.matrix(TensorName.attnK(i), rows: c.kvDim, cols: dim)
                wv = try t.matrix(TensorName.attnV(i), rows: c.kvDim, cols: dim)
            }
            // feed-forward: experts, fused gate/up (phi3: gate is the first half), or separate
            let ffn: FeedForward
            if c.isMixtureOfExperts {
                let n = c.expertCount, f = c.feedForwardLength
                ffn = .experts(
                    router: try t.matrix(TensorName.ffnGateInput(i), rows: n, cols: dim),
                    gate: try t.stacked(TensorName.ffnGateExperts(i), count: n, rows: f, cols: dim),
                    up: try t.stacked(TensorName.ffnUpExperts(i), count: n, rows: f, cols: dim),
                    down: try t.stacked(TensorName.ffnDownExperts(i), count: n, rows: dim, cols: f),
                    used: c.expertUsedCount)
            } else if !t.has(TensorName.ffnGate(i)) && t.has(TensorName.ffnUp(i)) {
                let f = c.feedForwardLength
                let fused = try t.matrix(TensorName.ffnUp(i), rows: 2 * f, cols: dim)
                ffn = .dense(w1: fused.rows(0..<f, name: "\(fused.name)[gate]"),
                             w3: fused.rows(f..<2 * f, name: "\(fused.name)[up]"),
                             w2: try t.matrix(TensorName.ffnDown(i), rows: dim, cols: f))
            } else {
                ffn = .dense(w1: try t.matrix(TensorName.ffnGate(i), rows: c.feedForwardLength, cols: dim),
                             w3: try t.matrix(TensorName.ffnUp(i), rows: c.feedForwardLength, cols: dim),
                             w2: try t.matrix(TensorName.ffnDown(i), rows: dim, cols: c.feedForwardLength))
            }
            layers.append(LlamaLayerWeights(
                attnNorm: try t.vector(TensorName.attnNorm(i), count: dim),
                wq: wq, wk: wk, wv: wv,
                bq: try t.optionalVector(TensorName.attnQBias(i), count: c.qDim),
                bk: try t.optionalVector(TensorName.attnKBias(i), count: c.kvDim),
                bv: try t.optionalVector(TensorName.attnVBias(i), count: c.kvDim),
                qNorm: try t.optionalVector(TensorName.attnQNorm(i), count: c.headDim),
                kNorm: try t.optionalVector(TensorName.attnKNorm(i), count: c.headDim),
                wo: try t.matrix(TensorName.attnOutput(i), rows: dim, cols: c.qDim),
                postAttentionNorm: try t.optionalVector(TensorName.postAttentionNorm(i), count: dim),
                ffnNorm: try t.vector(TensorName.ffnNorm(i), count: dim),
                ffn: ffn,
                postFeedForwardNorm: try t.optionalVector(TensorName.postFeedForwardNorm(i), count: dim)))
        }
        self.layers = layers
        outputNorm = try t.vector(TensorName.outputNorm, count: dim)
        output = t.has(TensorName.output)
            ? try t.matrix(TensorName.output, rows: c.vocabularySize, cols: dim)
            : tokenEmbedding
        ropeFactors = try t.optionalVector(TensorName.ropeFrequencies, count: c.ropeDimensions / 2)
    }

    /// Bytes of weights one token's forward pass reads (for MoE: the experts a token uses).
    var bytesPerToken: Int {
        var total = output.byteCount
        for l in layers {
            total += l.wq.byteCount + l.wk.byteCount + l.wv.byteCount + l.wo.byteCount
            switch l.ffn {
            case let .dense(w1, w3, w2):
                total += w1.byteCount + w2.byteCount + w3.byteCount
            case let .experts(router, gate, up, down, used):
                total += router.byteCount + used * (gate[0].byteCount + up[0].byteCount + down[0].byteCount)
            }
        }
        return total
    }
}
