// SerialWork: what must not overlap on one pane's session — an answer, a KV cache save, a KV cache
// restore — run in the order the UI thread asked for it, each on a thread of its own with a stack
// big enough for template rendering. Only the UI thread calls it.

import Foundation

final class SerialWork {
    /// The last piece of work asked for (each waits for the one before it).
    private var last: DispatchGroup?

    /// Runs `work` on a new thread named `name` once the work asked for before it is done.
    func run(_ name: String, _ work: @escaping @Sendable () -> Void) {
        let previous = last
        let done = DispatchGroup()
        done.enter()
        last = done
        let thread = Thread {
            previous?.wait()
            work()
            done.leave()
        }
        thread.name = name
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Waits until all the work asked for so far is done; false if `timeout` passed first.
    @discardableResult
    func wait(timeout: DispatchTime = .distantFuture) -> Bool {
        last.map { $0.wait(timeout: timeout) == .success } ?? true
    }
}
