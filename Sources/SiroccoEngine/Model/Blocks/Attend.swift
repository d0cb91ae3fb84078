// Attend: causal (and, for windowed layers, sliding-window) attention of the batch's queries over
// the cache, computed the way ggml's CPU flash attention does (see CKernels/Attention.h). One call;
// the choice of kernel is made here: prompt batches of SK_ATTENTION_TILE rows or more in tiles of
// rows per head (F16 cache); one token over 512 or more positions split into one chunk of positions
// per thread (split-KV); anything else row by row, a GQA group at a time.

import CKernels

extension ForwardPass {
    /// scratch.heads = softmax(q·Kᵀ · scale) · V for every query head of every row, reading
    /// scratch.queries and the cache of layer `l` (which already holds this batch's keys and values).
    func attend(layer l: Int) {
        let c = config
        let n = rows
        let p = start + n - 1
        if n >= Int(SK_ATTENTION_TILE) && cache.type == .f16 {
            attendTiled(layer: l)
        } else if n == 1 && p + 1 - cache.oldestVisible(layer: l, from: p) >= 512 && scratch.threads > 1 {
            attendSplitKV(layer: l)
        } else {
            attendPerGroup(layer: l, headsPerItem: n * c.kvHeadCount >= 2 * scratch.threads ? c.groupSize : 1)
        }
    }

    /// Gemma 2's cap on attention scores; 0 (none) for every other model.
    private var softcap: Float { config.attentionLogitSoftcap ?? 0 }

    /// Tiles of up to SK_ATTENTION_TILE rows of one head per work item.
    private func attendTiled(layer l: Int) {
        let c = config, s = scratch, n = rows, hd = c.headDim
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
                sk_attention_tiled(s.queries + r0 * c.qDim + h * hd, Int64(c.qDim), Int64(count), Int64(start + r0), Int64(hd),
                                   c.attentionScale, softcap, Int64(window), segs, Int64(nsegs),
                                   s.heads + r0 * c.qDim + h * hd, Int64(c.qDim), work)
                item += total
            }
        }
    }

    /// One token over a long context: the positions are cut into one chunk per pool thread (all of
    /// them, so the result does not depend on how many run now); each running thread takes chunks
    /// for every head; the partial results are merged.
    private func attendSplitKV(layer l: Int) {
        let c = config, s = scratch, hd = c.headDim, stride = s.partialStride
        let p = start
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
                    let nsegs = cache.segments(layer: l, kvHead: kvh, from: lo, to: p + 1, rows: 1, start: start, into: segs)
                    partial(s.queries + h0 * hd, Int64(c.groupSize), Int64(hd), c.attentionScale, softcap, segs, Int64(nsegs),
                            Int64(a), Int64(max(a, b)), s.attentionPartials + (h0 * parts + part) * stride,
                            Int64(parts * stride), work)
                }
            }
        }
        for h in 0..<c.headCount {
            sk_attention_merge(s.attentionPartials + h * parts * stride, Int64(parts), Int64(stride), Int64(hd),
                               s.heads + h * hd)
        }
    }

    /// A GQA group per work item (each key read once per group), or single heads when there would be
    /// too few items to keep the threads busy.
    private func attendPerGroup(layer l: Int, headsPerItem: Int) {
        let c = config, s = scratch, n = rows, hd = c.headDim, stride = s.partialStride
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
                let nsegs = cache.segments(layer: l, kvHead: h0 / c.groupSize, from: oldest, to: pos + 1, rows: n,
                                           start: start, into: segs)
                partial(s.queries + i * c.qDim + h0 * hd, Int64(headsPerItem), Int64(hd), c.attentionScale, softcap, segs,
                        Int64(nsegs),
                        Int64(oldest), Int64(pos + 1), partials, Int64(stride), work)
                for j in 0..<headsPerItem {
                    sk_attention_merge(partials + j * stride, 1, Int64(stride), Int64(hd), s.heads + i * c.qDim + (h0 + j) * hd)
                }
                item += total
            }
        }
    }
}
