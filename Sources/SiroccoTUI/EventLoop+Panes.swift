// EventLoop+Panes: panes opened and closed while the chat runs — /model loads a model (a catalog
// name or a GGUF path) or opens a server's (a URL, through `ChatOptions.openRemote`) for a new pane
// off the UI thread, /close lets a pane's session go.

import Foundation
import SiroccoEngine

extension EventLoop {
    /// Opens `choice` for a new pane on a thread of its own: a server's model through
    /// `ChatOptions.openRemote`, else the model its reference names (`ChatOptions.resolveModel`) —
    /// a model another pane has open is shared — with the chat's context, cache type and answer
    /// length, the model's own template, the system prompt now in use and the settings the chat
    /// started with.
    func openModel(_ choice: PaneModel) {
        let options = self.options, queue = self.queue
        let local = sessions.compactMap { $0 as? ChatSession }
        let open = Dictionary(local.map { ($0.model.file.path, $0.model) }, uniquingKeysWith: { first, _ in first })
        // a model another pane decodes on a batcher: this pane joins it
        let batchers = Dictionary(local.compactMap { s in s.context.batcher.map { (s.model.file.path, $0) } },
                                  uniquingKeysWith: { first, _ in first })
        let systemPrompt = sessions.first?.systemPrompt ?? options.systemPrompt
        let computing = EventLoop.batches(options) ? Set(open.keys).count + 1 : local.count + 1
        let threads = options.threads ?? max(1, ProcessInfo.processInfo.activeProcessorCount / computing)
        EventLoop.startLoader("sirocco-open-model") {
            do {
                if choice.isRemote {
                    queue.post(.modelOpened(try EventLoop.openRemote(choice, options: options, systemPrompt: systemPrompt)))
                    return
                }
                let path = try options.resolveModel(EventLoop.expand(choice.reference))
                try ChatTUI.checkModelFile(path)
                let model = try open[path] ?? Model(path: path)  // its errors name the file
                let batcher = batchers[path] ?? (EventLoop.batches(options) ? SequenceBatcher(model: model, threads: threads) : nil)
                queue.post(.modelOpened(try EventLoop.session(on: model, options: options, threads: threads, format: nil,
                                                              systemPrompt: systemPrompt, batcher: batcher)))
            } catch {
                queue.post(.modelOpenFailed(EventLoop.message(error)))
            }
        }
    }

    /// Pane `i`'s session goes once its work is done; the conversations of the panes left are
    /// saved in new files (the store names files by pane number, and those have moved).
    func closePane(_ i: Int) {
        guard sessions.indices.contains(i) else { return }
        // no answer runs (the update refuses /close then): once the panes' saves and restores are
        // done, nothing posts a pane's index, and the events already queued follow their panes
        for w in work { w.wait() }
        queue.remap { $0.afterClosing(pane: i) }
        sessions.remove(at: i)
        work.remove(at: i)
        cache.removeAll()
        store.startNew()
        for j in sessions.indices { autosave(pane: j, withCache: false) }
    }

    /// A conversation with the server's model `pane` names, through `ChatOptions.openRemote`, with
    /// the chat's settings and answer length and `systemPrompt` (the one in use now). Runs on a
    /// loader thread: opening may ask the server.
    static func openRemote(_ pane: PaneModel, options: ChatOptions, systemPrompt: String?) throws -> any ChatBackend {
        guard let open = options.openRemote else { throw ChatStartError(ChatTUI.remoteUnavailable) }
        var options = options
        options.systemPrompt = systemPrompt
        let session = try open(pane.reference, pane.remoteModel, options)
        session.systemPrompt = systemPrompt
        session.settings = options.settings
        session.maxAnswerTokens = options.maxAnswerTokens
        return session
    }

    /// The model /model asked for is open: its session joins (unless the chat is quitting).
    func adopt(_ session: any ChatBackend) {
        guard !state.quitting else { return }
        sessions.append(session)
        work.append(SerialWork())
        if let local = session as? ChatSession,
           !sessions.dropLast().contains(where: { ($0 as? ChatSession)?.model === local.model }) {
            EventLoop.prefault(local.model)
        }
        dispatch(.paneOpened(EventLoop.pane(sessions.count - 1, for: session, draftModel: options.draftModelPath)))
    }
}
