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

extension KVRows {
    /// Copies the row in `cell` to `dst` as a cache file stores it (`type.rowBytes` bytes): F16
    /// values, or Q8_0 blocks of an F16 scale and 32 int8 values (ggml's block_q8_0).
    func export(_ cell: Int, to dst: UnsafeMutableRawPointer) {
        switch type {
        case .f16:
            dst.copyMemory(from: row(cell), byteCount: 2 * headDim)
        case .q8_0:
            for c in 0..<headDim / 32 {
                dst.storeBytes(of: scales(cell)[c * cells], toByteOffset: c * 34, as: UInt16.self)
                (dst + c * 34 + 2).copyMemory(from: row(cell) + c * 32, byteCount: 32)
            }
        }
    }

    /// Sets `cell` from a row as a cache file stores it; false (and the cell unchanged) when an
    /// F16 value or scale in it is infinite or NaN, which the cache never holds.
    func `import`(_ src: UnsafeRawPointer, into cell: Int) -> Bool {
        switch type {
        case .f16:
            guard KVRows.allFinite(f16: src, count: headDim) else { return false }
            row(cell).copyMemory(from: src, byteCount: 2 * headDim)
        case .q8_0:
            let blocks = headDim / 32
            for c in 0..<blocks where KVRows.isNonFinite(src.loadUnaligned(fromByteOffset: c * 34, as: UInt16.self)) {
                return false
            }
            for c in 0..<blocks {
                scales(cell)[c * cells] = src.loadUnaligned(fromByteOffset: c * 34, as: UInt16.self)
                (row(cell) + c * 32).copyMemory(from: src + c * 34 + 2, byteCount: 32)
            }
        }
        return true
    }

    /// An F16 bit pattern with every exponent bit set: infinity or NaN.
    @inline(__always)
    private static func isNonFinite(_ h: UInt16) -> Bool { h & 0x7C00 == 0x7C00 }

    /// Whether none of `count` F16 values at `p` is infinite or NaN (four at a time: a lane's
    /// exponent bits plus 0x0400 reach 0x8000 only when they are all set).
    private static func allFinite(f16 p: UnsafeRawPointer, count: Int) -> Bool {
        var carry: UInt64 = 0
        var i = 0
        while i + 4 <= count {
            let w = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 2 * i, as: UInt64.self))
            carry |= (w & 0x7C00_7C00_7C00_7C00) &+ 0x0400_0400_0400_0400
            i += 4
        }
        guard carry & 0x8000_8000_8000_8000 == 0 else { return false }
        while i < count {
            if isNonFinite(p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) { return false }
            i += 1
        }
        return true
    }
}
