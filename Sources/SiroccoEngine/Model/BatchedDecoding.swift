// BatchedDecoding: several sequences of one model advanced by one forward call. Generation on a
// CPU is bound by reading the weights; a call over a few rows reads them once, so sequences decoded
// together (panes comparing settings, a server's concurrent requests) cost about one. Each
// sequence keeps its own cache, tokens, sampler and settings; its rows attend only to its cache and
// are computed as they would be alone (see Attend), so its logits are those of decoding it alone.

import Foundation

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
        return try run(steps, on: leader.runner)
    }

    /// Checks `steps` and runs them on `runner`, as many whole steps a call as its batch holds.
    static func run(_ steps: [SequenceStep], on runner: ForwardRunner) throws -> [[Float]] {
        for (i, step) in steps.enumerated() {
            precondition(step.context.model === runner.model, "sequences decoded together must share one Model")
            precondition(!steps[..<i].contains { $0.context === step.context }, "a context appears twice in one step")
            precondition(!step.tokens.isEmpty && step.tokens.count <= min(runner.maxBatch, step.context.batchSize))
            try step.context.checkFits(step.tokens)
        }
        let vocab = runner.model.config.vocabularySize
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
            let logits = runner.logitsBlock(rows: group.count)
            batch.withUnsafeBufferPointer { tokens in
                runner.run(tokens, sequences: sequences, logitRows: logitRows, logits: logits)
            }
            for (i, step) in group.enumerated() {
                results.append(step.context.received(step.tokens, logits: logits + i * vocab))
                step.context.sharedSteps.steps += 1
                step.context.sharedSteps.sequences += group.count
            }
            first = end
        }
        return results
    }
}

/// Sequences of one model that generate at the same time from their own threads (panes comparing
/// settings), decoded together: each thread hands its next tokens to `evaluate`, which returns once
/// a forward call that included them has run on the batcher's threads. A step waits for every
/// sequence taking part (`join` … `leave`) to hand its tokens over, or a few milliseconds for
/// one that is late; a context with a batcher runs every forward call through it.
public final class SequenceBatcher: @unchecked Sendable {
    public let model: Model
    let runner: ForwardRunner
    private let condition = NSCondition()
    private var members = 0
    private var waiting: [Request] = []
    private var stepping = false
    /// When the last step ended: the sequences it served come back together soon after.
    private var lastStepEnd: UInt64 = 0
    /// Steps run so far, and the sequences' requests they served (their ratio: sequences a step).
    public var steps: Int { condition.withLock { stepCount } }
    public var requestsServed: Int { condition.withLock { servedCount } }
    private var stepCount = 0, servedCount = 0
    /// How long a step waits for a sequence taking part that has not handed its tokens over yet
    /// (it may be sampling, or showing the last token), from the first request or the end of the
    /// last step, whichever is later: else sequences that sample at different speeds fall out of
    /// step and take turns, one row a call.
    static let lateness: UInt64 = 5_000_000

    private final class Request {
        let step: SequenceStep
        let arrived = monotonicNanoseconds()
        var result: Result<[Float], Error>?
        init(_ step: SequenceStep) { self.step = step }
    }

    /// A batcher running on `threads` threads, for batches of up to `maxBatch` rows (a context's
    /// default batch size: its scratch buffers are those of one context).
    public init(model: Model, threads: Int, maxBatch: Int = 256) {
        model.prepareForInference()
        self.model = model
        runner = ForwardRunner(model: model, maxBatch: maxBatch, threads: threads)
    }

    public var threadCount: Int { runner.pool.threadCount }

    /// A sequence starts generating: steps wait for its tokens from now on.
    public func join() {
        condition.lock()
        members += 1
        condition.unlock()
    }

    /// A sequence stops generating.
    public func leave() {
        condition.lock()
        members -= 1
        condition.broadcast()
        condition.unlock()
    }

    /// Evaluates `tokens` after `context`'s cached positions, in a step with whatever other
    /// sequences hand over, and returns the logits of the last.
    func evaluate(_ context: InferenceContext, _ tokens: [TokenID]) throws -> [Float] {
        let request = Request(SequenceStep(context, tokens))
        condition.lock()
        defer { condition.unlock() }
        waiting.append(request)
        condition.broadcast()
        while request.result == nil {
            let oldest = max(waiting.first?.arrived ?? 0, lastStepEnd)
            let due = waiting.count >= max(1, members) || monotonicNanoseconds() &- oldest >= Self.lateness
            if !stepping && !waiting.isEmpty && due {
                stepping = true
                let batch = waiting
                waiting = []
                condition.unlock()
                let outcome = Result { try InferenceContext.run(batch.map(\.step), on: runner) }
                condition.lock()
                switch outcome {
                case let .success(logits): for (r, l) in zip(batch, logits) { r.result = .success(l) }
                case let .failure(error): for r in batch { r.result = .failure(error) }
                }
                stepping = false
                lastStepEnd = monotonicNanoseconds()
                stepCount += 1
                servedCount += batch.count
                condition.broadcast()
            } else {
                let left = Self.lateness &- min(Self.lateness, monotonicNanoseconds() &- oldest)
                _ = condition.wait(until: Date(timeIntervalSinceNow: stepping || waiting.isEmpty ? 0.05 : Double(max(left, 100_000)) / 1e9))
            }
        }
        return try request.result!.get()
    }
}
