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
    let pool: ThreadPool
    let scratch: ForwardScratch
    let multiplier: MatrixMultiplier
    /// Two logits buffers used in turn: the array a caller holds from the last call is not the one
    /// the next call writes, so the next write needs no copy (copy-on-write would copy a buffer
    /// still referenced — 1 MB per token for a 262k vocabulary).
    private var logitsBuffers: [[Float]]
    private var current = 0
    /// Picks how many of the pool's threads each forward call runs on (see ThreadWidthController).
    private var widthController: ThreadWidthController
    /// When the last forward call ended (a longer pause than a second restarts the controller's trials).
    private var lastCallEnd: UInt64 = 0
    /// Whether the thread count adapts to a busy machine (on by default); off, every call runs on
    /// all `threadCount` threads.
    public var adaptsThreadCount = true {
        didSet {
            if !adaptsThreadCount { pool.width = pool.threadCount }
            pool.disarmFallback()
        }
    }
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
        pool = ThreadPool(threadCount: threads)
        widthController = ThreadWidthController(maxWidth: pool.threadCount)
        scratch = ForwardScratch(config: c, maxBatch: self.batchSize, threads: pool.threadCount)
        multiplier = MatrixMultiplier(pool: pool, maxRows: self.batchSize,
                                      maxCols: max(c.embeddingLength, c.feedForwardLength, c.qDim))
        cache = KVCache(layerCount: c.layerCount, kvHeadCount: c.kvHeadCount, headDim: c.headDim,
                        capacity: self.contextLength, windows: c.layerWindows, type: validCacheType,
                        batchCapacity: self.batchSize)
        logitsBuffers = [[Float]](repeating: [Float](repeating: 0, count: c.vocabularySize), count: 2)
    }

    public var threadCount: Int { pool.threadCount }
    /// One-token forward calls (generated tokens) so far, and the threads they ran on in all: how
    /// far a busy machine narrowed generation (their ratio is the mean width).
    public private(set) var singleTokenCalls = 0
    public private(set) var singleTokenThreads = 0
    /// Positions held in the KV cache.
    public var position: Int { cache.count }

    /// Evaluates `newTokens` after those already cached and returns the logits of the last one.
    @discardableResult
    public func evaluate(_ newTokens: [TokenID]) throws -> [Float] {
        guard !newTokens.isEmpty else { return logitsBuffers[current] }
        guard cache.count + newTokens.count <= contextLength else {
            throw ModelError.contextFull(needed: cache.count + newTokens.count, capacity: contextLength)
        }
        let vocab = model.config.vocabularySize
        for t in newTokens where t < 0 || Int(t) >= vocab {
            throw ModelError.invalidToken(id: Int(t), vocabularySize: vocab)
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
        guard cache.count + newTokens.count <= contextLength else {
            throw ModelError.contextFull(needed: cache.count + newTokens.count, capacity: contextLength)
        }
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

    /// Runs one batch (at most `batchSize` tokens) through the network after the cached positions.
    private func forward(_ batch: UnsafeBufferPointer<TokenID>, logits: UnsafeMutablePointer<Float>, allLogits: Bool) {
        precondition(!batch.isEmpty && batch.count <= scratch.maxBatch && cache.count + batch.count <= cache.capacity)
        let single = batch.count == 1
        if adaptsThreadCount { chooseWidth(single: single) }
        if single {
            singleTokenCalls += 1
            singleTokenThreads += pool.width
        }
        let t0 = monotonicNanoseconds(), waited0 = pool.waitedNanoseconds
        model.network.forward(ForwardPass(config: model.config, tokens: batch, start: cache.count, cache: cache,
                                          scratch: scratch, mm: multiplier, logits: logits, allLogits: allLogits))
        if adaptsThreadCount {
            let seconds = Double(monotonicNanoseconds() - t0) / 1e9
            let waited = Double(pool.waitedNanoseconds - waited0) / 1e9
            if single {
                widthController.record(seconds: seconds, waited: waited, abandoned: pool.fellBack)
            } else {
                widthController.recordBatch(seconds: seconds, waited: waited)
            }
            lastCallEnd = monotonicNanoseconds()
        }
        cache.count += batch.count
    }

    /// Sets the pool's width for the next call: a generated token runs at the controller's width
    /// (with a fallback armed while a wider one is on trial), a prompt batch at the settled one:
    /// the best guess at hand (Qwen2.5-0.5B's prompt on 2 cores ran 14% faster on one thread than
    /// on two beside one busy process, 25% slower beside two).
    private func chooseWidth(single: Bool) {
        if monotonicNanoseconds() &- lastCallEnd > 1_000_000_000 { widthController.resume() }
        pool.width = single ? widthController.width : widthController.settled
        if single, let budget = widthController.waitBudget {
            pool.fallBack(to: widthController.settled, afterWaiting: UInt64(budget * 1e9))
        } else {
            pool.disarmFallback()
        }
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
