// ModelConfig: the hyperparameters of a decoder-only transformer, decoded from GGUF metadata.

/// How RoPE pairs dimensions: GGML's "normal" (adjacent pairs, Llama GGUFs) or NeoX (halves).
public enum RopeStyle: String, Sendable { case normal, neox }

/// Hyperparameters of one model; derived values are computed properties.
public struct ModelConfig: Sendable, Equatable {
    /// Architectures this engine runs, by their GGUF name (see Architectures/).
    public static var supportedArchitectures: [String] { Architecture.all.map(\.name) }

    /// The feed-forward gate activation.
    public enum Activation: String, Sendable { case silu, geluTanh }

    public var architecture: String
    public var name: String
    public var trainedContextLength: Int
    public var embeddingLength: Int          // d_model
    public var layerCount: Int
    public var feedForwardLength: Int
    public var headCount: Int
    public var kvHeadCount: Int
    public var headDim: Int
    public var rmsEpsilon: Float
    public var ropeDimensions: Int
    public var ropeFreqBase: Float
    public var ropeFreqScale: Float
    public var ropeStyle: RopeStyle
    public var vocabularySize: Int
    /// Experts per MoE layer (0 for a dense feed-forward) and how many each token uses.
    public var expertCount: Int
    public var expertUsedCount: Int
    /// Attention window in positions for windowed layers (nil = full attention everywhere).
    public var slidingWindow: Int?

    /// Multiplies token embeddings (Gemma: √d).
    public var embeddingScale: Float?
    /// Scale of q·k before the softmax (1/√headDim unless the architecture says otherwise).
    public var attentionScale: Float
    public var activation: Activation
    /// RoPE base of windowed (local) layers when it differs from the global one (Gemma 3: 10000).
    public var localRopeFreqBase: Float?
    /// Every n-th layer is global and the others windowed (Gemma 3: 6); nil = all layers alike.
    public var globalLayerPeriod: Int?
    /// Gemma 2: attention scores become cap · tanh(score / cap) before the softmax.
    public var attentionLogitSoftcap: Float?
    /// Gemma 2: logits become cap · tanh(logit / cap).
    public var finalLogitSoftcap: Float?
    /// LayerNorm's epsilon (Falcon; RMSNorm uses `rmsEpsilon`).
    public var layerNormEpsilon: Float

    public var isMixtureOfExperts: Bool { expertCount > 0 }

    /// The attention window of layer `l` (nil: full attention).
    public func window(layer l: Int) -> Int? {
        guard let w = slidingWindow else { return nil }
        if let period = globalLayerPeriod { return l % period < period - 1 ? w : nil }
        return w
    }

    /// The attention window of every layer.
    public var layerWindows: [Int?] { (0..<layerCount).map { window(layer: $0) } }

    /// Query heads per KV head (grouped-query attention).
    public var groupSize: Int { headCount / kvHeadCount }
    public var qDim: Int { headCount * headDim }
    public var kvDim: Int { kvHeadCount * headDim }

    /// Decodes the hyperparameters of `file`, validating them.
    public init(gguf file: GGUFFile) throws(ModelError) {
        let path = file.path
        guard let arch = file.string(GGUFKey.architecture) else {
            throw .missingKey(file: path, key: GGUFKey.architecture)
        }
        guard let family = Architecture.named(arch) else {
            throw .unsupportedArchitecture(file: path, architecture: arch, supported: ModelConfig.supportedArchitectures)
        }
        func required(_ key: String) throws(ModelError) -> Int {
            guard let v = file.int(key) else { throw .missingKey(file: path, key: key) }
            guard v > 0 else { throw .badHyperparameter(file: path, key: key, reason: "must be positive, got \(v)") }
            return v
        }
        architecture = arch
        name = file.string(GGUFKey.name) ?? "unnamed"
        embeddingLength = try required(GGUFKey.embeddingLength(arch))
        layerCount = try required(GGUFKey.blockCount(arch))
        feedForwardLength = try required(GGUFKey.feedForwardLength(arch))
        headCount = try required(GGUFKey.headCount(arch))
        kvHeadCount = file.int(GGUFKey.headCountKV(arch)) ?? headCount
        trainedContextLength = file.int(GGUFKey.contextLength(arch)) ?? 2048
        headDim = file.int(GGUFKey.keyLength(arch)) ?? embeddingLength / headCount
        rmsEpsilon = file.float(GGUFKey.rmsEpsilon(arch)) ?? 1e-5
        ropeDimensions = file.int(GGUFKey.ropeDimensionCount(arch)) ?? headDim
        ropeFreqBase = file.float(GGUFKey.ropeFreqBase(arch)) ?? 10000
        ropeStyle = family.ropeStyle
        attentionScale = 1 / Float(headDim).squareRoot()
        activation = .silu
        layerNormEpsilon = file.float(GGUFKey.layerNormEpsilon(arch)) ?? 1e-5
        ropeFreqScale = 1
        if let scaling = file.string(GGUFKey.ropeScalingType(arch)), scaling == "linear",
           let factor = file.float(GGUFKey.ropeScalingFactor(arch)), factor > 0 {
            ropeFreqScale = 1 / factor
        }
        expertCount = file.int(GGUFKey.expertCount(arch)) ?? 0
        expertUsedCount = file.int(GGUFKey.expertUsedCount(arch)) ?? 0
        slidingWindow = file.int(GGUFKey.slidingWindow(arch)).flatMap { $0 > 0 ? $0 : nil }
        let tokenCount = file.metadata[GGUFKey.tokens]?.arrayValue?.count
        vocabularySize = file.int(GGUFKey.vocabSize(arch)) ?? tokenCount ?? 0

        guard kvHeadCount > 0, headCount % kvHeadCount == 0 else {
            throw .badHyperparameter(file: path, key: GGUFKey.headCountKV(arch),
                                     reason: "\(kvHeadCount) KV heads do not divide \(headCount) query heads")
        }
        guard headDim > 0, headDim % 2 == 0, ropeDimensions <= headDim, ropeDimensions % 2 == 0 else {
            throw .badHyperparameter(file: path, key: GGUFKey.ropeDimensionCount(arch),
                                     reason: "head size \(headDim) / RoPE dimensions \(ropeDimensions) are inconsistent")
        }
        if expertCount > 0 {
            guard expertUsedCount >= 1, expertUsedCount <= min(expertCount, 16) else {
                throw .badHyperparameter(file: path, key: GGUFKey.expertUsedCount(arch),
                                         reason: "\(expertUsedCount) experts per token out of \(expertCount)")
            }
        }
        guard vocabularySize > 0 else { throw .missingKey(file: path, key: GGUFKey.tokens) }
        try family.configure(&self, file)
        guard rmsEpsilon > 0, rmsEpsilon.isFinite, ropeFreqBase > 0, ropeFreqBase.isFinite else {
            throw .badHyperparameter(file: path, key: GGUFKey.ropeFreqBase(arch), reason: "must be a positive number")
        }
    }
}
