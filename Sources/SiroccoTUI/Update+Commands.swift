// Update+Commands: what a finished input line does — a line of a multi-line message, a message
// sent to the panes, or a slash command — as state changes and effects. Pure, as Update.

import Foundation
import SiroccoEngine

extension Update {
    /// A line Enter finished (nil: Ctrl-D on an empty line).
    static func submit(_ state: inout AppState, _ line: String?) -> [Effect] {
        guard let line else { return update(&state, .quit(force: false)) }
        let before = state.multiline
        switch state.multiline.take(line) {
        case .collecting:
            state.status = nil
            return []
        case let .message(text):
            var effects: [Effect] = []
            if state.anyStreaming { state.multiline = before }  // the block stays open, its last line given back
            else { effects.append(.addHistory(MultilineInput.historyEntry(for: text))) }
            return effects + sendTyped(&state, text, giveBack: line)
        case let .line(line):
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { return [] }
            let effects: [Effect] = [.addHistory(line)]
            let command: Command
            do { command = try CommandParser.parse(trimmed) } catch {
                state.warn(error.description)
                return effects
            }
            state.status = nil
            if case let .send(text) = command { return effects + sendTyped(&state, text, giveBack: line) }
            return effects + apply(&state, command)
        }
    }

    /// Sends a message typed by the user; while an answer is still running, the line that
    /// finished it goes back into the input (a multi-line message stays open).
    private static func sendTyped(_ state: inout AppState, _ text: String, giveBack line: String) -> [Effect] {
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            state.warn("the message is empty")
            return []
        }
        guard !state.anyStreaming else {
            state.warn("still answering — wait, or press Ctrl-C to stop the answer")
            return [.setInputText(line)]
        }
        return send(&state, text)
    }

    /// Starts an answer to `text` in the target panes (every pane, or the focused one).
    static func send(_ state: inout AppState, _ text: String) -> [Effect] {
        let targets = state.targetPanes
        state.compare(targets)
        return targets.map { i in
            state.panes[i].append(.user, text)
            state.panes[i].startAnswer()
            return .startAnswer(pane: i, text: text)
        }
    }

    private static func apply(_ state: inout AppState, _ command: Command) -> [Effect] {
        let focus = state.focus
        let hasFocus = state.panes.indices.contains(focus)
        switch command {
        case let .send(text):
            return send(&state, text)
        case let .set(edit):
            guard hasFocus else { return [] }
            var settings = state.panes[focus].settings
            edit.apply(to: &settings)
            do { try settings.validate() } catch {
                state.warn("\(error)")
                return []
            }
            state.panes[focus].settings = settings
            state.inform("\(paneName(focus, state)): \(edit.summary)")
            return [.applySettings(pane: focus, settings)]
        case let .maxAnswerTokens(tokens):
            guard hasFocus else { return [] }
            let n = tokens ?? state.panes[focus].contextLength
            state.panes[focus].maxAnswerTokens = n
            state.inform("\(paneName(focus, state)): answers of at most \(n) tokens" + (tokens == nil ? " (until the context is full)" : ""))
            return [.setMaxAnswerTokens(pane: focus, n)]
        case .showSettings:
            guard hasFocus else { return [] }
            let pane = state.panes[focus], s = pane.settings
            let seed = s.seed.map { "\($0)" } ?? "random"
            state.inform("\(paneName(focus, state)): temp \(Format.decimal(s.temperature)), top-p \(Format.decimal(s.topP)), top-k \(s.topK), min-p \(Format.decimal(s.minP)), repeat penalty \(Format.decimal(s.repeatPenalty)) over \(s.penaltyLastN), seed \(seed), max \(pane.maxAnswerTokens) tokens")
            return []
        case .showInfo:
            return hasFocus ? [.showInfo(pane: focus)] : []
        case let .system(text):
            guard let text else { return hasFocus ? [.showSystemPrompt(pane: focus)] : [] }
            for i in state.panes.indices { state.panes[i].append(.notice, "system prompt: \(text)") }
            state.inform("system prompt set for every pane")
            return [.setSystemPrompt(text)]
        case .clear:
            guard !state.anyStreaming else { state.warn(stillAnswering); return [] }
            for i in state.panes.indices {
                state.panes[i].entries = []
                state.panes[i].scrollTop = nil
                state.panes[i].lastStop = nil
                state.panes[i].lastMessageUnsent = false
            }
            state.compare([])
            state.inform("new conversation (the previous one stays saved)")
            return [.clearConversations]
        case let .save(path):
            return hasFocus ? [.save(pane: focus, path: path)] : []
        case let .load(path):
            guard hasFocus else { return [] }
            guard !state.anyStreaming else { state.warn(stillAnswering); return [] }
            return [.load(pane: focus, path: path)]
        case let .template(name):
            guard hasFocus else { return [] }
            guard !state.panes[focus].isRemote else { state.inform(serverAppliesTemplate); return [] }
            guard let name else {
                state.inform("template: \(state.panes[focus].templateName) (available: \(ChatFormat.names.joined(separator: ", ")))")
                return []
            }
            return [.setTemplate(pane: focus, name: name)]
        case let .theme(name):
            guard let name else { return [.listThemes] }
            return [.loadTheme(name)]
        case .raw:
            guard hasFocus else { return [] }
            state.panes[focus].showsMarkdownSource.toggle()
            state.inform(state.panes[focus].showsMarkdownSource
                         ? "showing the markdown source\(ofPane(focus, state)) — /raw renders it again"
                         : "rendering markdown\(inPane(focus, state)) — /raw shows the source")
            return []
        case let .copy(target):
            guard hasFocus else { return [] }
            do {
                let copied = try Clipboard.text(target, in: state.panes[focus])
                state.inform("copied \(copied.summary) to the clipboard")
                return [.copyToClipboard(copied.text)]
            } catch {
                state.warn(error.description)
                return []
            }
        case .help:
            state.helpVisible = true
            return []
        case .quit:
            return update(&state, .quit(force: false))
        case .retry:
            return retry(&state)
        case .edit:
            return edit(&state)
        case let .model(choice):
            if let opening = state.openingModel { state.warn("still opening \(opening) — one model at a time"); return [] }
            guard state.panes.count < ChatTUI.maximumPanes else {
                state.warn("at most \(ChatTUI.maximumPanes) panes: /close one first")
                return []
            }
            state.openingModel = choice.displayName  // as the pane's title will name it once open
            state.status = nil
            return [.openModel(choice)]
        case .close:
            return close(&state)
        case .toggleSendToAll:
            guard state.panes.count > 1 else {
                state.inform("one pane: every message goes to it (/model NAME opens another)")
                return []
            }
            state.sendToAll.toggle()
            state.inform(state.sendToAll ? "messages go to every pane"
                         : "messages go to the focused pane only (pane \(state.focus + 1); Tab moves it, /all sends to all)")
            return []
        }
    }

    /// /close: the focused pane goes (not the last one, nor while an answer runs: the engine's
    /// events name panes by position); the panes after it move up.
    private static func close(_ state: inout AppState) -> [Effect] {
        guard state.panes.count > 1 else { state.warn("the last pane stays open (/bye quits)"); return [] }
        let i = state.focus
        guard !state.anyStreaming else { state.warn(stillAnswering); return [] }
        let name = state.panes[i].title
        state.panes.remove(at: i)
        for j in state.panes.indices { state.panes[j].index = j }
        state.focus = min(i, state.panes.count - 1)
        if state.panes.count == 1 { state.sendToAll = true }
        if state.panes.filter(\.compared).count < 2 { state.compare([]) }
        state.inform("closed pane \(i + 1) (\(name))")
        return [.closePane(i)]
    }

    /// /retry: each target pane's last answer is dropped and its last message answered again,
    /// from a new random seed (the prompt is in the KV cache: only its last token is evaluated);
    /// a message the session never took is sent again.
    private static func retry(_ state: inout AppState) -> [Effect] {
        guard !state.anyStreaming else { state.warn(stillAnswering); return [] }
        let panes = state.targetPanes.filter { state.panes[$0].lastUserEntry != nil }
        guard !panes.isEmpty else { state.warn("nothing to retry: no message sent yet"); return [] }
        state.compare(panes)
        return panes.map { i in
            let last = state.panes[i].lastUserEntry!
            let unsent = state.panes[i].lastMessageUnsent
            state.panes[i].entries.removeSubrange((last + 1)...)
            state.panes[i].startAnswer()
            if unsent { return .startAnswer(pane: i, text: state.panes[i].entries[last].text) }
            state.panes[i].answerSeedFixed = false
            return .retryAnswer(pane: i)
        }
    }

    /// /edit: the focused pane's last message goes back into the input line; it and its answer
    /// leave the target panes that had sent it, so Enter sends the changed message in its place.
    private static func edit(_ state: inout AppState) -> [Effect] {
        guard !state.anyStreaming else { state.warn(stillAnswering); return [] }
        guard state.panes.indices.contains(state.focus), let last = state.panes[state.focus].lastUserEntry else {
            state.warn("nothing to edit: no message sent yet")
            return []
        }
        let text = state.panes[state.focus].entries[last].text
        let panes = state.targetPanes.filter { i in
            state.panes[i].lastUserEntry.map { state.panes[i].entries[$0].text == text } ?? false
        }
        state.compare([])
        let taken = panes.filter { !state.panes[$0].lastMessageUnsent }  // the others' sessions do not have it
        for i in panes {
            state.panes[i].entries.removeSubrange(state.panes[i].lastUserEntry!...)
            state.panes[i].scrollTop = nil
            state.panes[i].lastStop = nil
            state.panes[i].lastMessageUnsent = false
        }
        state.inform("the last message is back in the input line: change it and press Enter")
        return taken.map { .takeBackExchange(pane: $0) } + [.setInputText(text)]
    }
}
