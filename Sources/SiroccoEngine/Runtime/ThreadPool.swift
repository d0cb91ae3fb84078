// ThreadPool: a persistent pool of worker threads for the forward pass.
// A dispatch costs well under a microsecond while workers spin (DispatchQueue.concurrentPerform costs
// ~40 µs here, more than a small matvec); idle workers fall asleep on a condition variable so an idle
// chat does not burn CPU. Only one caller may dispatch at a time (the forward pass is sequential).
// The pool runs jobs on its first `width` threads; the rest are parked (asleep, never spinning), so a
// machine with fewer free cores than threads is not fought over (ThreadWidthController picks the
// width). It never decides anything itself: the caller sets the width between dispatches.

import Foundation
import Synchronization

/// Runs one job on every active thread (the caller is thread 0) and returns when all have finished.
public final class ThreadPool: @unchecked Sendable {
    /// Threads the pool owns (the caller included): the widest a job can run.
    public let threadCount: Int
    private let shared: Shared

    public init(threadCount: Int) {
        self.threadCount = min(max(1, threadCount), 4096)  // a dispatch packs the width in 16 bits
        shared = Shared(threadCount: self.threadCount)
        for index in 1..<self.threadCount {
            let state = shared
            let thread = Thread { state.workerLoop(index: index) }
            thread.name = "sirocco-worker-\(index)"
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    deinit { shared.stop() }

    /// Threads the next jobs run on, 1...threadCount; the others park. Set between dispatches only.
    public var width: Int {
        get { shared.width }
        set { shared.setWidth(min(max(newValue, 1), threadCount)) }
    }

    /// Nanoseconds the caller has spent waiting for workers to finish their part of a job, since
    /// the pool was made: on a busy machine, a worker that is not running shows up here.
    public var waitedNanoseconds: UInt64 { shared.waitedNanoseconds }

    /// Arms a fallback: once the caller has waited `budget` ns for workers from now on, the pool
    /// narrows to `width` by itself between two jobs (a trial of more threads on a busy machine
    /// costs a few ms, not a whole slow token). `fellBack` tells whether it happened; a new
    /// `fallBack` or `disarmFallback()` starts again.
    func fallBack(to width: Int, afterWaiting budget: UInt64) {
        shared.fallback = (min(max(width, 1), threadCount), shared.waitedNanoseconds &+ budget)
        shared.fellBack = false
    }

    func disarmFallback() {
        shared.fallback = nil
        shared.fellBack = false
    }

    /// Whether the armed fallback narrowed the pool.
    var fellBack: Bool { shared.fellBack }

    /// Calls `body(threadIndex, width)` once on each of the first `width` threads and waits for all.
    public func run(_ body: (Int, Int) -> Void) {
        if shared.width == 1 { body(0, 1); return }
        withoutActuallyEscaping(body) { shared.dispatch($0) }
    }

    /// Splits `0..<count` into one contiguous range per active thread (boundaries on multiples of
    /// `align`) and calls `body(range)` for the non-empty ones.
    public func parallelFor(_ count: Int, align: Int = 1, _ body: (Range<Int>) -> Void) {
        if count <= 0 { return }
        if shared.width == 1 || count <= align { body(0..<count); return }
        run { index, total in
            let range = ThreadPool.share(of: count, index: index, total: total, align: align)
            if !range.isEmpty { body(range) }
        }
    }

    /// The part of `0..<count` that thread `index` of `total` takes.
    public static func share(of count: Int, index: Int, total: Int, align: Int = 1) -> Range<Int> {
        let units = (count + align - 1) / align
        let start = min(count, units * index / total * align)
        let end = min(count, units * (index + 1) / total * align)
        return start..<max(start, end)
    }
}

/// Monotonic clock in nanoseconds (vDSO: no system call).
@inline(__always)
func monotonicNanoseconds() -> UInt64 {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return UInt64(t.tv_sec) &* 1_000_000_000 &+ UInt64(t.tv_nsec)
}

/// State the workers hold strongly, so it outlives the pool object until every worker has exited.
private final class Shared: @unchecked Sendable {
    let threadCount: Int
    /// generation << 16 | width of the latest dispatch, in one word so a worker reads both at once:
    /// a worker outside that width leaves the job alone.
    let ticket = Atomic<Int>(0)
    let pending = Atomic<Int>(0)
    let sleepers = Atomic<Int>(0)
    let stopping = Atomic<Bool>(false)
    /// The width jobs run on; written under `condition`'s lock, so a parking worker cannot miss a rise.
    let targetWidth: Atomic<Int>
    let condition = NSCondition()
    var job: ((Int, Int) -> Void)?
    /// Caller-side only (written and read by the dispatching thread).
    var width: Int
    var waitedNanoseconds: UInt64 = 0
    var generation = 0
    /// The width to fall back to and the total waiting at which to do it (see ThreadPool.fallBack).
    var fallback: (width: Int, at: UInt64)?
    var fellBack = false
    /// Set while the caller sleeps on `done`, waiting for the last worker.
    let callerSleeping = Atomic<Bool>(false)
    let done = NSCondition()
    /// How long a thread spins before it sleeps: a worker waiting for the next job (a forward pass
    /// dispatches every few µs to a few hundred µs), the caller waiting for a worker to finish (a
    /// running one takes a few µs more than the caller at most). Longer waits mean a thread is not
    /// running, and spinning on would take the core it needs. sched_yield is no help: Linux's
    /// EEVDF charges each call as a used-up slice (the thread's virtual deadline, on newer kernels
    /// its virtual runtime, moves a slice ahead), so a worker that had yielded in a loop while idle
    /// then waited hundreds of ms for a core once given work (seen here: tokens of 250–850 ms).
    let workerSpin: UInt64 = 200_000
    let callerSpin: UInt64 = 100_000

    init(threadCount: Int) {
        self.threadCount = threadCount
        width = threadCount
        targetWidth = Atomic<Int>(threadCount)
    }

    func setWidth(_ w: Int) {
        if w == width { return }
        width = w
        condition.lock()
        targetWidth.store(w, ordering: .sequentiallyConsistent)
        condition.broadcast()  // parked workers inside the new width come back
        condition.unlock()
    }

    func dispatch(_ body: @escaping (Int, Int) -> Void) {
        let w = width
        job = body
        pending.store(w - 1, ordering: .sequentiallyConsistent)
        generation += 1
        ticket.store(generation << 16 | w, ordering: .sequentiallyConsistent)
        wakeSleepers()
        body(0, w)
        if pending.load(ordering: .acquiring) > 0 {
            let start = monotonicNanoseconds()
            if !spin(until: { pending.load(ordering: .acquiring) == 0 }, for: callerSpin, from: start) {
                done.lock()
                callerSleeping.store(true, ordering: .sequentiallyConsistent)
                while pending.load(ordering: .sequentiallyConsistent) > 0 { done.wait() }
                callerSleeping.store(false, ordering: .relaxed)
                done.unlock()
            }
            waitedNanoseconds &+= monotonicNanoseconds() &- start
            if let f = fallback, waitedNanoseconds >= f.at {
                fallback = nil
                fellBack = true
                setWidth(f.width)
            }
        }
        job = nil
    }

    /// Spins until `ready()` or `limit` ns after `start`; whether it became ready.
    @inline(__always)
    private func spin(until ready: () -> Bool, for limit: UInt64, from start: UInt64) -> Bool {
        while true {
            for _ in 0..<64 where ready() { return true }
            if monotonicNanoseconds() &- start > limit { return ready() }
        }
    }

    func stop() {
        condition.lock()
        stopping.store(true, ordering: .sequentiallyConsistent)
        generation += 1
        ticket.store(generation << 16, ordering: .sequentiallyConsistent)
        condition.broadcast()
        condition.unlock()
    }

    private func wakeSleepers() {
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
            condition.lock()
            condition.broadcast()
            condition.unlock()
        }
    }

    func workerLoop(index: Int) {
        var seen = 0
        while true {
            var word = ticket.load(ordering: .acquiring)
            if word >> 16 == seen {
                let start = monotonicNanoseconds()
                _ = spin(until: { ticket.load(ordering: .acquiring) >> 16 != seen || index >= targetWidth.load(ordering: .relaxed) },
                         for: workerSpin, from: start)
                word = ticket.load(ordering: .acquiring)
            }
            if word >> 16 == seen {
                // no job for a while, or outside the width: sleep until a job includes this thread
                // (a thread outside the width is not woken by jobs, only when the width grows)
                condition.lock()
                while !stopping.load(ordering: .sequentiallyConsistent) {
                    if index >= targetWidth.load(ordering: .sequentiallyConsistent) { condition.wait(); continue }
                    sleepers.add(1, ordering: .sequentiallyConsistent)  // before the check: dispatch stores, then reads this
                    let idle = ticket.load(ordering: .sequentiallyConsistent) >> 16 == seen
                    if idle { condition.wait() }
                    sleepers.subtract(1, ordering: .sequentiallyConsistent)
                    if !idle { break }
                }
                condition.unlock()
                continue
            }
            seen = word >> 16
            if stopping.load(ordering: .acquiring) { return }
            let w = word & 0xFFFF
            if index < w {
                job?(index, w)
                if pending.subtract(1, ordering: .sequentiallyConsistent).newValue == 0 && callerSleeping.load(ordering: .sequentiallyConsistent) {
                    done.lock()
                    done.signal()
                    done.unlock()
                }
            }
        }
    }
}
