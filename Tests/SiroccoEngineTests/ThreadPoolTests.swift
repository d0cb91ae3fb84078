// ThreadPool: every active thread runs each job once at any width, parked threads come back when
// the width grows, and the fallback narrows the pool by itself once the caller has waited enough.

import Foundation
import Synchronization
import Testing
@testable import SiroccoEngine

struct ThreadPoolTests {
    /// Runs one job and returns how often each thread index ran it, and the widths it was told.
    func runOnce(_ pool: ThreadPool) -> (calls: [Int], totals: Set<Int>) {
        let seen = Mutex<(calls: [Int], totals: Set<Int>)>((Array(repeating: 0, count: pool.threadCount), []))
        pool.run { index, total in
            seen.withLock {
                $0.calls[index] += 1
                $0.totals.insert(total)
            }
        }
        return seen.withLock { $0 }
    }

    @Test func everyActiveThreadRunsEachJobOnce() {
        let pool = ThreadPool(threadCount: 4)
        for width in [4, 1, 3, 2, 4, 1, 1, 4, 2] {
            pool.width = width
            for _ in 0..<50 {
                let (calls, totals) = runOnce(pool)
                #expect(calls == (0..<4).map { $0 < width ? 1 : 0 })
                #expect(totals == [width])
            }
        }
    }

    @Test func widthIsClampedToThePool() {
        let pool = ThreadPool(threadCount: 3)
        pool.width = 0
        #expect(pool.width == 1)
        pool.width = 9
        #expect(pool.width == 3)
    }

    @Test(arguments: [1, 2, 3])
    func parallelForCoversTheRangeOnceAtAnyWidth(width: Int) {
        let pool = ThreadPool(threadCount: 3)
        pool.width = width
        let hits = Mutex<[Int]>(Array(repeating: 0, count: 1000))
        pool.parallelFor(1000, align: 16) { range in
            hits.withLock { for i in range { $0[i] += 1 } }
        }
        #expect(hits.withLock { $0 }.allSatisfy { $0 == 1 })
    }

    /// Workers that fell asleep (idle past their spin, or parked outside the width) take the next
    /// job that includes them.
    @Test func sleepingAndParkedWorkersComeBack() {
        let pool = ThreadPool(threadCount: 3)
        for width in [3, 1, 3, 2, 3] {
            pool.width = width
            Thread.sleep(forTimeInterval: 0.005)  // past the workers' spin: they sleep or park
            #expect(runOnce(pool).calls == (0..<3).map { $0 < width ? 1 : 0 })
        }
    }

    @Test func manyJobsWhileTheWidthChanges() {
        let pool = ThreadPool(threadCount: 4)
        let sum = Atomic<Int>(0)
        for job in 0..<6_000 {
            if job % 7 == 0 { pool.width = 1 + (job / 7) % 4 }
            pool.run { index, _ in sum.add(index + 1, ordering: .relaxed) }
        }
        var expected = 0
        for job in 0..<6_000 {
            let w = 1 + (job / 7) % 4
            expected += w * (w + 1) / 2
        }
        #expect(sum.load(ordering: .relaxed) == expected)
    }

    @Test func fallbackNarrowsOnceTheCallerHasWaited() {
        let pool = ThreadPool(threadCount: 2)
        // a worker that takes longer than the caller makes it wait; a budget of 0 falls back at once
        pool.fallBack(to: 1, afterWaiting: 0)
        #expect(!pool.fellBack)
        pool.run { index, _ in if index == 1 { Thread.sleep(forTimeInterval: 0.001) } }
        #expect(pool.fellBack)
        #expect(pool.width == 1)
        #expect(runOnce(pool).calls == [1, 0])
        // a budget that is never reached leaves the width alone
        pool.width = 2
        pool.fallBack(to: 1, afterWaiting: UInt64.max / 2)
        pool.run { index, _ in if index == 1 { Thread.sleep(forTimeInterval: 0.001) } }
        #expect(!pool.fellBack)
        #expect(pool.width == 2)
        pool.disarmFallback()
        #expect(!pool.fellBack)
    }
}
