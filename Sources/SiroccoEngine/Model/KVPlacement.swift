// KVPlacement: where a batch's keys and values go, and where attention finds them. A full layer
// writes position p into cell p before attending. So does a rolling buffer when the batch is short
// enough not to overwrite a cell its own rows still attend to (a token, a draft: the spare cells
// beyond the window take it), so a token sees the same pieces of cache whether it came alone or in
// a draft. A longer batch would overwrite them: it is staged outside the buffer, attended to from
// there, and only then are its last rows kept (`commit`). A quantized cache also rotates
// queries, keys and values on the way in and the attention output on the way out, as llama.cpp does.

import CKernels

extension KVCache {
    /// Stores the keys and values of `rows` positions from `start` (each row `kvHeadCount · headDim`
    /// floats) for layer `l`: into their cells, or into the staging rows of a rolling buffer.
    func write(layer l: Int, keys k: UnsafePointer<Float>, values v: UnsafePointer<Float>, rows n: Int, start: Int) {
        let kvDim = kvHeadCount * headDim
        let windowed = stages(layer: l, rows: n)
        for h in 0..<kvHeadCount {
            let keys = windowed ? stagedRows(stagedKeys, head: h, rows: n) : keyRows(layer: l, head: h)
            let values = windowed ? stagedRows(stagedValues, head: h, rows: n) : valueRows(layer: l, head: h)
            for i in 0..<n {
                let cell = windowed ? i : cell(layer: l, position: start + i)
                keys.store(k + i * kvDim + h * headDim, cell: cell)
                values.store(v + i * kvDim + h * headDim, cell: cell)
            }
        }
    }

    /// After the batch has attended: a rolling buffer of C cells keeps the last C staged positions
    /// (position p in cell p mod C). Other layers hold theirs already.
    func commit(layer l: Int, rows n: Int, start: Int) {
        guard stages(layer: l, rows: n) else { return }
        let cells = cellsPerLayer[l]
        for h in 0..<kvHeadCount {
            let keys = keyRows(layer: l, head: h), values = valueRows(layer: l, head: h)
            let staged = (keys: stagedRows(stagedKeys, head: h, rows: n), values: stagedRows(stagedValues, head: h, rows: n))
            for i in max(0, n - cells)..<n {
                keys.copy(i, of: staged.keys, into: (start + i) % cells)
                values.copy(i, of: staged.values, into: (start + i) % cells)
            }
        }
    }

    /// Whether a batch of `n` rows goes through the staging rows in layer `l`: a rolling buffer
    /// whose spare cells (beyond the window) cannot take the batch without overwriting a position
    /// its first row attends to.
    func stages(layer l: Int, rows n: Int) -> Bool {
        guard isRolling(l), let window = attentionWindows[l] else { return false }
        return n > cellsPerLayer[l] - window + 1
    }

    /// The oldest position layer `l` lets position `p` see.
    func oldestVisible(layer l: Int, from p: Int) -> Int {
        attentionWindows[l].map { max(0, p - $0 + 1) } ?? 0
    }

    /// The attention window of layer `l` for the kernels (0: none).
    func kernelWindow(layer l: Int) -> Int { attentionWindows[l] ?? 0 }

    /// The key/value pieces of KV head `kvh` holding positions [from, to) while a batch of `n` rows
    /// from `start` is being attended, in position order (at most 3): a full layer's cells; or a
    /// rolling buffer (two pieces when it wraps) before the batch and the staged batch for the rest.
    func segments(layer l: Int, kvHead kvh: Int, from: Int, to: Int, rows n: Int, start: Int,
                  into out: UnsafeMutablePointer<sk_kv_segment>) -> Int {
        let keys = keyRows(layer: l, head: kvh), values = valueRows(layer: l, head: kvh)
        guard isRolling(l) else {
            out[0] = keys.segment(values: values, first: from, pos: from, n: to - from)
            return 1
        }
        let cells = cellsPerLayer[l]
        let staged = stages(layer: l, rows: n)
        let end = staged ? min(to, start) : to
        var count = 0
        var pos = from
        while pos < end {
            let cell = pos % cells
            let run = min(end - pos, cells - cell)
            out[count] = keys.segment(values: values, first: cell, pos: pos, n: run)
            count += 1
            pos += run
        }
        if staged && to > start {
            let first = max(from, start)
            let rows = (keys: stagedRows(stagedKeys, head: kvh, rows: n), values: stagedRows(stagedValues, head: kvh, rows: n))
            out[count] = rows.keys.segment(values: rows.values, first: first - start, pos: first, n: to - first)
            count += 1
        }
        return count
    }

    /// The staged rows of KV head `h` for a batch of `n` rows.
    private func stagedRows(_ base: UnsafeMutableRawPointer, head h: Int, rows n: Int) -> KVRows {
        KVRows(base: base + h * n * rowBytes, cells: n, headDim: headDim, type: type)
    }

    // MARK: rotation (quantized cache)

    /// Rotates `rows` rows of queries, keys and values as llama.cpp does before a quantized cache
    /// stores them (nothing for an F16 cache).
    func rotateIn(queries q: UnsafeMutablePointer<Float>, qDim: Int, keys k: UnsafeMutablePointer<Float>,
                  values v: UnsafeMutablePointer<Float>, rows n: Int) {
        guard let blocks = type.rotationBlocks(headDim: headDim) else { return }
        let kvDim = kvHeadCount * headDim
        sk_hadamard_rotate(q, Int64(n * qDim), Int64(blocks.keys))
        sk_hadamard_rotate(k, Int64(n * kvDim), Int64(blocks.keys))
        sk_hadamard_rotate(v, Int64(n * kvDim), Int64(blocks.values))
    }

    /// Rotates attention outputs (of rotated values) back.
    func rotateOut(_ x: UnsafeMutablePointer<Float>, count: Int) {
        guard let blocks = type.rotationBlocks(headDim: headDim) else { return }
        sk_hadamard_rotate(x, Int64(count), Int64(blocks.values))
    }
}
