// WeightMatrix: a 2-D weight tensor left in the memory-mapped file, in any supported GGML type.

import CKernels

/// A `[rows, cols]` weight matrix (GGML dims `[cols, rows]`), rows stored contiguously in the mapping.
struct WeightMatrix {
    let name: String
    let type: GGMLType
    let rows: Int
    let cols: Int
    let data: UnsafeRawPointer
    var rowBytes: Int { type.rowBytes(cols) }
    var byteCount: Int { rowBytes * rows }

    /// Rows `range` of this matrix as a matrix of their own (no copy): splits fused projections.
    func rows(_ range: Range<Int>, name: String) -> WeightMatrix {
        WeightMatrix(name: name, type: type, rows: range.count, cols: cols, data: data + range.lowerBound * rowBytes)
    }

    /// Dequantizes row `r` into `dst` (`cols` floats).
    func dequantizeRow(_ r: Int, into dst: UnsafeMutablePointer<Float>) {
        sk_dequantize_row(Int32(type.rawValue), data + r * rowBytes, dst, Int64(cols))
    }
}

/// Looks up tensors by name in a GGUF file and checks their shapes and types.
struct TensorLoader {
    let file: GGUFFile

    func has(_ name: String) -> Bool { file.tensor(named: name) != nil }

    /// A matrix of `rows` rows of `cols` elements.
    func matrix(_ name: String, rows: Int, cols: Int) throws(ModelError) -> WeightMatrix {
        guard let info = file.tensor(named: name) else { throw .missingTensor(file: file.path, tensor: name) }
        guard info.dims.count == 2, info.dims[0] == cols, info.dims[1] == rows else {
            throw .badTensorShape(file: file.path, tensor: name, expected: [cols, rows], actual: info.dims)
        }
        guard info.type.isSupportedForWeights else {
            throw .unsupportedTensorType(file: file.path, tensor: name, type: info.type.description)
        }
        return WeightMatrix(name: name, type: info.type, rows: rows, cols: cols, data: file.data(of: info))
    }

    /// The `count` matrices of `rows` × `cols` stacked in a 3-D tensor (GGML dims [cols, rows, count]),
    /// as mixture-of-experts weights are stored.
    func stacked(_ name: String, count: Int, rows: Int, cols: Int) throws(ModelError) -> [WeightMatrix] {
        guard let info = file.tensor(named: name) else { throw .missingTensor(file: file.path, tensor: name) }
        guard info.dims == [cols, rows, count] else {
            throw .badTensorShape(file: file.path, tensor: name, expected: [cols, rows, count], actual: info.dims)
        }
        guard info.type.isSupportedForWeights else {
            throw .unsupportedTensorType(file: file.path, tensor: name, type: info.type.description)
        }
        let base = file.data(of: info)
        let bytes = info.type.rowBytes(cols) * rows
        return (0..<count).map { WeightMatrix(name: "\(name)[\($0)]", type: info.type, rows: rows, cols: cols, data: base + $0 * bytes) }
    }

    /// A 1-D tensor of `count` values, dequantized to floats (norm weights and biases are small).
    func vector(_ name: String, count: Int) throws(ModelError) -> [Float] {
        guard let info = file.tensor(named: name) else { throw .missingTensor(file: file.path, tensor: name) }
        guard info.elementCount == count, info.dims.count == 1 || info.rowCount == 1 else {
            throw .badTensorShape(file: file.path, tensor: name, expected: [count], actual: info.dims)
        }
        guard info.type.isSupportedForWeights else {
            throw .unsupportedTensorType(file: file.path, tensor: name, type: info.type.description)
        }
        var out = [Float](repeating: 0, count: count)
        out.withUnsafeMutableBufferPointer {
            sk_dequantize_row(Int32(info.type.rawValue), file.data(of: info), $0.baseAddress!, Int64(count))
        }
        return out
    }

    func optionalVector(_ name: String, count: Int) throws(ModelError) -> [Float]? {
        has(name) ? try vector(name, count: count) : nil
    }
}
