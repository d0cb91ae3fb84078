// Architecture: the registry of the architectures Sirocco runs, by their GGUF name
// (`general.architecture`), as llama.cpp's llama-arch.cpp tables them. Each family has a file in
// this folder that loads its weights and composes the shared blocks (Blocks/) into its forward pass,
// as llama.cpp's src/models/<arch>.cpp. docs/ADDING_AN_ARCHITECTURE.md is the checklist.

/// A loaded network: its weights, and a forward pass that composes the shared blocks.
protocol Network: AnyObject {
    /// Runs the batch of `pass` through the network: embedding, blocks, output head.
    func forward(_ pass: ForwardPass)
    /// Bytes of weights one token's forward pass reads (for MoE: the experts a token uses).
    var bytesPerToken: Int { get }
}

/// One architecture: what it adds to the common hyperparameters and how its network loads.
struct Architecture: Sendable {
    let name: String
    /// How RoPE pairs dimensions (llama.cpp's llama_model_rope_type).
    let ropeStyle: RopeStyle
    /// Sets the architecture's own hyperparameters after the common ones are decoded.
    var configure: @Sendable (inout ModelConfig, GGUFFile) throws(ModelError) -> Void = { _, _ throws(ModelError) in }
    let load: @Sendable (TensorLoader, ModelConfig) throws(ModelError) -> any Network

    /// Every architecture Sirocco runs.
    static let all: [Architecture] = [.llama, .qwen2, .qwen3, .phi3, .gemma2, .gemma3, .falcon]

    /// The architecture a GGUF file names, if Sirocco runs it.
    static func named(_ name: String) -> Architecture? { all.first { $0.name == name } }
}

/// The token embedding table and the output head every decoder here shares.
struct EmbeddingAndHead {
    let tokenEmbedding: WeightMatrix   // [vocab, dim]
    let outputNorm: Norm               // [dim]
    let output: WeightMatrix           // [vocab, dim]; the embedding itself when tied

    init(loading t: TensorLoader, config c: ModelConfig, outputNorm: Norm) throws(ModelError) {
        tokenEmbedding = try t.matrix(TensorName.tokenEmbedding, rows: c.vocabularySize, cols: c.embeddingLength,
                                      repack: false)
        self.outputNorm = outputNorm
        output = t.has(TensorName.output)
            ? try t.matrix(TensorName.output, rows: c.vocabularySize, cols: c.embeddingLength, repack: false)
            : tokenEmbedding
    }
}
