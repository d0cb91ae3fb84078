// MatrixMultiplier: y = W·x for a batch of activation rows against quantized weights.
// Activations are converted once per input into the weight type's dot-product format (Q8_0, Q8_1,
// Q8_K or F32) and reused by every matrix that reads the same input (Q, K and V share one).

import CKernels

/// Multiplies batches of activations by weight matrices on a thread pool, with no allocation per call.
final class MatrixMultiplier {
    let pool: ThreadPool
    private let maxRows: Int
    private let maxCols: Int
    /// One buffer per activation format: F32, Q8_0, Q8_1, Q8_K.
    private var slots: [UnsafeMutableRawPointer]
    private var slotRowBytes = [Int](repeating: 0, count: 4)

    init(pool: ThreadPool, maxRows: Int, maxCols: Int) {
        self.pool = pool
        self.maxRows = maxRows
        self.maxCols = maxCols
        sk_init(0)
        let bytes = maxRows * maxCols * 4 + 4096
        slots = (0..<4).map { _ in UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64) }
    }

    deinit { slots.forEach { $0.deallocate() } }

    private static func slot(for type: GGMLType) -> Int {
        switch sk_vec_dot_type(Int32(type.rawValue)) {
        case Int32(SK_Q8_0): return 1
        case Int32(SK_Q8_1): return 2
        case Int32(SK_Q8_K): return 3
        default: return 0
        }
    }

    /// Converts `n` rows of `cols` floats (row stride `cols`) into the formats the given weight types need.
    func prepare(_ x: UnsafePointer<Float>, rows n: Int, cols: Int,
                 for a: GGMLType, _ b: GGMLType? = nil, _ c: GGMLType? = nil) {
        precondition(n <= maxRows && cols <= maxCols, "activation batch larger than the scratch space")
        var converted = 0  // bit per slot, so a shared format is converted once
        func convert(_ type: GGMLType) {
            let s = Self.slot(for: type)
            if converted & (1 << s) != 0 { return }
            converted |= 1 << s
            let rowBytes = sk_activation_row_bytes(Int32(type.rawValue), Int64(cols))
            slotRowBytes[s] = rowBytes
            let dst = slots[s]
            let t = Int32(type.rawValue)
            if n == 1 {
                sk_quantize_row(t, x, dst, Int64(cols))
            } else {
                pool.parallelFor(n) { range in
                    for r in range {
                        sk_quantize_row(t, x + r * cols, dst + r * rowBytes, Int64(cols))
                    }
                }
            }
        }
        convert(a)
        if let b { convert(b) }
        if let c { convert(c) }
    }

    /// Computes this thread's share of `out[t][r] = W[r]·x[t]` from the prepared activations.
    /// Call from inside `pool.run`; `outStride` is the distance between output rows.
    @inline(__always)
    func multiply(_ w: WeightMatrix, rows n: Int, into out: UnsafeMutablePointer<Float>, outStride: Int,
                  thread: Int, of total: Int) {
        let range = ThreadPool.share(of: w.rows, index: thread, total: total, align: 16)
        if range.isEmpty { return }
        let s = Self.slot(for: w.type)
        if let packed = w.packed {
            sk_matmul_repacked(Int32(w.type.rawValue), Int64(w.cols), packed.base, Int64(range.lowerBound),
                               Int64(range.upperBound), slots[s], slotRowBytes[s], Int64(n), out, Int64(outStride))
            return
        }
        sk_matmul(Int32(w.type.rawValue), Int64(w.cols), w.data, w.rowBytes,
                  Int64(range.lowerBound), Int64(range.upperBound),
                  slots[s], slotRowBytes[s], Int64(n), out, Int64(outStride))
    }

    /// Prepares `x` and computes `out = W·x` for all rows, using every thread.
    func multiply(_ w: WeightMatrix, _ x: UnsafePointer<Float>, rows n: Int,
                  into out: UnsafeMutablePointer<Float>, outStride: Int) {
        prepare(x, rows: n, cols: w.cols, for: w.type)
        pool.run { i, t in multiply(w, rows: n, into: out, outStride: outStride, thread: i, of: t) }
    }
}
