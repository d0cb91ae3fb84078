// ForwardPass: one forward call over a batch of tokens — which sequences its rows continue (each
// with its cache and first position), the scratch buffers and the multiplier. The shared blocks (norms, RoPE, attention, feed-forward,
// the output head) are its methods, one file each, so an architecture's forward pass reads as the
// list of blocks it composes (llama.cpp's llm_graph_context with build_norm / build_attn / build_ffn).

import CKernels
import Foundation

/// Consecutive rows of a batch that continue one sequence: its cache, which held `start` positions
/// before the call, and the batch rows that follow them.
struct SequenceRows {
    let cache: KVCache
    let start: Int
    let rows: Range<Int>
    /// Whether each row is computed exactly as the same token evaluated alone would be (a draft
    /// being verified), rather than as a prompt batch (as llama.cpp computes one).
    var asSingleTokens = false
}

/// The state of one forward call; architectures call its blocks in their order.
struct ForwardPass {
    let config: ModelConfig
    /// The batch's token ids.
    let tokens: UnsafeBufferPointer<TokenID>
    /// The sequences the rows continue, in row order, covering every row: one for a prompt or a
    /// token of one conversation, several when sequences of one model are decoded together.
    let sequences: [SequenceRows]
    let scratch: ForwardScratch
    let mm: MatrixMultiplier
    /// Where the logits go: [logitRows.count, vocab].
    let logits: UnsafeMutablePointer<Float>
    /// The rows whose logits are computed, ascending.
    let logitRows: [Int]

    /// Tokens in the batch.
    var rows: Int { tokens.count }
    var pool: ThreadPool { mm.pool }

    /// The position of batch row `i` in its sequence.
    func position(ofRow i: Int) -> Int {
        for s in sequences where s.rows.contains(i) { return s.start + i - s.rows.lowerBound }
        preconditionFailure("row \(i) belongs to no sequence")
    }

    /// Runs `body` over slices of a prompt batch's rows on the pool's threads; a few rows (one
    /// generated token) stay on this thread, where a dispatch would cost more than it saves.
    func eachRows(of n: Int? = nil, _ body: (Range<Int>) -> Void) {
        let n = n ?? rows
        if n < 8 { body(0..<n) } else { pool.parallelFor(n, body) }
    }

    // MARK: embedding, residual, output head

    /// The residual stream starts as each token's embedding row (times `scale`: Gemma's √d).
    func embed(_ table: WeightMatrix, scale: Float? = nil) {
        let dim = config.embeddingLength
        let x = scratch.residual
        for (i, token) in tokens.enumerated() {
            table.dequantizeRow(Int(token), into: x + i * dim)
        }
        if let scale {
            for j in 0..<rows * dim { x[j] *= scale }
        }
    }

    /// residual += `y` ([batch, dim]).
    func addToResidual(_ y: UnsafePointer<Float>) { add(y, into: scratch.residual) }

    /// x += y ([batch, dim] each).
    func add(_ y: UnsafePointer<Float>, into x: UnsafeMutablePointer<Float>) {
        let dim = config.embeddingLength
        eachRows { r in
            for i in r.lowerBound * dim..<r.upperBound * dim { x[i] += y[i] }
        }
    }

    /// The final norm and the output projection of `logitRows` into `logits`.
    func outputLogits(norm: Norm, output: WeightMatrix, softcap: Float? = nil) {
        let dim = config.embeddingLength
        let n = logitRows.count
        if let first = logitRows.first, logitRows.last == first + n - 1 {
            norm.apply(scratch.residual + first * dim, into: scratch.normed, rows: n)
        } else {
            for (i, r) in logitRows.enumerated() {
                norm.apply(scratch.residual + r * dim, into: scratch.normed + i * dim, rows: 1)
            }
        }
        mm.multiply(output, scratch.normed, rows: n, into: logits, outStride: config.vocabularySize)
        if let cap = softcap {  // Gemma 2: cap · tanh(logit / cap), as ggml scales, tanh, scales
            let inverse = 1 / cap
            for i in 0..<n * config.vocabularySize { logits[i] = tanhf(logits[i] * inverse) * cap }
        }
    }
}
