// Errors a user can meet when loading or running a model.

/// Why a model could not be loaded or run; `description` is a one-line message for the user.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    case unsupportedArchitecture(file: String, architecture: String, supported: [String])
    case missingKey(file: String, key: String)
    case badHyperparameter(file: String, key: String, reason: String)
    case missingTensor(file: String, tensor: String)
    case badTensorShape(file: String, tensor: String, expected: [Int], actual: [Int])
    case unsupportedTensorType(file: String, tensor: String, type: String)
    case contextFull(needed: Int, capacity: Int)
    case invalidToken(id: Int, vocabularySize: Int)
    case unsupportedCacheType(String, headDim: Int)

    public var description: String {
        switch self {
        case let .unsupportedArchitecture(file, arch, supported):
            return "\(file): architecture '\(arch)' is not supported (supported: \(supported.joined(separator: ", ")))"
        case let .missingKey(file, key):
            return "\(file): required metadata key '\(key)' is missing"
        case let .badHyperparameter(file, key, reason):
            return "\(file): metadata '\(key)' is invalid: \(reason)"
        case let .missingTensor(file, tensor):
            return "\(file): required tensor '\(tensor)' is missing"
        case let .badTensorShape(file, tensor, expected, actual):
            return "\(file): tensor '\(tensor)' has shape \(actual), expected \(expected)"
        case let .unsupportedTensorType(file, tensor, type):
            let supported = GGMLType.allCases.filter(\.isSupportedForWeights).map(\.description).joined(separator: ", ")
            return "\(file): tensor '\(tensor)' uses tensor type \(type), which Sirocco cannot compute with (supported: \(supported))"
        case let .contextFull(needed, capacity):
            return "the prompt needs \(needed) tokens of context but the context holds \(capacity); use a shorter prompt or a larger --ctx-size"
        case let .invalidToken(id, size):
            return "token id \(id) is outside the vocabulary (size \(size))"
        case let .unsupportedCacheType(type, headDim):
            return "a \(type) KV cache needs a head size that is a multiple of 32; this model's is \(headDim) (use --cache-type f16)"
        }
    }
}
