// ThreadPool: a persistent pool of worker threads for the forward pass.
// A dispatch costs well under a microsecond while workers spin (DispatchQueue.concurrentPerform costs
// ~40 µs here, more than a small matvec); idle workers fall asleep on a condition variable so an idle
// chat does not burn CPU. Only one caller may dispatch at a time (the forward pass is sequential).

import Foundation
import Synchronization

/// Runs one job on every thread (the caller is thread 0) and returns when all have finished.
public final class ThreadPool: @unchecked Sendable {
    public let threadCount: Int
    private let shared: Shared

    public init(threadCount: Int) {
        self.threadCount = max(1, threadCount)
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

    /// Calls `body(threadIndex, threadCount)` once on each thread and waits for all of them.
    public func run(_ body: (Int, Int) -> Void) {
        if threadCount == 1 { body(0, 1); return }
        withoutActuallyEscaping(body) { shared.dispatch($0) }
    }

    /// Splits `0..<count` into one contiguous range per thread (boundaries on multiples of `align`)
    /// and calls `body(range)` for the non-empty ones.
    public func parallelFor(_ count: Int, align: Int = 1, _ body: (Range<Int>) -> Void) {
        if count <= 0 { return }
        if threadCount == 1 || count <= align { body(0..<count); return }
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

/// State the workers hold strongly, so it outlives the pool object until every worker has exited.
private final class Shared: @unchecked Sendable {
    let threadCount: Int
    let generation = Atomic<Int>(0)
    let pending = Atomic<Int>(0)
    let sleepers = Atomic<Int>(0)
    let stopping = Atomic<Bool>(false)
    let condition = NSCondition()
    var job: ((Int, Int) -> Void)?
    /// Spins before a worker sleeps (a forward pass dispatches every few µs; a chat idles for seconds).
    let spinLimit = 50_000
    /// Spins before a waiting thread starts yielding its core to others.
    let yieldAfter = 4_000

    init(threadCount: Int) { self.threadCount = threadCount }

    func dispatch(_ body: @escaping (Int, Int) -> Void) {
        job = body
        pending.store(threadCount - 1, ordering: .sequentiallyConsistent)
        generation.add(1, ordering: .sequentiallyConsistent)
        wakeSleepers()
        body(0, threadCount)
        var spins = 0
        while pending.load(ordering: .acquiring) > 0 {
            // on a busy machine a worker may have been preempted: give it the core
            spins += 1
            if spins > yieldAfter { sched_yield() }
        }
        job = nil
    }

    func stop() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        generation.add(1, ordering: .sequentiallyConsistent)
        wakeSleepers()
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
            var spins = 0
            while generation.load(ordering: .acquiring) == seen {
                spins += 1
                if spins > yieldAfter { sched_yield() }
                if spins >= spinLimit {
                    condition.lock()
                    sleepers.add(1, ordering: .sequentiallyConsistent)
                    while generation.load(ordering: .sequentiallyConsistent) == seen {
                        condition.wait()
                    }
                    sleepers.subtract(1, ordering: .sequentiallyConsistent)
                    condition.unlock()
                    spins = 0
                }
            }
            seen = generation.load(ordering: .acquiring)
            if stopping.load(ordering: .acquiring) { return }
            job?(index, threadCount)
            pending.subtract(1, ordering: .releasing)
        }
    }
}
