// DecoderLayer: the weights of a pre-norm transformer block — a norm before attention and one
// before the feed-forward — which every decoder here has, some with extra norms around them.

/// One pre-norm block's weights.
struct DecoderLayer {
    let attentionNorm: Norm        // [dim]
    let attention: AttentionWeights
    let feedForwardNorm: Norm      // [dim]
    let feedForward: FeedForward

    /// Bytes of weights one token reads.
    var bytesPerToken: Int { attention.byteCount + feedForward.bytesPerToken }

    /// Layer `i` with RMSNorms (`attn_norm`, `ffn_norm`) and a gated feed-forward or experts.
    init(loading t: TensorLoader, layer i: Int, config c: ModelConfig, attention layout: AttentionWeights.Layout) throws(ModelError) {
        attentionNorm = try t.rmsNorm(TensorName.attnNorm(i), width: c.embeddingLength, epsilon: c.rmsEpsilon)
        attention = try AttentionWeights(loading: t, layer: i, config: c, layout: layout)
        feedForwardNorm = try t.rmsNorm(TensorName.ffnNorm(i), width: c.embeddingLength, epsilon: c.rmsEpsilon)
        feedForward = try FeedForward(gatedLoading: t, layer: i, config: c)
    }
}
