// InferenceContext: one sequence being evaluated — KV cache, scratch buffers and worker threads.

import Foundation

/// Evaluates tokens of one sequence against a Model and hands back logits.
/// Not thread-safe: one caller at a time (a generation loop).
public final class InferenceContext: @unchecked Sendable {
    public let model: Model
    public let cache: KVCache
    public let contextLength: Int
    /// Tokens evaluated in one forward call (longer inputs are split into batches of this size).
    public let batchSize: Int
    /// This context's threads and scratch buffers, made on first use: a context decoded on a
    /// batcher runs its calls on the batcher's and may never need its own.
    private(set) lazy var runner = ForwardRunner(model: model, maxBatch: batchSize, threads: runnerThreads)
    private let runnerThreads: Int
    /// Two logits buffers used in turn: the array a caller holds from the last call is not the one
    /// the next call writes, so the next write needs no copy (copy-on-write would copy a buffer
    /// still referenced — 1 MB per token for a 262k vocabulary).
    private var logitsBuffers: [[Float]]
    private var current = 0
    /// Whether the thread count adapts to a busy machine (on by default); off, every call runs on
    /// all `threadCount` threads. With a batcher, this is the batcher's setting, for all its contexts.
    public var adaptsThreadCount: Bool {
        get { (batcher?.runner ?? runner).adaptsThreadCount }
        set { (batcher?.runner ?? runner).adaptsThreadCount = newValue }
    }
    /// Decodes this sequence together with others of the same model (see SequenceBatcher): every
    /// `evaluate` goes through it. Set before use, not while a call runs.
    public var batcher: SequenceBatcher? {
        didSet { precondition(batcher.map { $0.model === model } ?? true, "a batcher of another model") }
    }
    /// Forward calls this context's tokens took part in with other contexts' (see
    /// `evaluate(together:)`), and the sequences in them in all.
    public internal(set) var sharedSteps = (steps: 0, sequences: 0)
    /// The tokens whose keys and values the cache holds, in order.
    public internal(set) var tokens: [TokenID] = []

    /// A context with llama.cpp's default F16 cache.
    public convenience init(model: Model, contextLength: Int = 4096, batchSize: Int = 256,
                            threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.init(model: model, contextLength: contextLength, batchSize: batchSize, threads: threads, validCacheType: .f16)
    }

    /// A context whose cache stores keys and values as `cacheType`; throws when the model's head size
    /// does not fit that type.
    public convenience init(model: Model, contextLength: Int = 4096, batchSize: Int = 256,
                            threads: Int = ProcessInfo.processInfo.activeProcessorCount, cacheType: KVCacheType) throws {
        guard cacheType.supports(headDim: model.config.headDim) else {
            throw ModelError.unsupportedCacheType(cacheType.rawValue, headDim: model.config.headDim)
        }
        self.init(model: model, contextLength: contextLength, batchSize: batchSize, threads: threads, validCacheType: cacheType)
    }

    private init(model: Model, contextLength: Int, batchSize: Int, threads: Int, validCacheType: KVCacheType) {
        let c = model.config
        model.prepareForInference()
        self.model = model
        self.contextLength = max(1, contextLength)
        self.batchSize = max(1, min(batchSize, self.contextLength))
        runnerThreads = threads
        cache = KVCache(layerCount: c.layerCount, kvHeadCount: c.kvHeadCount, headDim: c.headDim,
                        capacity: self.contextLength, windows: c.layerWindows, type: validCacheType,
                        batchCapacity: self.batchSize)
        logitsBuffers = [[Float]](repeating: [Float](repeating: 0, count: c.vocabularySize), count: 2)
    }

    var pool: ThreadPool { runner.pool }
    /// The threads this context's forward calls run on (its batcher's, when it has one).
    public var threadCount: Int { batcher?.threadCount ?? pool.threadCount }
    /// One-token forward calls (generated tokens) so far, and the threads they ran on in all: how
    /// far a busy machine narrowed generation (their ratio is the mean width).
    public var singleTokenCalls: Int { runner.singleTokenCalls }
    public var singleTokenThreads: Int { runner.singleTokenThreads }
    /// Positions held in the KV cache.
    public var position: Int { cache.count }

    /// Evaluates `newTokens` after those already cached and returns the logits of the last one.
    @discardableResult
    public func evaluate(_ newTokens: [TokenID]) throws -> [Float] {
        guard !newTokens.isEmpty else { return logitsBuffers[current] }
        try checkFits(newTokens)
        if let batcher {
            var last: [Float] = []
            for start in stride(from: 0, to: newTokens.count, by: min(batchSize, batcher.runner.maxBatch)) {
                last = try batcher.evaluate(self, Array(newTokens[start..<min(newTokens.count, start + min(batchSize, batcher.runner.maxBatch))]))
            }
            return last
        }
        current ^= 1
        var offset = 0
        while offset < newTokens.count {
            let end = min(newTokens.count, offset + batchSize)
            newTokens[offset..<end].withUnsafeBufferPointer { batch in
                logitsBuffers[current].withUnsafeMutableBufferPointer { logits in
                    forward(batch, logits: logits.baseAddress!, allLogits: false)
                }
            }
            offset = end
        }
        tokens.append(contentsOf: newTokens)
        return logitsBuffers[current]
    }

    /// Evaluates `newTokens` and returns the logits of every one of them ([n][vocab]).
    public func evaluateAll(_ newTokens: [TokenID]) throws -> [[Float]] {
        try checkFits(newTokens)
        let vocab = model.config.vocabularySize
        var result: [[Float]] = []
        var offset = 0
        while offset < newTokens.count {
            let end = min(newTokens.count, offset + batchSize)
            var block = [Float](repeating: 0, count: (end - offset) * vocab)
            newTokens[offset..<end].withUnsafeBufferPointer { batch in
                block.withUnsafeMutableBufferPointer { logits in
                    forward(batch, logits: logits.baseAddress!, allLogits: true)
                }
            }
            for r in 0..<(end - offset) { result.append(Array(block[r * vocab..<(r + 1) * vocab])) }
            offset = end
        }
        tokens.append(contentsOf: newTokens)
        if let last = result.last { logitsBuffers[current] = last }
        return result
    }

    /// Evaluates `newTokens` (at most `batchSize`) in one forward call and returns the logits of
    /// each, bit for bit those of evaluating them one at a time: how a draft is verified.
    public func evaluateEach(_ newTokens: [TokenID]) throws -> [[Float]] {
        guard !newTokens.isEmpty else { return [] }
        precondition(newTokens.count <= batchSize, "a draft longer than the batch size")
        try checkFits(newTokens)
        let vocab = model.config.vocabularySize
        let block = runner.logitsBlock(rows: newTokens.count)
        newTokens.withUnsafeBufferPointer { batch in
            runner.run(batch, sequences: [SequenceRows(cache: cache, start: cache.count, rows: 0..<batch.count, asSingleTokens: true)],
                       logitRows: Array(0..<batch.count), logits: block)
        }
        tokens.append(contentsOf: newTokens)
        let result = (0..<newTokens.count).map { r in Array(UnsafeBufferPointer(start: block + r * vocab, count: vocab)) }
        logitsBuffers[current] = result[result.count - 1]
        return result
    }

    /// Throws unless `newTokens` are valid ids that fit after the cached positions.
    func checkFits(_ newTokens: [TokenID]) throws {
        guard cache.count + newTokens.count <= contextLength else {
            throw ModelError.contextFull(needed: cache.count + newTokens.count, capacity: contextLength)
        }
        let vocab = model.config.vocabularySize
        for t in newTokens where t < 0 || Int(t) >= vocab {
            throw ModelError.invalidToken(id: Int(t), vocabularySize: vocab)
        }
    }

    /// Takes the logits of its last token from a forward call run for several sequences, and the
    /// tokens that call added to its cache; returns the logits.
    func received(_ newTokens: [TokenID], logits: UnsafePointer<Float>) -> [Float] {
        current ^= 1
        let vocab = model.config.vocabularySize
        logitsBuffers[current].withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: logits, count: vocab) }
        tokens.append(contentsOf: newTokens)
        return logitsBuffers[current]
    }

    /// Runs one batch (at most `batchSize` tokens) through the network after the cached positions.
    private func forward(_ batch: UnsafeBufferPointer<TokenID>, logits: UnsafeMutablePointer<Float>, allLogits: Bool) {
        runner.run(batch, sequences: [SequenceRows(cache: cache, start: cache.count, rows: 0..<batch.count)],
                   logitRows: allLogits ? Array(0..<batch.count) : [batch.count - 1], logits: logits)
    }

    /// Keeps only the first `count` cached tokens (the prefix shared with the next prompt).
    public func truncate(to count: Int) {
        let keep = cache.truncate(to: max(0, min(count, tokens.count)))
        tokens.removeSubrange(keep...)
    }

    /// Empties the cache.
    public func reset() { truncate(to: 0) }

    /// Length of the common prefix of the cached tokens and `other`.
    public func sharedPrefixLength(with other: [TokenID]) -> Int {
        var i = 0
        while i < tokens.count && i < other.count && tokens[i] == other[i] { i += 1 }
        return i
    }
}
