// EventLoop+Effects: the effect runner — does what `Update` asks for with the sessions, files,
// threads and terminal (answers on each pane's SerialWork, saves, loads, settings), and reports
// what it found out back as inputs. On the UI thread; the work it starts runs off it.

import CNCursesW
import CTerminalRescue
import Foundation
import SiroccoEngine

extension EventLoop {
    func run(_ effect: Effect) {
        switch effect {
        case let .startAnswer(i, text):
            answer(pane: i) { session, onEvent in try EventLoop.respond(session, to: text, seed: nil, onEvent: onEvent) }
        case let .retryAnswer(i):
            answer(pane: i) { session, onEvent in
                guard let text = try session.takeBackLastExchange() else { throw RetryError.nothingToRetry }
                return try EventLoop.respond(session, to: text, seed: SamplerChain.randomSeed(), onEvent: onEvent)
            }
        case let .takeBackExchange(i):
            guard let session = session(i) else { return }
            work[i].wait()  // a KV cache save still running
            _ = try? session.takeBackLastExchange()
            autosave(pane: i)  // a chat quit before the message is sent again resumes without it
        case let .cancel(i):
            session(i)?.cancel()
        case let .applySettings(i, settings):
            session(i)?.settings = settings  // applies from the next token, even mid-answer
        case let .setMaxAnswerTokens(i, tokens):
            session(i)?.maxAnswerTokens = tokens
        case let .setSystemPrompt(text):
            for session in sessions { session.systemPrompt = text }
        case let .showInfo(i):
            guard let session = session(i), state.panes.indices.contains(i) else { return }
            dispatch(.notes(pane: i, kind: .notice, ModelInfo.lines(for: session, name: state.panes[i].modelName)))
        case let .showSystemPrompt(i):
            guard let session = session(i) else { return }
            if session.effectiveSystemPrompt == nil {
                dispatch(.status(StatusMessage(text: "no system prompt (/system TEXT sets one)", isError: false)))
            } else {
                dispatch(.notes(pane: i, kind: .notice, ["system prompt: \(ModelInfo.systemPrompt(session))"]))
            }
        case let .setTemplate(i, name):
            guard let backend = session(i) else { return }
            guard let session = backend as? ChatSession else {
                dispatch(.status(StatusMessage(text: Update.serverAppliesTemplate, isError: false)))
                return
            }
            do {
                let format = try ChatFormat.named(name, for: session.model)
                session.format = format
                dispatch(.templateChanged(pane: i, name: format.name, isCompletion: format.isCompletion))
            } catch {
                dispatch(.status(StatusMessage(text: "\(error)", isError: true)))
            }
        case let .loadTheme(name):
            loadTheme(name, atStartup: false)
        case .listThemes:
            dispatch(.themesListed(themes.availableNames))
        case .clearConversations:
            for w in work { w.wait() }  // KV cache saves read the cells being cleared
            for (i, session) in sessions.enumerated() {
                session.clear()
                dispatch(.idleStats(pane: i, EventLoop.idleStats(session)))
            }
            cache.removeAll()
            store.startNew()
        case let .save(i, path):
            guard let session = session(i) else { return }
            let file = EventLoop.expand(path)
            do {
                try session.save(to: file)
                saveCache(pane: i, forConversation: file, pruneStore: false)
                dispatch(.conversationSaved(pane: i, file: file, messages: session.messages.count))
            } catch {
                dispatch(.status(StatusMessage(text: "cannot save the conversation to \(file): \(EventLoop.message(error))",
                                               isError: true)))
            }
        case let .load(i, path):
            guard sessions.indices.contains(i) else { return }
            do { try load(EventLoop.expand(path), intoPane: i, resumed: false) } catch {
                dispatch(.status(StatusMessage(text: EventLoop.message(error), isError: true)))
            }
        case let .autosave(i):
            autosave(pane: i)
        case let .setInputText(text):
            input.setText(text)
        case let .addHistory(line):
            input.addHistory(line)
        case let .openModel(reference):
            openModel(reference)
        case let .closePane(i):
            closePane(i)
        case .quitWhenAnswersEnd:
            quitWhenAnswersEnd()
        case .exitNow:
            exitNow()
        case .redraw:
            clearok(terminal.window, true)
        case let .copyToClipboard(text):
            clipboard = text
        }
    }

    private func session(_ i: Int) -> (any ChatBackend)? { sessions.indices.contains(i) ? sessions[i] : nil }

    /// Runs a turn of pane `i` (`turn` answers with the session, handing events to its second
    /// argument) on the pane's SerialWork, posting the events to the UI thread.
    private func answer(pane i: Int,
                        _ turn: @escaping @Sendable (any ChatBackend, (GenerationEvent) -> Void) throws -> GenerationResult) {
        guard let session = session(i) else { return }
        let queue = self.queue
        work[i].run("sirocco-pane-\(i + 1)") {
            let altStack = tr_alt_stack_begin()  // a crash here still restores the terminal
            defer { tr_alt_stack_end(altStack) }
            do {
                _ = try turn(session) { event in queue.post(.generation(pane: i, event)) }
                queue.post(.turnEnded(pane: i, error: nil))
            } catch let failed as FailedTurn {
                queue.post(.turnEnded(pane: i, error: EventLoop.message(failed.error), messageKept: failed.messageKept))
            } catch {
                queue.post(.turnEnded(pane: i, error: EventLoop.message(error)))
            }
        }
    }

    /// `session.respond`, its failure a `FailedTurn` that says whether the session kept the message.
    static func respond(_ session: any ChatBackend, to text: String, seed: UInt64?,
                        onEvent: (GenerationEvent) -> Void) throws -> GenerationResult {
        let before = session.messages.count
        do {
            return try session.respond(to: text, seed: seed, onEvent: onEvent)
        } catch {
            throw FailedTurn(error: error, messageKept: session.messages.count > before)
        }
    }

    /// Loads the conversation saved in `file` into pane `i`, and its KV cache when there is one.
    func load(_ file: String, intoPane i: Int, resumed: Bool) throws {
        let session = sessions[i]
        work[i].wait()  // a cache save or restore still running
        try session.load(from: file)
        restoreCache(pane: i, forConversation: file)
        dispatch(.conversationLoaded(pane: i, file: file, session.snapshot, resumed: resumed,
                                     reasoningTokens: EventLoop.reasoningTokens(session)))
    }

    /// The tokens of each message's reasoning block, as the pane's model counts them (0: none, or a
    /// count the backend cannot know; the fold then gives its length in lines).
    static func reasoningTokens(_ session: any ChatBackend) -> [Int] {
        session.messages.map { m in Reasoning.split(m.content).reasoning.flatMap { session.tokenCount(of: $0) } ?? 0 }
    }

    /// Saves pane `i`'s conversation in the store, and then (`withCache`) its KV cache beside it.
    func autosave(pane i: Int, withCache: Bool = true) {
        guard let session = session(i), !session.messages.isEmpty else { return }
        let path = store.path(forPane: i)
        do {
            try session.save(to: path)
            savedNote = "Conversation saved in \(store.directory) (sirocco chat --resume reopens it)"
        } catch {
            dispatch(.status(StatusMessage(text: "autosave failed: \(EventLoop.message(error))", isError: true)))
            return
        }
        if withCache { saveCache(pane: i, forConversation: path, pruneStore: true) }
    }
}

/// An answer that failed, and whether its message stayed in the conversation (a server that
/// could not be reached keeps nothing; a partial answer keeps both).
struct FailedTurn: Error {
    let error: Error
    let messageKept: Bool
}

/// Why a /retry could not run (the session had no message to answer again).
enum RetryError: Error, CustomStringConvertible {
    case nothingToRetry

    var description: String { "nothing to retry: the conversation has no message" }
}
