// ForwardRunner: what runs forward calls of one model — the worker threads, the scratch buffers,
// the multiplier and the controller that picks how many threads a call runs on. A context owns
// one; sequences decoded together run on one (see InferenceContext.evaluate(together:)).

import Foundation

/// Runs forward calls of `model` over batches of up to `maxBatch` rows. One caller at a time.
final class ForwardRunner {
    let model: Model
    let pool: ThreadPool
    let scratch: ForwardScratch
    let multiplier: MatrixMultiplier
    /// Picks how many of the pool's threads each forward call runs on (see ThreadWidthController).
    private var widthController: ThreadWidthController
    /// When the last forward call ended (a longer pause than a second restarts the controller's trials).
    private var lastCallEnd: UInt64 = 0
    /// Whether the thread count adapts to a busy machine; off, every call runs on all threads.
    var adaptsThreadCount = true {
        didSet {
            if !adaptsThreadCount { pool.width = pool.threadCount }
            pool.disarmFallback()
        }
    }
    /// One-row forward calls (a generated token) so far, and the threads they ran on.
    private(set) var singleTokenCalls = 0
    private(set) var singleTokenThreads = 0

    init(model: Model, maxBatch: Int, threads: Int) {
        let c = model.config
        self.model = model
        pool = ThreadPool(threadCount: threads)
        widthController = ThreadWidthController(maxWidth: pool.threadCount)
        scratch = ForwardScratch(config: c, maxBatch: maxBatch, threads: pool.threadCount)
        multiplier = MatrixMultiplier(pool: pool, maxRows: maxBatch,
                                      maxCols: max(c.embeddingLength, c.feedForwardLength, c.qDim))
    }

    var maxBatch: Int { scratch.maxBatch }

    /// Logits rows for calls whose caller copies them out before the next call (sequences
    /// decoded together), kept between calls: a step allocates nothing this size.
    private var logitsRows: UnsafeMutablePointer<Float>?
    private var logitsRowCapacity = 0

    /// Room for `rows` rows of logits, valid until the next call asks for more.
    func logitsBlock(rows: Int) -> UnsafeMutablePointer<Float> {
        if rows > logitsRowCapacity {
            logitsRows?.deallocate()
            logitsRowCapacity = max(rows, 2 * logitsRowCapacity)
            logitsRows = .allocate(capacity: logitsRowCapacity * model.config.vocabularySize)
        }
        return logitsRows!
    }

    deinit { logitsRows?.deallocate() }

    /// Runs `tokens` (rows split among `sequences`, each cache holding `start` positions) through the
    /// network and writes the logits of `logitRows` to `logits`; each cache then holds its new rows.
    func run(_ tokens: UnsafeBufferPointer<TokenID>, sequences: [SequenceRows], logitRows: [Int],
             logits: UnsafeMutablePointer<Float>) {
        precondition(!tokens.isEmpty && tokens.count <= scratch.maxBatch)
        precondition(sequences.allSatisfy { $0.cache.count == $0.start && $0.start + $0.rows.count <= $0.cache.capacity })
        // the controller compares token times, so only one-row calls feed it; steps of several
        // sequences cost more a call and run at the settled width, as prompt batches do
        let single = tokens.count == 1
        if adaptsThreadCount { chooseWidth(single: single) }
        if single {
            singleTokenCalls += 1
            singleTokenThreads += pool.width
        }
        let t0 = monotonicNanoseconds(), waited0 = pool.waitedNanoseconds
        model.network.forward(ForwardPass(config: model.config, tokens: tokens, sequences: sequences, scratch: scratch,
                                          mm: multiplier, logits: logits, logitRows: logitRows))
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
        for s in sequences { s.cache.count += s.rows.count }
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
}
