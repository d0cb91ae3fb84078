// Gemma 2 and 3 (llama.cpp's models/gemma2.cpp, gemma3.cpp) — the pre-norm decoder plus a norm
// after each block's output (post-attention and post-feed-forward), embeddings scaled by √d, GeGLU,
// and layers that alternate between a sliding window and global attention:
// embed·√d → per layer [RMSNorm → attention → RMSNorm → residual → RMSNorm → GeGLU → RMSNorm →
// residual] → RMSNorm → output projection.
// Gemma 2 soft-caps attention scores and logits (cap · tanh(x / cap)) and windows every other
// layer; Gemma 3 has QK-norm instead of the attention cap, windows five layers in six and gives
// them their own RoPE base.

extension Architecture {
    static let gemma2 = Architecture(name: "gemma2", ropeStyle: .neox, configure: { c, file throws(ModelError) in
        // even layers windowed (4096 unless the file says otherwise), with the global RoPE base
        // unless the file names one; caps 50 and 30 unless the file says otherwise (llama.cpp's defaults)
        gemmaCommon(&c)
        c.slidingWindow = c.slidingWindow ?? 4096
        c.globalLayerPeriod = 2
        c.localRopeFreqBase = file.float(GGUFKey.ropeFreqBaseWindowed(c.architecture))
        c.attentionLogitSoftcap = positive(file.float(GGUFKey.attentionLogitSoftcapping(c.architecture)) ?? 50)
        c.finalLogitSoftcap = positive(file.float(GGUFKey.finalLogitSoftcapping(c.architecture)) ?? 30)
        if c.layerCount == 46 { largeModelAttentionScale(&c) }  // 27B
    }) { t, config throws(ModelError) in
        try GemmaNetwork(loading: t, config: config, attention: .init(biases: .absent, qkNorm: .absent))
    }

    static let gemma3 = Architecture(name: "gemma3", ropeStyle: .neox, configure: { c, file throws(ModelError) in
        // windowed layers where layer % 6 < 5, with RoPE base 10000 unless the file says otherwise
        gemmaCommon(&c)
        if c.slidingWindow != nil {
            c.globalLayerPeriod = 6
            c.localRopeFreqBase = file.float(GGUFKey.ropeFreqBaseWindowed(c.architecture)) ?? 10000
        }
        c.finalLogitSoftcap = positive(file.float(GGUFKey.finalLogitSoftcapping(c.architecture)))
        if c.layerCount == 62 { largeModelAttentionScale(&c) }  // 27B
    }) { t, config throws(ModelError) in
        try GemmaNetwork(loading: t, config: config, attention: .init(biases: .absent, qkNorm: .required))
    }

    private static func gemmaCommon(_ c: inout ModelConfig) {
        c.embeddingScale = Float(c.embeddingLength).squareRoot()
        c.activation = .geluTanh
    }

    /// The 27B models scale scores by 1/√(d / heads), not 1/√headDim (gemma_pytorch's config, as
    /// llama.cpp; the integer quotient as there).
    private static func largeModelAttentionScale(_ c: inout ModelConfig) {
        c.attentionScale = 1 / Float(c.embeddingLength / c.headCount).squareRoot()
    }

    private static func positive(_ x: Float?) -> Float? { x.flatMap { $0 > 0 ? $0 : nil } }
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

    init(loading t: TensorLoader, config c: ModelConfig, attention layout: AttentionWeights.Layout) throws(ModelError) {
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
