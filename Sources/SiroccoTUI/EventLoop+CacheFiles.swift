// EventLoop+CacheFiles: each pane's KV cache, saved beside its conversation file so that `--resume`
// and `/load` do not read the conversation again. Saving and restoring run off the UI thread (a
// 2,000-token conversation on a 1.5B model is a 57 MB file, fsynced), in order with the pane's
// answers (SerialWork). A cache that does not fit — another model, cache type or conversation —
// is passed over in silence; one that cannot be read or written gets one line in the status line.
// A server's conversation has no cache here: the server keeps its own.

import Foundation
import SiroccoEngine

extension EventLoop {
    /// Saves pane `i`'s KV cache beside its conversation saved at `conversation` (once the answer
    /// running, if any, is over); `pruneStore`: then drops the caches of older chats in the store.
    func saveCache(pane i: Int, forConversation conversation: String, pruneStore: Bool) {
        guard let session = sessions[i] as? ChatSession else { return }
        let queue = self.queue, store = self.store
        let path = ConversationStore.cachePath(forConversation: conversation)
        work[i].run("sirocco-save-cache") {
            do {
                try session.saveCache(to: path)
            } catch {
                queue.post(.cacheFailed(pane: i, message: EventLoop.cacheMessage("cannot save the KV cache", path, error)))
            }
            if pruneStore { store.pruneCaches() }
        }
    }

    /// Restores pane `i`'s KV cache from beside the conversation just loaded from `conversation`,
    /// when there is one.
    func restoreCache(pane i: Int, forConversation conversation: String) {
        let path = ConversationStore.cachePath(forConversation: conversation)
        guard FileManager.default.fileExists(atPath: path), let session = sessions[i] as? ChatSession else { return }
        let queue = self.queue
        work[i].run("sirocco-restore-cache") {
            let clock = ContinuousClock()
            let start = clock.now
            do {
                let tokens = try session.restoreCache(from: path)
                queue.post(.cacheRestored(pane: i, tokens: tokens, seconds: (clock.now - start).seconds))
            } catch {
                queue.post(.cacheFailed(pane: i, message: EventLoop.cacheMessage("KV cache not used", path, error)))
            }
        }
    }

    /// "WHAT (NAME): REASON" on one line, the file by its name alone (the status line is narrow).
    static func cacheMessage(_ what: String, _ path: String, _ error: Error) -> String {
        let reason = (error as? KVCacheFileError)?.reason ?? (error as? FileError)?.reason ?? "\(error)"
        let name = URL(fileURLWithPath: path).lastPathComponent
        return TerminalText.escaped("\(what) (\(name)): \(reason)")
    }
}
