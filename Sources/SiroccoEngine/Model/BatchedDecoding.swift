// BatchedDecoding: several sequences of one model advanced by one forward call. Generation on a
// CPU is bound by reading the weights; a call over a few rows reads them once, so sequences decoded
// together (panes comparing settings, a server's concurrent requests) cost about one. Each
// sequence keeps its own cache, tokens, sampler and settings; its rows attend only to its cache and
// are computed as they would be alone (see Attend), so its logits are those of decoding it alone.

/// The next tokens of one sequence in a step decoded together with others.
public struct SequenceStep {
    public let context: InferenceContext
    public let tokens: [TokenID]

    public init(_ context: InferenceContext, _ tokens: [TokenID]) {
        self.context = context
        self.tokens = tokens
    }
}

extension InferenceContext {
    /// Evaluates each step's tokens after its context's cached positions, the steps together, and
    /// returns the logits of each step's last token, in order. The contexts must be distinct and
    /// share one Model; the calls run on the first context's threads (as many forward calls as its
    /// batch size needs).
    public static func evaluate(together steps: [SequenceStep]) throws -> [[Float]] {
        guard let leader = steps.first?.context else { return [] }
        for (i, step) in steps.enumerated() {
            precondition(step.context.model === leader.model, "sequences decoded together must share one Model")
            precondition(!steps[..<i].contains { $0.context === step.context }, "a context appears twice in one step")
            precondition(!step.tokens.isEmpty && step.tokens.count <= min(leader.batchSize, step.context.batchSize))
            try step.context.checkFits(step.tokens)
        }
        let runner = leader.runner
        let vocab = leader.model.config.vocabularySize
        var results: [[Float]] = []
        var first = 0
        while first < steps.count {
            // as many whole steps as fit in one call
            var end = first, rows = 0
            while end < steps.count && rows + steps[end].tokens.count <= runner.maxBatch {
                rows += steps[end].tokens.count
                end += 1
            }
            let group = steps[first..<end]
            var batch: [TokenID] = []
            var sequences: [SequenceRows] = []
            var logitRows: [Int] = []
            for step in group {
                let cache = step.context.cache
                sequences.append(SequenceRows(cache: cache, start: cache.count, rows: batch.count..<batch.count + step.tokens.count))
                batch += step.tokens
                logitRows.append(batch.count - 1)
            }
            var block = [Float](repeating: 0, count: group.count * vocab)
            batch.withUnsafeBufferPointer { tokens in
                block.withUnsafeMutableBufferPointer { logits in
                    runner.run(tokens, sequences: sequences, logitRows: logitRows, logits: logits.baseAddress!)
                }
            }
            block.withUnsafeBufferPointer { logits in
                for (i, step) in group.enumerated() {
                    results.append(step.context.received(step.tokens, logits: logits.baseAddress! + i * vocab))
                }
            }
            first = end
        }
        return results
    }
}
