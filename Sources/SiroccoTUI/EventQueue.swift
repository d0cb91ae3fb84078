// EventQueue: how engine threads hand events to the UI thread — a mutex-protected queue and a
// self-pipe whose read end the event loop polls with the terminal. One wake byte per batch.

import Foundation
import SiroccoEngine
import Synchronization

/// Something that happened off the UI thread.
enum EngineEvent: @unchecked Sendable {
    /// The models are loaded (or the servers' opened) and a session made for each pane.
    case loaded([any ChatBackend])
    case loadFailed(String)
    /// The model /model asked for is open, in a session of its own.
    case modelOpened(any ChatBackend)
    case modelOpenFailed(String)
    /// A streaming event of pane `pane`'s answer.
    case generation(pane: Int, GenerationEvent)
    /// Pane `pane`'s turn is over (the answer is in its session), or failed with a message;
    /// `messageKept`: the session kept the message sent (false: it failed before the backend took it).
    case turnEnded(pane: Int, error: String?, messageKept: Bool = true)
    /// Pane `pane`'s KV cache was restored from its file: `tokens` of the conversation (0: the file
    /// did not fit it), in `seconds`.
    case cacheRestored(pane: Int, tokens: Int, seconds: Double)
    /// A KV cache file could not be written or read (a one-line message).
    case cacheFailed(pane: Int, message: String)

    /// This event once pane `closed` is gone: nil if it was that pane's, the index moved up if it
    /// belongs to a pane after it.
    func afterClosing(pane closed: Int) -> EngineEvent? {
        func moved(_ i: Int) -> Int? { i == closed ? nil : i > closed ? i - 1 : i }
        switch self {
        case .loaded, .loadFailed, .modelOpened, .modelOpenFailed: return self
        case let .generation(i, event): return moved(i).map { .generation(pane: $0, event) }
        case let .turnEnded(i, error, kept): return moved(i).map { .turnEnded(pane: $0, error: error, messageKept: kept) }
        case let .cacheRestored(i, tokens, seconds): return moved(i).map { .cacheRestored(pane: $0, tokens: tokens, seconds: seconds) }
        case let .cacheFailed(i, message): return moved(i).map { .cacheFailed(pane: $0, message: message) }
        }
    }
}

final class EventQueue: Sendable {
    private let events = Mutex<[EngineEvent]>([])
    /// The loop polls this.
    let readDescriptor: Int32
    /// Engine threads and signal handlers write here.
    let writeDescriptor: Int32

    init() throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw POSIXError(.EMFILE) }
        readDescriptor = fds[0]
        writeDescriptor = fds[1]
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
    }

    deinit {
        close(readDescriptor)
        close(writeDescriptor)
    }

    /// Queues an event and wakes the loop (from any thread).
    func post(_ event: EngineEvent) {
        let wasEmpty = events.withLock { queue in
            queue.append(event)
            return queue.count == 1
        }
        if wasEmpty { wake() }
    }

    func wake() {
        var byte: UInt8 = 1
        _ = write(writeDescriptor, &byte, 1)
    }

    /// Rewrites the queued events (dropping those `transform` maps to nil), in order.
    func remap(_ transform: (EngineEvent) -> EngineEvent?) {
        events.withLock { queue in queue = queue.compactMap(transform) }
    }

    /// Everything queued so far, in order (UI thread).
    func drain() -> [EngineEvent] {
        var buffer = [UInt8](repeating: 0, count: 256)
        while read(readDescriptor, &buffer, buffer.count) > 0 {}
        return events.withLock { queue in
            defer { queue.removeAll(keepingCapacity: true) }
            return queue
        }
    }
}
