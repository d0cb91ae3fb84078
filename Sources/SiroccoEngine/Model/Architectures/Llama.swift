// Llama: Llama 2 and 3, Mistral (a sliding window on every layer) and Mixtral (mixture of experts),
// following llama2.c's forward() and llama.cpp's models/llama.cpp. Qwen2, Qwen3 and Phi-3 are the
// same pre-norm decoder with other optional parts (Qwen.swift, Phi3.swift):
// embed → per layer [RMSNorm → attention → residual → RMSNorm → SwiGLU or experts → residual] →
// RMSNorm → output projection.

extension Architecture {
    static let llama = Architecture(name: "llama", ropeStyle: .normal) { t, config throws(ModelError) in
        try LlamaNetwork(loading: t, config: config, attention: .init(fusedQKV: .absent, biases: .optional))
    }
}

/// The pre-norm decoder of the Llama family.
final class LlamaNetwork: Network {
    let ends: EmbeddingAndHead
    let layers: [DecoderLayer]
    let ropeFactors: [Float]?          // [ropeDim/2] frequency divisors (Llama 3.1 long context)

    init(loading t: TensorLoader, config c: ModelConfig, attention layout: AttentionWeights.Layout) throws(ModelError) {
        layers = try (0..<c.layerCount).map { i throws(ModelError) in
            try DecoderLayer(loading: t, layer: i, config: c, attention: layout)
        }
        ends = try EmbeddingAndHead(loading: t, config: c,
                                    outputNorm: try t.rmsNorm(TensorName.outputNorm, width: c.embeddingLength, epsilon: c.rmsEpsilon))
        ropeFactors = try t.optionalVector(TensorName.ropeFrequencies, count: c.ropeDimensions / 2)
    }

    var bytesPerToken: Int {
        layers.reduce(ends.output.byteCount) { $0 + $1.bytesPerToken }
    }

    func forward(_ p: ForwardPass) {
        let s = p.scratch
        p.embed(ends.tokenEmbedding)
        p.prepareRope(factors: ropeFactors)
        for (l, w) in layers.enumerated() {
            // attention
            p.norm(w.attentionNorm, s.residual, into: s.normed)
            p.attention(w.attention, layer: l, input: s.normed, output: s.attentionOut)
            p.addToResidual(s.attentionOut)
            // feed-forward
            p.norm(w.feedForwardNorm, s.residual, into: s.normed)
            p.feedForward(w.feedForward, input: s.normed, output: s.feedForwardOut)
            p.addToResidual(s.feedForwardOut)
        }
        p.outputLogits(norm: ends.outputNorm, output: ends.output)
    }
}
