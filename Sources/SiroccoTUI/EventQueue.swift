// EventQueue: how engine threads hand events to the UI thread — a mutex-protected queue and a
// self-pipe whose read end the event loop polls with the terminal. One wake byte per batch.

import Foundation
import SiroccoEngine
import Synchronization

/// Something that happened off the UI thread.
enum EngineEvent: @unchecked Sendable {
    /// The models are loaded and a session made for each pane.
    case loaded([ChatSession])
    case loadFailed(String)
    /// The model /model asked for is loaded, in a session of its own.
    case modelOpened(ChatSession)
    case modelOpenFailed(String)
    /// A streaming event of pane `pane`'s answer.
    case generation(pane: Int, GenerationEvent)
    /// Pane `pane`'s turn is over (the answer is in its session), or failed with a message.
    case turnEnded(pane: Int, error: String?)
    /// Pane `pane`'s KV cache was restored from its file: `tokens` of the conversation (0: the file
    /// did not fit it), in `seconds`.
    case cacheRestored(pane: Int, tokens: Int, seconds: Double)
    /// A KV cache file could not be written or read (a one-line message).
    case cacheFailed(pane: Int, message: String)
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
