// Falcon: Falcon-7B and Falcon-40B (llama.cpp's models/falcon.cpp). LayerNorms with biases, Q, K and
// V fused in one matrix (7B: one KV head, multi-query attention), and a parallel block: attention and
// a non-gated GELU feed-forward both read the normed input and are added to the residual together.
// Falcon-40B norms the attention input separately (`attn_norm_2`):
// embed → per layer [LayerNorm → (attention ‖ up → GELU → down) → residual] → LayerNorm → output.

extension Architecture {
    static let falcon = Architecture(name: "falcon", ropeStyle: .neox, configure: { c, _ throws(ModelError) in
        c.activation = .geluTanh
    }) { t, config throws(ModelError) in
        try FalconNetwork(loading: t, config: config)
    }
}

/// The Falcon decoder with its parallel attention and feed-forward.
final class FalconNetwork: Network {
    struct Layer {
        let norm: Norm                     // [dim] LayerNorm: the feed-forward's input (and attention's)
        let attentionNorm: Norm?           // [dim] LayerNorm of attention's own input (Falcon-40B)
        let attention: AttentionWeights    // fused [Q | K | V]
        let feedForward: FeedForward       // up [ffn, dim], down [dim, ffn]
    }

    let ends: EmbeddingAndHead
    let layers: [Layer]

    init(loading t: TensorLoader, config c: ModelConfig) throws(ModelError) {
        let dim = c.embeddingLength, eps = c.layerNormEpsilon
        layers = try (0..<c.layerCount).map { i throws(ModelError) in
            Layer(norm: try t.layerNorm(TensorName.attnNorm(i), bias: TensorName.attnNormBias(i), width: dim, epsilon: eps),
                  attentionNorm: t.has(TensorName.attnNorm2(i))
                      ? try t.layerNorm(TensorName.attnNorm2(i), bias: TensorName.attnNorm2Bias(i), width: dim, epsilon: eps) : nil,
                  attention: try AttentionWeights(loading: t, layer: i, config: c, layout: .init(fusedQKV: .required, biases: .absent)),
                  feedForward: try FeedForward(sequentialLoading: t, layer: i, config: c))
        }
        ends = try EmbeddingAndHead(loading: t, config: c, outputNorm: try t.layerNorm(TensorName.outputNorm, bias: TensorName.outputNormBias, width: dim, epsilon: eps))
    }

    var bytesPerToken: Int {
        layers.reduce(ends.output.byteCount) { $0 + $1.attention.byteCount + $1.feedForward.bytesPerToken }
    }

    func forward(_ p: ForwardPass) {
        let s = p.scratch
        p.embed(ends.tokenEmbedding)
        p.prepareRope()
        for (l, w) in layers.enumerated() {
            p.norm(w.norm, s.residual, into: s.normed)
            // attention (on its own norm's output in Falcon-40B) and the feed-forward, side by side
            if let attentionNorm = w.attentionNorm {
                p.norm(attentionNorm, s.residual, into: s.normedSecond)
                p.attention(w.attention, layer: l, input: s.normedSecond, output: s.attentionOut)
            } else {
                p.attention(w.attention, layer: l, input: s.normed, output: s.attentionOut)
            }
            p.feedForward(w.feedForward, input: s.normed, output: s.feedForwardOut)
            // residual += feed-forward + attention (summed first, as llama.cpp adds them)
            p.add(s.attentionOut, into: s.feedForwardOut)
            p.addToResidual(s.feedForwardOut)
        }
        p.outputLogits(norm: ends.outputNorm, output: ends.output)
    }
}
