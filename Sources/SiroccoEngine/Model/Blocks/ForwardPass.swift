// ForwardPass: one forward call over a batch of tokens — its size and first position, the cache,
// the scratch buffers and the multiplier. The shared blocks (norms, RoPE, attention, feed-forward,
// the output head) are its methods, one file each, so an architecture's forward pass reads as the
// list of blocks it composes (llama.cpp's llm_graph_context with build_norm / build_attn / build_ffn).

import CKernels
import Foundation

/// The state of one forward call; architectures call its blocks in their order.
struct ForwardPass {
    let config: ModelConfig
    /// The batch's token ids.
    let tokens: UnsafeBufferPointer<TokenID>
    /// The position of the first token (the cache held `start` positions before the call).
    let start: Int
    let cache: KVCache
    let scratch: ForwardScratch
    let mm: MatrixMultiplier
    /// Where the logits go: [vocab] for the last token, or [n, vocab] when `allLogits`.
    let logits: UnsafeMutablePointer<Float>
    let allLogits: Bool

    /// Tokens in the batch.
    var rows: Int { tokens.count }
    var pool: ThreadPool { mm.pool }

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

    /// The final norm and the output projection into `logits`: the last row only, or every row.
    func outputLogits(norm: Norm, output: WeightMatrix, softcap: Float? = nil) {
        let dim = config.embeddingLength
        let first = allLogits ? 0 : rows - 1
        let n = rows - first
        norm.apply(scratch.residual + first * dim, into: scratch.normed, rows: n)
        mm.multiply(output, scratch.normed, rows: n, into: logits, outStride: config.vocabularySize)
        if let cap = softcap {  // Gemma 2: cap · tanh(logit / cap), as ggml scales, tanh, scales
            let inverse = 1 / cap
            for i in 0..<n * config.vocabularySize { logits[i] = tanhf(logits[i] * inverse) * cap }
        }
    }
}
