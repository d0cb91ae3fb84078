// Attend: causal (and, for windowed layers, sliding-window) attention of one sequence's queries over
// its cache, computed the way ggml's CPU flash attention does (see CKernels/Attention.h). One call;
// the choice of kernel is made here: prompt batches of SK_ATTENTION_TILE rows or more in tiles of
// rows per head (F16 cache); one token over 512 or more positions split into one chunk of positions
// per thread (split-KV); anything else row by row, a GQA group at a time. A draft being verified
// takes the single-token choice row by row, so its logits are those of one-token-at-a-time decoding,
// bit for bit, as are those of sequences decoded together (one row each).

import CKernels

extension ForwardPass {
    /// scratch.heads = softmax(q·Kᵀ · scale) · V for every query head of every row, reading
    /// scratch.queries and the cache of layer `l` (which already holds this batch's keys and values).
    func attend(layer l: Int, _ seq: SequenceRows) {
        let n = seq.rows.count
        if n >= Int(SK_ATTENTION_TILE) && seq.cache.type == .f16 {
            attendTiled(layer: l, seq)
            return
        }
        // rows are in position order: the long-context ones (if any) are the last
        var short = n
        if scratch.threads > 1 && (n == 1 || seq.asSingleTokens) {
            while short > 0 && splitsKV(layer: l, seq, position: seq.start + short - 1) { short -= 1 }
        }
        if short > 0 { attendPerGroup(layer: l, seq, rows: short) }
        for i in short..<n { attendSplitKV(layer: l, seq, row: i) }
    }

    /// Whether a single query at `position` spans enough cached positions to split them over threads.
    private func splitsKV(layer l: Int, _ seq: SequenceRows, position p: Int) -> Bool {
        p + 1 - seq.cache.oldestVisible(layer: l, from: p) >= 512
    }

    /// Gemma 2's cap on attention scores; 0 (none) for every other model.
    private var softcap: Float { config.attentionLogitSoftcap ?? 0 }

    /// Tiles of up to SK_ATTENTION_TILE rows of one head per work item.
    private func attendTiled(layer l: Int, _ seq: SequenceRows) {
        let c = config, s = scratch, n = seq.rows.count, hd = c.headDim, cache = seq.cache, start = seq.start
        let (queries, heads) = (s.queries + seq.rows.lowerBound * c.qDim, s.heads + seq.rows.lowerBound * c.qDim)
        let tile = Int(SK_ATTENTION_TILE)
        let window = cache.kernelWindow(layer: l)
        let items = (n + tile - 1) / tile * c.headCount
        pool.run { thread, total in
            let work = s.attentionWork + thread * s.attentionWorkFloats
            let segs = s.segments + thread * 4
            var item = thread
            while item < items {
                let h = item % c.headCount
                let r0 = (item / c.headCount) * tile
                let count = min(tile, n - r0)
                let nsegs = cache.segments(layer: l, kvHead: h / c.groupSize, from: cache.oldestVisible(layer: l, from: start + r0),
                                           to: start + r0 + count, rows: n, start: start, into: segs)
                sk_attention_tiled(queries + r0 * c.qDim + h * hd, Int64(c.qDim), Int64(count), Int64(start + r0), Int64(hd),
                                   c.attentionScale, softcap, Int64(window), segs, Int64(nsegs),
                                   heads + r0 * c.qDim + h * hd, Int64(c.qDim), work)
                item += total
            }
        }
    }

    /// One row (of `seq`'s) over a long context: the positions are cut into one chunk per pool thread
    /// (all of them, so the result does not depend on how many run now); each running thread takes
    /// chunks for every head; the partial results are merged.
    private func attendSplitKV(layer l: Int, _ seq: SequenceRows, row i: Int) {
        let c = config, s = scratch, hd = c.headDim, stride = s.partialStride, cache = seq.cache
        let p = seq.start + i
        let (query, heads) = (s.queries + (seq.rows.lowerBound + i) * c.qDim, s.heads + (seq.rows.lowerBound + i) * c.qDim)
        let lo = cache.oldestVisible(layer: l, from: p)
        let parts = s.threads
        let chunk = (p + 1 - lo + parts - 1) / parts
        let partial = cache.type == .f16 ? sk_attention_partial_f16 : sk_attention_partial_q8_0
        pool.run { thread, total in
            let work = s.attentionWork + thread * s.attentionWorkFloats
            let segs = s.segments + thread * 4
            for part in Swift.stride(from: thread, to: parts, by: total) {
                let a = lo + part * chunk, b = min(p + 1, a + chunk)
                for kvh in 0..<c.kvHeadCount {
                    let h0 = kvh * c.groupSize
                    let nsegs = cache.segments(layer: l, kvHead: kvh, from: lo, to: p + 1, rows: seq.rows.count,
                                               start: seq.start, into: segs)
                    partial(query + h0 * hd, Int64(c.groupSize), Int64(hd), c.attentionScale, softcap, segs, Int64(nsegs),
                            Int64(a), Int64(max(a, b)), s.attentionPartials + (h0 * parts + part) * stride,
                            Int64(parts * stride), work)
                }
            }
        }
        for h in 0..<c.headCount {
            sk_attention_merge(s.attentionPartials + h * parts * stride, Int64(parts), Int64(stride), Int64(hd),
                               heads + h * hd)
        }
    }

    /// The first `n` rows of `seq`: a GQA group per work item (each key read once per group), or
    /// single heads when there would be too few items to keep the threads busy.
    private func attendPerGroup(layer l: Int, _ seq: SequenceRows, rows n: Int) {
        let c = config, s = scratch, hd = c.headDim, stride = s.partialStride, cache = seq.cache, start = seq.start
        let headsPerItem = n * c.kvHeadCount >= 2 * scratch.threads ? c.groupSize : 1
        let (queries, heads) = (s.queries + seq.rows.lowerBound * c.qDim, s.heads + seq.rows.lowerBound * c.qDim)
        let itemsPerRow = c.headCount / headsPerItem
        let items = n * itemsPerRow
        let partial = cache.type == .f16 ? sk_attention_partial_f16 : sk_attention_partial_q8_0
        pool.run { thread, total in
            let work = s.attentionWork + thread * s.attentionWorkFloats
            let segs = s.segments + thread * 4
            let partials = s.attentionPartials + thread * c.groupSize * stride
            var item = thread
            while item < items {
                let i = item / itemsPerRow
                let h0 = (item % itemsPerRow) * headsPerItem
                let pos = start + i
                let oldest = cache.oldestVisible(layer: l, from: pos)
                let nsegs = cache.segments(layer: l, kvHead: h0 / c.groupSize, from: oldest, to: pos + 1,
                                           rows: seq.rows.count, start: start, into: segs)
                partial(queries + i * c.qDim + h0 * hd, Int64(headsPerItem), Int64(hd), c.attentionScale, softcap, segs,
                        Int64(nsegs),
                        Int64(oldest), Int64(pos + 1), partials, Int64(stride), work)
                for j in 0..<headsPerItem {
                    sk_attention_merge(partials + j * stride, 1, Int64(stride), Int64(hd), heads + i * c.qDim + (h0 + j) * hd)
                }
                item += total
            }
        }
    }
}
