// KVPlacement: where a batch's keys and values go, and where attention finds them. A full layer
// writes position p into cell p before attending. A windowed layer must not overwrite the cells its
// own earlier rows still attend to, so the batch is staged outside the rolling buffer, attended to
// from there, and only then are its last W rows kept (`commit`). A quantized cache also rotates
// queries, keys and values on the way in and the attention output on the way out, as llama.cpp does.

import CKernels

extension KVCache {
    /// Stores the keys and values of `rows` positions from `start` (each row `kvHeadCount · headDim`
    /// floats) for layer `l`: into their cells, or into the staging rows of a windowed layer.
    func write(layer l: Int, keys k: UnsafePointer<Float>, values v: UnsafePointer<Float>, rows n: Int, start: Int) {
        let kvDim = kvHeadCount * headDim
        let windowed = isWindowed(l)
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

    /// After the batch has attended: a windowed layer keeps the last W staged positions in its
    /// rolling buffer (position p in cell p mod W). Full layers hold theirs already.
    func commit(layer l: Int, rows n: Int, start: Int) {
        guard isWindowed(l) else { return }
        let window = cellsPerLayer[l]
        for h in 0..<kvHeadCount {
            let keys = keyRows(layer: l, head: h), values = valueRows(layer: l, head: h)
            let staged = (keys: stagedRows(stagedKeys, head: h, rows: n), values: stagedRows(stagedValues, head: h, rows: n))
            for i in max(0, n - window)..<n {
                keys.copy(i, of: staged.keys, into: (start + i) % window)
                values.copy(i, of: staged.values, into: (start + i) % window)
            }
        }
    }

    /// The oldest position layer `l` lets position `p` see.
    func oldestVisible(layer l: Int, from p: Int) -> Int {
        isWindowed(l) ? max(0, p - cellsPerLayer[l] + 1) : 0
    }

    /// The attention window of layer `l` for the kernels (0: none).
    func kernelWindow(layer l: Int) -> Int { isWindowed(l) ? cellsPerLayer[l] : 0 }

    /// The key/value pieces of KV head `kvh` holding positions [from, to) while a batch of `n` rows
    /// from `start` is being attended, in position order (at most 3): a full layer's cells; or a
    /// windowed layer's rolling buffer (two pieces when it wraps) before the batch and the staged
    /// batch for the rest.
    func segments(layer l: Int, kvHead kvh: Int, from: Int, to: Int, rows n: Int, start: Int,
                  into out: UnsafeMutablePointer<sk_kv_segment>) -> Int {
        let keys = keyRows(layer: l, head: kvh), values = valueRows(layer: l, head: kvh)
        guard isWindowed(l) else {
            out[0] = keys.segment(values: values, first: from, pos: from, n: to - from)
            return 1
        }
        let window = cellsPerLayer[l]
        var count = 0
        var pos = from
        while pos < min(to, start) {
            let cell = pos % window
            let run = min(min(to, start) - pos, window - cell)
            out[count] = keys.segment(values: values, first: cell, pos: pos, n: run)
            count += 1
            pos += run
        }
        if to > start {
            let first = max(from, start)
            let staged = (keys: stagedRows(stagedKeys, head: kvh, rows: n), values: stagedRows(stagedValues, head: kvh, rows: n))
            out[count] = staged.keys.segment(values: staged.values, first: first - start, pos: first, n: to - first)
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
