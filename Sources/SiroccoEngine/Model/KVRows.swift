import CKernels

/// One KV head's keys (or values) in one layer, or in a staged batch: `cells` rows of `headDim`
/// values in the cache's type. F16 rows follow one another; a Q8_0 region keeps its int8 values,
/// [cells][headDim], apart from their F16 block scales, [headDim / 32][cells], so the attention
/// kernel loads eight positions' scales of a block as one vector. Either way the region takes
/// `cells · type.rowBytes(headDim:)` bytes.
struct KVRows {
    let base: UnsafeMutableRawPointer
    let cells: Int
    let headDim: Int
    let type: KVCacheType

    /// Bytes of one row's values.
    private var valueBytes: Int { type == .f16 ? 2 * headDim : headDim }

    /// The values of `cell`.
    func row(_ cell: Int) -> UnsafeMutableRawPointer { base + cell * valueBytes }

    /// The scale of the first block of `cell` (Q8_0; block c is `cells` further on).
    func scales(_ cell: Int) -> UnsafeMutablePointer<UInt16> {
        (base + cells * headDim).assumingMemoryBound(to: UInt16.self) + cell
    }

    /// Writes a row of `headDim` floats into `cell`.
    func store(_ src: UnsafePointer<Float>, cell: Int) {
        switch type {
        case .f16: sk_f32_to_f16(src, row(cell).assumingMemoryBound(to: UInt16.self), Int64(headDim))
        case .q8_0:
            sk_f32_to_q8_0(src, row(cell).assumingMemoryBound(to: Int8.self), scales(cell), Int64(cells), Int64(headDim))
        }
    }

    /// Copies row `src` of `other` (same type and head size) into `cell`.
    func copy(_ src: Int, of other: KVRows, into cell: Int) {
        row(cell).copyMemory(from: other.row(src), byteCount: valueBytes)
        guard type == .q8_0 else { return }
        for c in 0..<headDim / 32 { scales(cell)[c * cells] = other.scales(src)[c * other.cells] }
    }

    /// Cells [first, first + n) of these keys and of `values` as a segment for the attention
    /// kernels, starting at position `pos`.
    func segment(values: KVRows, first: Int, pos: Int, n: Int) -> sk_kv_segment {
        let q8 = type == .q8_0
        return sk_kv_segment(k: row(first), v: values.row(first), kd: q8 ? scales(first) : nil,
                             vd: q8 ? values.scales(first) : nil, dstride: q8 ? Int64(cells) : 0,
                             pos: Int64(pos), n: Int64(n))
    }
}
