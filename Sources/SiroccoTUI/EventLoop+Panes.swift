// EventLoop+Panes: panes opened and closed while the chat runs — /model loads a model (a catalog
// name or a GGUF path) for a new pane off the UI thread, /close lets a pane's session go.

import Foundation
import SiroccoEngine

extension EventLoop {
    /// Loads the model `reference` names (`ChatOptions.resolveModel`) for a new pane on a thread
    /// of its own — a model another pane has open is shared — with the chat's context, cache type
    /// and answer length, the model's own template, the system prompt now in use and the settings
    /// the chat started with.
    func openModel(_ reference: String) {
        let options = self.options, queue = self.queue
        let open = Dictionary(sessions.map { ($0.model.file.path, $0.model) }, uniquingKeysWith: { first, _ in first })
        let systemPrompt = sessions.first?.systemPrompt ?? options.systemPrompt
        let threads = options.threads ?? max(1, ProcessInfo.processInfo.activeProcessorCount / (sessions.count + 1))
        EventLoop.startLoader("sirocco-open-model") {
            do {
                let path = try options.resolveModel(EventLoop.expand(reference))
                try ChatTUI.checkModelFile(path)
                let model = try open[path] ?? Model(path: path)  // its errors name the file
                queue.post(.modelOpened(try EventLoop.session(on: model, options: options, threads: threads, format: nil,
                                                              systemPrompt: systemPrompt)))
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

    /// The model /model asked for is loaded: its session joins (unless the chat is quitting).
    func adopt(_ session: ChatSession) {
        guard !state.quitting else { return }
        let isNewModel = !sessions.contains { $0.model === session.model }
        sessions.append(session)
        work.append(SerialWork())
        if isNewModel { EventLoop.prefault(session.model) }
        dispatch(.paneOpened(EventLoop.pane(sessions.count - 1, for: session)))
    }
}
