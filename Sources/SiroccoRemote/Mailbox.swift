// Mailbox: what an HTTP event loop hands to the thread reading a response — parts in order, then
// the end (with the connection's error, if any). The reader blocks; the loop never does.

import Foundation

final class Mailbox<Item: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [Item] = []
    private var head = 0
    private var closed = false
    private var _error: Error?

    func put(_ item: Item) {
        condition.lock()
        if !closed { items.append(item) }
        condition.signal()
        condition.unlock()
    }

    /// Ends the mailbox; the first close wins (a failure is often reported twice).
    func close(_ error: Error?) {
        condition.lock()
        if !closed {
            closed = true
            _error = error
        }
        condition.signal()
        condition.unlock()
    }

    /// The next item, waiting for it; nil once closed and empty.
    func take() -> Item? {
        condition.lock()
        defer { condition.unlock() }
        while head == items.count && !closed { condition.wait() }
        guard head < items.count else { return nil }
        defer { head += 1 }
        return items[head]
    }

    var error: Error? {
        condition.lock()
        defer { condition.unlock() }
        return _error
    }
}
