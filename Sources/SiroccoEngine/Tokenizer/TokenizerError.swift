// Errors a user can cause by loading a model whose vocabulary Sirocco cannot tokenize with.
// Each case names the file and the problem; nothing here is thrown for a merely unusual vocabulary
// that llama.cpp would accept (an unknown pre-tokenizer falls back to the default split instead).

/// Why a tokenizer could not be built from a GGUF file; `description` is a one-line message for the user.
public enum TokenizerError: Error, CustomStringConvertible, Equatable {
    case missingKey(file: String, key: String)
    case wrongType(file: String, key: String, expected: String)
    case emptyVocabulary(file: String)
    case unknownModel(file: String, model: String)
    case missingMerges(file: String)
    case badMerge(file: String, index: Int, text: String)
    case countMismatch(file: String, key: String, expected: Int, actual: Int)

    /// Tokenizer models (`tokenizer.ggml.model`) Sirocco implements.
    public static let supportedModels = ["llama", "gpt2"]

    public var description: String {
        switch self {
        case let .missingKey(file, key):
            return "\(file): no tokenizer vocabulary: metadata key '\(key)' is missing"
        case let .wrongType(file, key, expected):
            return "\(file): corrupt tokenizer metadata: '\(key)' should be \(expected)"
        case let .emptyVocabulary(file):
            return "\(file): the tokenizer vocabulary ('tokenizer.ggml.tokens') is empty"
        case let .unknownModel(file, model):
            let supported = TokenizerError.supportedModels.map { "\"\($0)\"" }.joined(separator: ", ")
            return "\(file): unknown tokenizer model \"\(model)\" (supported: \(supported))"
        case let .missingMerges(file):
            return "\(file): BPE vocabulary without merges: 'tokenizer.ggml.merges' is missing"
        case let .badMerge(file, index, text):
            return "\(file): bad BPE merge #\(index) '\(text)': expected two pieces separated by a space"
        case let .countMismatch(file, key, expected, actual):
            return "\(file): '\(key)' has \(actual) entries but the vocabulary has \(expected) tokens"
        }
    }
}
