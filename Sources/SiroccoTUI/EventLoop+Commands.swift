// EventLoop+Commands: what a finished input line does — a line of a multi-line message, a message
// sent to every pane, or a slash command applied to the sessions and the state. On the UI thread.

import Foundation
import SiroccoEngine

extension EventLoop {
    /// A line Enter finished (nil: Ctrl-D on an empty line).
    func submit(_ line: String?) {
        guard let line else { beginQuit(force: false); return }
        let before = state.multiline
        switch state.multiline.take(line) {
        case .collecting:
            state.status = nil
        case let .message(text):
            if state.anyStreaming { state.multiline = before }  // the block stays open, its last line given back
            else { input.addHistory(MultilineInput.historyEntry(for: text)) }
            sendTyped(text, giveBack: line)
        case let .line(line):
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { return }
            input.addHistory(line)
            let command: Command
            do { command = try CommandParser.parse(trimmed) } catch {
                state.warn(error.description)
                return
            }
            state.status = nil
            if case let .send(text) = command {
                sendTyped(text, giveBack: line)
            } else {
                apply(command)
            }
        }
    }

    /// Sends a message typed by the user; while an answer is still running, the line that
    /// finished it goes back into the input (a multi-line message stays open).
    private func sendTyped(_ text: String, giveBack line: String) {
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            state.warn("the message is empty")
            return
        }
        guard !state.anyStreaming else {
            input.setText(line)
            state.warn("still answering — wait, or press Ctrl-C to stop the answer")
            return
        }
        send(text)
    }

    private func apply(_ command: Command) {
        switch command {
        case let .send(text):
            send(text)
        case let .set(edit):
            guard sessions.indices.contains(state.focus) else { return }
            var settings = sessions[state.focus].settings
            edit.apply(to: &settings)
            do { try settings.validate() } catch {
                state.warn("\(error)")
                return
            }
            sessions[state.focus].settings = settings
            state.panes[state.focus].settings = settings
            state.inform("\(paneName(state.focus)): \(edit.summary)")
        case let .maxAnswerTokens(tokens):
            guard sessions.indices.contains(state.focus) else { return }
            let session = sessions[state.focus]
            session.maxAnswerTokens = tokens ?? session.context.contextLength
            state.inform("\(paneName(state.focus)): answers of at most \(session.maxAnswerTokens) tokens"
                         + (tokens == nil ? " (until the context is full)" : ""))
        case .showSettings:
            guard state.panes.indices.contains(state.focus), sessions.indices.contains(state.focus) else { return }
            let s = state.panes[state.focus].settings
            let seed = s.seed.map { "\($0)" } ?? "random"
            state.inform("\(paneName(state.focus)): temp \(Format.decimal(s.temperature)), top-p \(Format.decimal(s.topP)), top-k \(s.topK), min-p \(Format.decimal(s.minP)), repeat penalty \(Format.decimal(s.repeatPenalty)) over \(s.penaltyLastN), seed \(seed), max \(sessions[state.focus].maxAnswerTokens) tokens")
        case .showInfo:
            guard sessions.indices.contains(state.focus) else { return }
            let i = state.focus
            for line in ModelInfo.lines(for: sessions[i], name: state.panes[i].modelName) { state.panes[i].append(.notice, line) }
            state.panes[i].scrollTop = nil
        case let .system(text):
            guard let text else {
                guard sessions.indices.contains(state.focus) else { return }
                let session = sessions[state.focus]
                if session.effectiveSystemPrompt == nil {
                    state.inform("no system prompt (/system TEXT sets one)")
                } else {
                    state.panes[state.focus].append(.notice, "system prompt: \(ModelInfo.systemPrompt(session))")
                    state.panes[state.focus].scrollTop = nil
                }
                return
            }
            for (i, session) in sessions.enumerated() {
                session.systemPrompt = text
                state.panes[i].append(.notice, "system prompt: \(text)")
            }
            state.inform("system prompt set for every pane")
        case .clear:
            guard !state.anyStreaming else { state.warn("still answering — Ctrl-C stops it first"); return }
            for w in work { w.wait() }  // KV cache saves read the cells being cleared
            for (i, session) in sessions.enumerated() {
                session.clear()
                state.panes[i].entries = []
                state.panes[i].scrollTop = nil
                state.panes[i].lastStop = nil
                state.panes[i].stats = EventLoop.idleStats(session)
            }
            cache.removeAll()
            store.startNew()
            state.inform("new conversation (the previous one stays saved)")
        case let .save(path):
            guard sessions.indices.contains(state.focus) else { return }
            let file = EventLoop.expand(path)
            let session = sessions[state.focus]
            do {
                try session.save(to: file)
                saveCache(pane: state.focus, forConversation: file, pruneStore: false)
                state.inform("saved the conversation\(ofPane(state.focus)) (\(EventLoop.count(session.messages.count, "message"))) to \(file)")
            } catch {
                state.warn("cannot save the conversation to \(file): \(EventLoop.message(error))")
            }
        case let .load(path):
            guard sessions.indices.contains(state.focus) else { return }
            guard !state.anyStreaming else { state.warn("still answering — Ctrl-C stops it first"); return }
            let file = EventLoop.expand(path)
            do {
                try load(file, intoPane: state.focus)
                let n = sessions[state.focus].messages.count
                state.inform("loaded the conversation from \(file)\(intoPane(state.focus)) (\(EventLoop.count(n, "message")))")
            } catch {
                state.warn(EventLoop.message(error))
            }
        case let .template(name):
            guard sessions.indices.contains(state.focus) else { return }
            let session = sessions[state.focus]
            guard let name else {
                state.inform("template: \(session.format.name) (available: \(ChatFormat.names.joined(separator: ", ")))")
                return
            }
            do {
                let format = try ChatFormat.named(name, for: session.model)
                session.format = format
                state.panes[state.focus].templateName = format.name
                state.inform("\(paneName(state.focus)): template \(format.name)"
                             + (format.isCompletion ? " — the model continues your text" : ""))
            } catch {
                state.warn("\(error)")
            }
        case let .theme(name):
            guard let name else {
                let names = themes.availableNames
                state.inform("theme: \(state.theme.name) (available: \(names.isEmpty ? "none found" : names.joined(separator: ", ")))")
                return
            }
            loadTheme(name, atStartup: false)
        case .raw:
            guard state.panes.indices.contains(state.focus) else { return }
            state.panes[state.focus].showsMarkdownSource.toggle()
            state.inform(state.panes[state.focus].showsMarkdownSource
                         ? "showing the markdown source\(ofPane(state.focus)) — /raw renders it again"
                         : "rendering markdown\(inPane(state.focus)) — /raw shows the source")
        case let .copy(target):
            guard state.panes.indices.contains(state.focus) else { return }
            do {
                let copied = try Clipboard.text(target, in: state.panes[state.focus])
                clipboard = copied.text
                state.inform("copied \(copied.summary) to the clipboard")
            } catch {
                state.warn(error.description)
            }
        case .help:
            state.helpVisible = true
        case .quit:
            beginQuit(force: false)
        }
    }

    /// " of pane 2" when there are several panes.
    private func ofPane(_ i: Int) -> String { state.panes.count > 1 ? " of pane \(i + 1)" : "" }
    private func intoPane(_ i: Int) -> String { state.panes.count > 1 ? " into pane \(i + 1)" : "" }
    private func inPane(_ i: Int) -> String { state.panes.count > 1 ? " in pane \(i + 1)" : "" }

    /// "1 message", "4 messages"
    static func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
}
