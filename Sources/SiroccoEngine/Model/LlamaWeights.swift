// LlamaWeights: every weight of a Llama-family model, named after the math (llama2.c's
// TransformerWeights). Matrices stay in the mapped file; norms are small float arrays.

/// One transformer block's weights.
struct LlamaLayerWeights {
    let attnNorm: [Float]          // [dim]
    let wq: WeightMatrix           // [nHeads*headDim, dim]
    let wk: WeightMatrix           // [nKVHeads*headDim, dim]
    let wv: WeightMatrix           // [nKVHeads*headDim, dim]
    let wo: WeightMatrix           // [dim, nHeads*headDim]
    let ffnNorm: [Float]           // [dim]
    let w1: WeightMatrix           // ffn_gate [ffnDim, dim]
    let w3: WeightMatrix           // ffn_up   [ffnDim, dim]
    let w2: WeightMatrix           // ffn_down [dim, ffnDim]
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
        tokenEmbedding = try t.matrix(TensorName.tokenEmbedding, rows: c.vocabularySize, cols: c.embeddingLength)
        var layers: [LlamaLayerWeights] = []
        for i in 0..<c.layerCount {
            layers.append(LlamaLayerWeights(
                attnNorm: try t.vector(TensorName.attnNorm(i), count: c.embeddingLength),
                wq: try t.matrix(TensorName.attnQ(i), rows: c.qDim, cols: c.embeddingLength),
                wk: try t.matrix(TensorName.attnK(i), rows: c.kvDim, cols: c.embeddingLength),
                wv: try t.matrix(TensorName.attnV(i), rows: c.kvDim, cols: c.embeddingLength),
                wo: try t.matrix(TensorName.attnOutput(i), rows: c.embeddingLength, cols: c.qDim),
                ffnNorm: try t.vector(TensorName.ffnNorm(i), count: c.embeddingLength),
                w1: try t.matrix(TensorName.ffnGate(i), rows: c.feedForwardLength, cols: c.embeddingLength),
                w3: try t.matrix(TensorName.ffnUp(i), rows: c.feedForwardLength, cols: c.embeddingLength),
                w2: try t.matrix(TensorName.ffnDown(i), rows: c.embeddingLength, cols: c.feedForwardLength)))
        }
        self.layers = layers
        outputNorm = try t.vector(TensorName.outputNorm, count: c.embeddingLength)
        output = t.has(TensorName.output)
            ? try t.matrix(TensorName.output, rows: c.vocabularySize, cols: c.embeddingLength)
            : tokenEmbedding
        ropeFactors = try t.optionalVector(TensorName.ropeFrequencies, count: c.ropeDimensions / 2)
    }

    /// Bytes of weights one token's forward pass reads.
    var bytesPerToken: Int {
        var total = output.byteCount
        for l in layers {
            total += l.wq.byteCount + l.wk.byteCount + l.wv.byteCount + l.wo.byteCount
            total += l.w1.byteCount + l.w2.byteCount + l.w3.byteCount
        }
        return total
    }
}
