// Errors a user can cause by pointing Sirocco at a bad model file.

/// Why a GGUF file could not be read; `description` is a one-line message for the user.
public enum GGUFError: Error, CustomStringConvertible, Equatable {
    case cannotOpen(file: String, reason: String)
    case notGGUF(file: String)
    case unsupportedVersion(file: String, version: UInt32)
    case truncated(file: String, offset: Int, needed: Int, size: Int)
    case absurdCount(file: String, what: String, count: UInt64)
    case badValueType(file: String, key: String, type: UInt32)
    case badTensorShape(file: String, tensor: String, reason: String)
    case unknownTensorType(file: String, tensor: String, type: UInt32)
    case tensorOutOfBounds(file: String, tensor: String, end: Int, size: Int)
    case misalignedTensor(file: String, tensor: String, offset: Int, alignment: Int)
    case duplicateName(file: String, name: String)
    case badAlignment(file: String, alignment: Int)

    public var description: String {
        // names and paths come from the file or the user: no control characters reach the terminal
        let e = TerminalText.escaped
        switch self {
        case let .cannotOpen(file, reason):
            return "\(e(file)): cannot open model file: \(e(reason))"
        case let .notGGUF(file):
            return "\(e(file)): not a GGUF file (wrong magic number)"
        case let .unsupportedVersion(file, version):
            return "\(e(file)): unsupported GGUF version \(version) (supported: 2, 3)"
        case let .truncated(file, offset, needed, size):
            return "\(e(file)): file is truncated: needed \(needed) bytes at offset \(offset) but the file has \(size) bytes"
        case let .absurdCount(file, what, count):
            return "\(e(file)): corrupt header: \(e(what)) of \(count) is impossible for this file"
        case let .badValueType(file, key, type):
            return "\(e(file)): corrupt metadata: key '\(e(key))' has unknown value type \(type)"
        case let .badTensorShape(file, tensor, reason):
            return "\(e(file)): tensor '\(e(tensor))' has a bad shape: \(e(reason))"
        case let .unknownTensorType(file, tensor, type):
            return "\(e(file)): tensor '\(e(tensor))' has unknown tensor type \(type)"
        case let .tensorOutOfBounds(file, tensor, end, size):
            return "\(e(file)): tensor '\(e(tensor))' data ends at byte \(end), past the end of the file (\(size) bytes): the file is truncated or corrupt"
        case let .misalignedTensor(file, tensor, offset, alignment):
            return "\(e(file)): tensor '\(e(tensor))' data offset \(offset) is not a multiple of the alignment \(alignment)"
        case let .duplicateName(file, name):
            return "\(e(file)): corrupt file: '\(e(name))' appears twice"
        case let .badAlignment(file, alignment):
            return "\(e(file)): general.alignment \(alignment) is not a positive power of two"
        }
    }
}
