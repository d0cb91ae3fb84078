// WeightMatrix: a 2-D weight tensor left in the memory-mapped file, in any supported GGML type, and
// on CPUs with AVX-512 VNNI a repacked copy of its Q4_K/Q6_K rows, made before the first inference.

import CKernels
import Dispatch
import Glibc
import Synchronization

/// A `[rows, cols]` weight matrix (GGML dims `[cols, rows]`), rows stored contiguously in the mapping.
struct WeightMatrix {
    let name: String
    let type: GGMLType
    let rows: Int
    let cols: Int
    let data: UnsafeRawPointer
    /// The rows interleaved 16 at a time (CKernels' repack_avx512.c), when this CPU has the kernels:
    /// once made, every product reads these, and the mapping's pages of `data` are released.
    var packed: PackedWeights?
    var rowBytes: Int { type.rowBytes(cols) }
    var byteCount: Int { rowBytes * rows }

    /// Rows `range` of this matrix as a matrix of their own (no copy): splits fused projections.
    func rows(_ range: Range<Int>, name: String) -> WeightMatrix {
        WeightMatrix(name: name, type: type, rows: range.count, cols: cols, data: data + range.lowerBound * rowBytes,
                     packed: packed?.rows(range, cols: cols))
    }

    /// Dequantizes row `r` into `dst` (`cols` floats).
    func dequantizeRow(_ r: Int, into dst: UnsafeMutablePointer<Float>) {
        sk_dequantize_row(Int32(type.rawValue), data + r * rowBytes, dst, Int64(cols))
    }
}

/// Looks up tensors by name in a GGUF file and checks their shapes and types.
struct TensorLoader {
    let file: GGUFFile
    /// The matrices to repack before the model's first inference.
    let packing = WeightPacking()

    func has(_ name: String) -> Bool { file.tensor(named: name) != nil }

    /// A matrix of `rows` rows of `cols` elements, repacked where this CPU has kernels for that unless
    /// `repack` is false (the embedding table, read row by row; the output projection, which a prompt
    /// multiplies by one row, and which may be the embedding table itself).
    func matrix(_ name: String, rows: Int, cols: Int, repack: Bool = true) throws(ModelError) -> WeightMatrix {
        guard let info = file.tensor(named: name) else { throw .missingTensor(file: file.path, tensor: name) }
        guard info.dims.count == 2, info.dims[0] == cols, info.dims[1] == rows else {
            throw .badTensorShape(file: file.path, tensor: name, expected: [cols, rows], actual: info.dims)
        }
        guard info.type.isSupportedForWeights else {
            throw .unsupportedTensorType(file: file.path, tensor: name, type: info.type.description)
        }
        var m = WeightMatrix(name: name, type: info.type, rows: rows, cols: cols, data: file.data(of: info))
        if repack, let packed = PackedWeights(deferredRepackOf: m) {
            m.packed = packed
            packing.add(packed, tensor: name)
        }
        return m
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

/// The repacked copy of a matrix's rows (sk_repack), or of some of them (a view). Made on first use,
/// or all at once by WeightPacking before a model's first inference: commands that only read a
/// model's metadata never pay for it.
final class PackedWeights: @unchecked Sendable {
    private enum Source {
        case matrix(WeightMatrix, fromMapping: Bool)
        case view(PackedWeights, offset: Int)
    }
    private let source: Source
    private let made = Mutex<UnsafeMutableRawPointer?>(nil)  // the whole matrix's copy, once made
    private let type: GGMLType

    /// A copy of `m` to be made later, or nil when this CPU or the matrix's type and shape have no
    /// repacked kernels. `m` lies in a read-only file mapping whose pages are given back to the kernel
    /// once copied (read again from the file if anything touches them): the copy costs no resident memory.
    init?(deferredRepackOf m: WeightMatrix) {
        guard sk_repack_supported(Int32(m.type.rawValue), Int64(m.rows), Int64(m.cols)) != 0 else { return nil }
        source = .matrix(m, fromMapping: true)
        type = m.type
    }

    /// The copy of `m` made now (`m` anywhere in memory, left as it is), or nil as above.
    init?(repacking m: WeightMatrix) {
        guard sk_repack_supported(Int32(m.type.rawValue), Int64(m.rows), Int64(m.cols)) != 0 else { return nil }
        source = .matrix(m, fromMapping: false)
        type = m.type
        _ = base
    }

    private init(view parent: PackedWeights, offset: Int) {
        source = .view(parent, offset: offset)
        type = parent.type
    }

    deinit { made.withLock { $0?.deallocate() } }

    /// The first repacked row group, made on first access.
    var base: UnsafeRawPointer {
        switch source {
        case .view(let parent, let offset): return parent.base + offset
        case .matrix(let m, let fromMapping):
            return made.withLock { copy in
                if let copy { return UnsafeRawPointer(copy) }
                let new = Self.repack(m)
                if fromMapping { Self.release(m.data, byteCount: m.byteCount) }
                copy = new
                return UnsafeRawPointer(new)
            }
        }
    }

    /// The rows `range` of a matrix of `cols` columns, sharing this copy; nil if the range splits a
    /// group of 16 rows.
    func rows(_ range: Range<Int>, cols: Int) -> PackedWeights? {
        guard range.lowerBound % 16 == 0, range.count % 16 == 0 else { return nil }
        let groupBytes = sk_repacked_bytes(Int32(type.rawValue), 16, Int64(cols))
        return PackedWeights(view: self, offset: range.lowerBound / 16 * groupBytes)
    }

    /// The repacked copy of `m`, its row groups split over the cores.
    private static func repack(_ m: WeightMatrix) -> UnsafeMutableRawPointer {
        let t = Int32(m.type.rawValue)
        let dst = UnsafeMutableRawPointer.allocate(byteCount: sk_repacked_bytes(t, Int64(m.rows), Int64(m.cols)), alignment: 64)
        let groups = m.rows / 16
        let chunks = min(groups, 64)
        DispatchQueue.concurrentPerform(iterations: chunks) { i in
            sk_repack(t, m.data, m.rowBytes, Int64(m.cols), Int64(groups * i / chunks), Int64(groups * (i + 1) / chunks), dst)
        }
        return dst
    }

    /// Drops the whole pages of a read-only file mapping in [p, p + byteCount) from memory.
    private static func release(_ p: UnsafeRawPointer, byteCount: Int) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (Int(bitPattern: p) + page - 1) / page * page
        let end = (Int(bitPattern: p) + byteCount) / page * page
        guard end > start, let base = UnsafeMutableRawPointer(bitPattern: start) else { return }
        madvise(base, end - start, MADV_DONTNEED)
    }
}

/// The repacked copies a model's matrices will use, made together before its first inference.
final class WeightPacking: @unchecked Sendable {
    private let pending = Mutex<[PackedWeights]>([])
    /// The tensors whose repacked copies replace them (their mapped pages are not read for inference).
    private let replaced = Mutex<Set<String>>([])

    func add(_ p: PackedWeights, tensor: String) {
        pending.withLock { $0.append(p) }
        replaced.withLock { _ = $0.insert(tensor) }
    }

    func replaces(_ tensor: String) -> Bool { replaced.withLock { $0.contains(tensor) } }

    /// Makes every copy not made yet (each one's row groups split over the cores).
    func makeAll() {
        for p in pending.withLock({ list in defer { list = [] }; return list }) { _ = p.base }
    }
}
