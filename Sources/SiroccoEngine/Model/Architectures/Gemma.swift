// Gemma: Gemma 3 (llama.cpp's models/gemma3.cpp) — the pre-norm decoder plus a norm after each
// block's output (post-attention and post-feed-forward), embeddings scaled by √d, GeGLU, and layers
// that alternate between a sliding window with their own RoPE base and global attention:
// embed·√d → per layer [RMSNorm → attention (QK-norm) → RMSNorm → residual → RMSNorm → GeGLU →
// RMSNorm → residual] → RMSNorm → output projection.

extension Architecture {
    static let gemma3 = Architecture(name: "gemma3", ropeStyle: .neox, configure: { c, file throws(ModelError) in
        // windowed layers where layer % 6 < 5, with RoPE base 10000 unless the file says otherwise
        c.embeddingScale = Float(c.embeddingLength).squareRoot()
        c.activation = .geluTanh
        if c.slidingWindow != nil {
            c.globalLayerPeriod = 6
            c.localRopeFreqBase = file.float(GGUFKey.ropeFreqBaseWindowed(c.architecture)) ?? 10000
        }
        c.finalLogitSoftcap = file.float(GGUFKey.finalLogitSoftcapping(c.architecture)).flatMap { $0 > 0 ? $0 : nil }
    }) { file, config throws(ModelError) in
        try GemmaNetwork(file: file, config: config, attention: .init(biases: .absent, qkNorm: .required))
    }
}

/// The Gemma decoder: every block's output normed before it joins the residual stream.
final class GemmaNetwork: Network {
    struct Layer {
        let block: DecoderLayer
        let postAttentionNorm: Norm          // [dim]
        let postFeedForwardNorm: Norm        // [dim]
    }

    let ends: EmbeddingAndHead
    let layers: [Layer]

    init(file: GGUFFile, config c: ModelConfig, attention layout: AttentionWeights.Layout) throws(ModelError) {
        let t = TensorLoader(file: file)
        let dim = c.embeddingLength, eps = c.rmsEpsilon
        layers = try (0..<c.layerCount).map { i throws(ModelError) in
            Layer(block: try DecoderLayer(loading: t, layer: i, config: c, attention: layout),
                  postAttentionNorm: try t.rmsNorm(TensorName.postAttentionNorm(i), width: dim, epsilon: eps),
                  postFeedForwardNorm: try t.rmsNorm(TensorName.postFeedForwardNorm(i), width: dim, epsilon: eps))
        }
        ends = try EmbeddingAndHead(loading: t, config: c, outputNorm: try t.rmsNorm(TensorName.outputNorm, width: dim, epsilon: eps))
    }

    var bytesPerToken: Int {
        layers.reduce(ends.output.byteCount) { $0 + $1.block.bytesPerToken }
    }

    func forward(_ p: ForwardPass) {
        let s = p.scratch
        p.embed(ends.tokenEmbedding, scale: p.config.embeddingScale)
        p.prepareRope()
        for (l, layer) in layers.enumerated() {
            let w = layer.block
            // attention, normed before it joins the residual
            p.norm(w.attentionNorm, s.residual, into: s.normed)
            p.attention(w.attention, layer: l, input: s.normed, output: s.attentionOut)
            p.norm(layer.postAttentionNorm, s.attentionOut, into: s.attentionOut)
            p.addToResidual(s.attentionOut)
            // GeGLU, normed before it joins the residual
            p.norm(w.feedForwardNorm, s.residual, into: s.normed)
            p.feedForward(w.feedForward, input: s.normed, output: s.feedForwardOut)
            p.norm(layer.postFeedForwardNorm, s.feedForwardOut, into: s.feedForwardOut)
            p.addToResidual(s.feedForwardOut)
        }
        p.outputLogits(norm: ends.outputNorm, output: ends.output, softcap: p.config.finalLogitSoftcap)
    }
}
