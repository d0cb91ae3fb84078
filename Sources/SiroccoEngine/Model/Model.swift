// Model: a GGUF file loaded for inference — its hyperparameters, tokenizer and network.

import Foundation

/// A loaded language model. Weights stay memory-mapped; many contexts may share one Model.
public final class Model: @unchecked Sendable {
    public let file: GGUFFile
    public let config: ModelConfig
    public let tokenizer: Tokenizer
    let network: any Network

    /// Opens and validates the model at `path` (throws GGUFError, ModelError or TokenizerError).
    public init(path: String) throws {
        file = try GGUFFile(path: path)
        config = try ModelConfig(gguf: file)
        tokenizer = try Tokenizer(gguf: file)
        let loader = TensorLoader(file: file)
        network = try Model.loadNetwork(loader, config: config)
        packing = loader.packing
    }

    /// Matrices this CPU multiplies faster repacked, copied before the first inference.
    private let packing: WeightPacking

    /// Makes the repacked copies of the weights (once; InferenceContext asks for it), so that the
    /// first prompt does not pay for them and commands that only read metadata never do.
    public func prepareForInference() { packing.makeAll() }

    /// Reads into memory the mapped weights inference reads (all but the repacked ones, whose pages
    /// were given back), so the first answer does not wait for page faults. Safe on any thread.
    public func prefault() { file.prefault(file.tensors.filter { !packing.replaces($0.name) }) }

    /// The Jinja chat template stored in the file, if any.
    public var chatTemplate: String? { file.string(GGUFKey.chatTemplate) }

    /// Bytes of weights read for each generated token (for bandwidth estimates).
    public var weightBytesPerToken: Int { network.bytesPerToken }

    /// The network of the architecture `config` names.
    static func loadNetwork(_ loader: TensorLoader, config: ModelConfig) throws(ModelError) -> any Network {
        guard let family = Architecture.named(config.architecture) else {
            throw .unsupportedArchitecture(file: loader.file.path, architecture: config.architecture,
                                           supported: ModelConfig.supportedArchitectures)
        }
        return try family.load(loader, config)
    }

    /// Counts of tensors per GGML type, e.g. ["Q4_1": 210, "F32": 61].
    public var tensorTypeCounts: [String: Int] {
        var counts: [String: Int] = [:]
        for t in file.tensors { counts[t.type.description, default: 0] += 1 }
        return counts
    }

    /// Total number of parameters (elements of every tensor).
    public var parameterCount: Int { file.tensors.reduce(0) { $0 + $1.elementCount } }
}
