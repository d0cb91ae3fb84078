// GGUFTensorInfo: where one tensor's data lives in a GGUF file and what shape it has.

/// One tensor's name, shape (GGML order: `dims[0]` is the row length), type and data location.
public struct GGUFTensorInfo: Sendable, Equatable {
    public let name: String
    /// GGML dimension order: `dims[0]` is contiguous (elements per row), `dims[1]` counts rows, ...
    public let dims: [Int]
    public let type: GGMLType
    /// Absolute byte offset of the data in the file.
    public let fileOffset: Int
    public let byteCount: Int

    public var elementCount: Int { dims.reduce(1, *) }
    /// Elements per row (the first dimension).
    public var rowLength: Int { dims.first ?? 1 }
    /// Number of rows (product of every dimension but the first).
    public var rowCount: Int { dims.dropFirst().reduce(1, *) }
}
