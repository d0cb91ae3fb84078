// ModelScheduler: one model's generations in arrival order. Each served model owns one or more
// slots — an InferenceContext each, on a dedicated thread that runs the engine's blocking generate
// loop (never an event loop or the cooperative pool); events reach async handlers through
// AsyncStream. Slots of one model decode together on its SequenceBatcher, so concurrent requests
// share each pass over the weights. The queue is bounded (a full queue refuses at once) and
// strictly FIFO, so no request starves. `GenerationScheduler` is the seam another scheduler would
// replace.

import Foundation
import SiroccoEngine
import Synchronization

/// What a scheduler runs: prompt tokens and how to continue them.
struct GenerationRequest: Sendable {
    var prompt: [TokenID]
    var maxTokens: Int
    var settings: SamplerSettings
    var stopStrings: [String]
}

/// Where a job stood in its model's queue: its arrival and start numbers (1, 2, … per model) and
/// how long it waited.
struct QueueTiming: Sendable, Equatable {
    var arrival: Int
    var start: Int
    var waitSeconds: Double
}

/// What a job's stream yields, in order: started, text pieces, then finished or failed (and
/// `waiting`, a heartbeat a stream may add while the job is queued).
enum JobEvent: Sendable {
    case waiting
    case started(QueueTiming)
    case text(String)
    case finished(StopReason, GenerationStats)
    case failed(APIError)
}

/// Takes generation requests for one model and streams their events.
protocol GenerationScheduler: Sendable {
    /// Queues `request`; throws `APIError` (503) when the queue is full or the server stops.
    func submit(_ request: GenerationRequest) throws(APIError) -> GenerationJob
    /// Cancels every job and ends the thread.
    func shutdown()
}

/// One queued or running generation. Cancelling it (the client went away) drops it from the queue,
/// or stops its generation before the next token.
final class GenerationJob: Sendable {
    let request: GenerationRequest
    let arrival: Int
    let enqueued: ContinuousClock.Instant
    let events: AsyncStream<JobEvent>
    private let continuation: AsyncStream<JobEvent>.Continuation
    private let cancelled = Atomic<Bool>(false)
    private let started = Atomic<Bool>(false)
    private let onCancel: @Sendable (GenerationJob) -> Void

    init(request: GenerationRequest, arrival: Int, onCancel: @escaping @Sendable (GenerationJob) -> Void) {
        self.request = request
        self.arrival = arrival
        self.onCancel = onCancel
        enqueued = ContinuousClock.now
        (events, continuation) = AsyncStream.makeStream(of: JobEvent.self, bufferingPolicy: .unbounded)
    }

    var isCancelled: Bool { cancelled.load(ordering: .relaxed) }
    /// Whether its generation began (it left the queue).
    var hasStarted: Bool { started.load(ordering: .relaxed) }

    func cancel() {
        guard !cancelled.exchange(true, ordering: .relaxed) else { return }
        onCancel(self)
    }

    func yield(_ event: JobEvent) {
        if case .started = event { started.store(true, ordering: .relaxed) }
        continuation.yield(event)
    }
    func finish() { continuation.finish() }
}

/// The FIFO scheduler: a bounded queue in front of the slots of one model. Jobs start in arrival
/// order, each on a free slot whose cache its prompt continues (a conversation's next turn finds
/// its earlier turns there), else on the free slot used least recently.
final class FIFOScheduler: GenerationScheduler, @unchecked Sendable {
    let modelID: String
    /// Most jobs waiting (the running ones not counted); one more is refused with 503.
    let maxQueue: Int
    private let slots: [InferenceContext]
    // guarded by `condition`
    private let condition = NSCondition()
    private var pending: [GenerationJob] = []
    /// The job each slot runs, nil when free.
    private var running: [GenerationJob?]
    /// The start number of each slot's last job (0: none yet).
    private var lastStart: [Int]
    private var arrivals = 0
    private var starts = 0
    private var stopping = false
    /// Seconds the recent jobs ran (an exponential average), for Retry-After.
    private var meanJobSeconds = 1.0
    private var finished: [FinishedJob] = []

    /// How a job that ran ended.
    struct FinishedJob: Sendable, Equatable {
        var arrival: Int
        /// nil: it failed (or was cancelled before it started).
        var stop: StopReason?
        var generatedTokens: Int
    }

    /// A scheduler running jobs on `slots` (distinct contexts of one model), a thread each.
    init(modelID: String, slots: [InferenceContext], maxQueue: Int) {
        precondition(!slots.isEmpty)
        self.modelID = modelID
        self.slots = slots
        self.maxQueue = maxQueue
        running = Array(repeating: nil, count: slots.count)
        lastStart = Array(repeating: 0, count: slots.count)
        for slot in slots.indices {
            let thread = Thread { [self] in loop(slot: slot) }
            thread.name = slots.count == 1 ? "sirocco-serve \(modelID)" : "sirocco-serve \(modelID) \(slot + 1)"
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    func submit(_ request: GenerationRequest) throws(APIError) -> GenerationJob {
        condition.lock()
        defer { condition.unlock() }
        if stopping { throw .shuttingDown }
        guard pending.count < maxQueue else {
            let estimate = meanJobSeconds * Double(pending.count + 1) / Double(slots.count)
            throw .queueFull(model: modelID, limit: maxQueue, retryAfter: Int(min(60, max(1, estimate.rounded(.up)))))
        }
        arrivals += 1
        let job = GenerationJob(request: request, arrival: arrivals) { [weak self] job in self?.dropIfWaiting(job) }
        pending.append(job)
        condition.broadcast()
        return job
    }

    func shutdown() {
        condition.lock()
        stopping = true
        let waiting = pending
        pending.removeAll()
        let current = running.compactMap { $0 }
        condition.broadcast()
        condition.unlock()
        for job in waiting {
            job.yield(.failed(.shuttingDown))
            job.finish()
        }
        current.forEach { $0.cancel() }
    }

    /// Jobs waiting now.
    var waitingCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return pending.count
    }

    /// How the last 64 jobs that ran ended, oldest first.
    var recentlyFinished: [FinishedJob] {
        condition.lock()
        defer { condition.unlock() }
        return finished
    }

    /// A cancelled job still waiting leaves the queue at once, freeing its place.
    private func dropIfWaiting(_ job: GenerationJob) {
        condition.lock()
        let index = pending.firstIndex { $0 === job }
        if let index { pending.remove(at: index) }
        condition.unlock()
        if index != nil { job.finish() }
    }

    /// The free slot a job with `prompt` takes (nil: none is free): one whose cache it continues
    /// — all of it but the last `continuationSlack` tokens, as a conversation's next turn does —
    /// the longest such; else the one used least recently (an empty one first), so other
    /// conversations keep their caches longest. A cache that shares only a system prompt is not
    /// taken: its conversation would lose more than the new one saves. Called under the lock: a
    /// free slot's context is not in use.
    private func bestFreeSlot(for prompt: [TokenID]) -> Int? {
        let free = slots.indices.filter { running[$0] == nil }
        let continued = free.map { ($0, slots[$0].sharedPrefixLength(with: prompt)) }
            .filter { slot, shared in shared > 0 && slots[slot].position - shared <= Self.continuationSlack }
        if let best = continued.max(by: { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 > $1.0) }) { return best.0 }
        return free.min { lastStart[$0] < lastStart[$1] }
    }

    /// Cached tokens a continuing prompt may differ in: an answer cut at its token limit ends
    /// mid-word, and the client's copy of it may split into other tokens.
    static let continuationSlack = 4

    private func loop(slot: Int) {
        while true {
            condition.lock()
            while !stopping && (pending.isEmpty || bestFreeSlot(for: pending[0].request.prompt) != slot) { condition.wait() }
            if stopping {
                condition.unlock()
                return
            }
            let job = pending.removeFirst()
            starts += 1
            let timing = QueueTiming(arrival: job.arrival, start: starts, waitSeconds: (ContinuousClock.now - job.enqueued).seconds)
            running[slot] = job
            lastStart[slot] = starts
            // the next job may now be another free slot's
            condition.broadcast()
            condition.unlock()

            let began = ContinuousClock.now
            let outcome = run(job, on: slots[slot], timing: timing)
            let seconds = (ContinuousClock.now - began).seconds

            condition.lock()
            running[slot] = nil
            meanJobSeconds = 0.8 * meanJobSeconds + 0.2 * seconds
            finished.append(outcome)
            if finished.count > 64 { finished.removeFirst() }
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Runs one job on this thread and `context`, streaming its text.
    private func run(_ job: GenerationJob, on context: InferenceContext, timing: QueueTiming) -> FinishedJob {
        defer { job.finish() }
        job.yield(.started(timing))
        if job.isCancelled { return FinishedJob(arrival: job.arrival, stop: nil, generatedTokens: 0) }
        let request = job.request
        var sampler = SamplerChain(settings: request.settings)
        do {
            let result = try context.generate(
                prompt: request.prompt, maxTokens: request.maxTokens, sampler: &sampler, stopStrings: request.stopStrings,
                isCancelled: { job.isCancelled },
                onEvent: { event in
                    if case let .text(piece) = event { job.yield(.text(piece)) }
                })
            job.yield(.finished(result.stop, result.stats))
            return FinishedJob(arrival: job.arrival, stop: result.stop, generatedTokens: result.tokens.count)
        } catch {
            job.yield(.failed(.generationFailed("\(error)")))
            return FinishedJob(arrival: job.arrival, stop: nil, generatedTokens: 0)
        }
    }
}
