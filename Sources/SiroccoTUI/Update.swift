// Update: the pure half of the event loop, as Bubble Tea's Update(msg) → (model, Cmd). An input
// (a finished line, a key, Ctrl-C, an engine event, what an effect found out) changes the state
// and names the effects to run (start an answer, cancel, save, load, …). It touches no session,
// file, thread or terminal: the event loop's effect runner does, and reports back with inputs.

import SiroccoEngine

/// Something the UI reacts to.
enum Input: Equatable, Sendable {
    /// A line Enter finished (nil: Ctrl-D on an empty line).
    case line(String?)
    /// A key the UI binds.
    case key(KeyAction)
    /// Ctrl-C, with the line being edited.
    case interrupt(inputText: String)
    /// A key pressed while the help is shown (it closes the help and does nothing else).
    case closeHelp
    case resized(width: Int, height: Int)
    /// A frame passed while something moves (the spinners turn).
    case tick
    /// Quit once the answers stop; `force`: at once when already quitting or still loading.
    case quit(force: Bool)
    /// The models are loaded: one pane each.
    case panesReady([PaneState])
    /// The model /model asked for is loaded: its pane.
    case paneOpened(PaneState)
    /// The model /model asked for cannot be opened: why, in one line.
    case modelFailed(String)
    /// A streaming event of pane `pane`'s answer.
    case generation(pane: Int, GenerationEvent)
    case turnEnded(TurnEnd)
    /// Pane `pane`'s KV cache was restored from its file: `tokens` of the conversation in
    /// `seconds`; `stats`: the pane's numbers now.
    case cacheRestored(pane: Int, tokens: Int, seconds: Double, stats: GenerationStats)
    /// Pane `pane`'s numbers while no answer runs (after its cache changed).
    case idleStats(pane: Int, GenerationStats)
    /// A conversation was read into pane `pane` from `file` (by /load, or by --resume).
    /// `reasoningTokens[i]`: the tokenizer's count of message i's reasoning block.
    case conversationLoaded(pane: Int, file: String, ChatSession.Saved, resumed: Bool, reasoningTokens: [Int] = [])
    case conversationSaved(pane: Int, file: String, messages: Int)
    /// Pane `pane` now uses the chat format `name`.
    case templateChanged(pane: Int, name: String, isCompletion: Bool)
    case themeChanged(Theme)
    /// The themes there are, for /theme alone.
    case themesListed([String])
    /// Lines for pane `pane`'s transcript (facts asked for, a problem met on the way).
    case notes(pane: Int, kind: TranscriptEntry.Kind, [String])
    case status(StatusMessage)
}

/// What the runner read from a session when its turn ended.
struct TurnEnd: Equatable, Sendable {
    var pane: Int
    /// Why the turn failed, as one line (nil: the answer is in the session).
    var error: String?
    /// Whether the session kept the message sent: false when it failed before the backend took it
    /// (a server that could not be reached keeps nothing of the exchange).
    var messageKept = true
    /// What the chat format has to say once (a template that fell back to a built-in one).
    var formatNotice: String?
    /// Messages dropped from the start of the conversation because the context was full.
    var droppedMessages: Int
}

/// Work the update asks for; the event loop's effect runner does it.
enum Effect: Equatable, Sendable {
    /// Answer `text` in pane `pane` (after the pane's earlier work).
    case startAnswer(pane: Int, text: String)
    /// Answer pane `pane`'s last message again from a new random seed, its last answer dropped.
    case retryAnswer(pane: Int)
    /// Take pane `pane`'s last message and its answer out of its conversation.
    case takeBackExchange(pane: Int)
    case cancel(pane: Int)
    case applySettings(pane: Int, SamplerSettings)
    case setMaxAnswerTokens(pane: Int, Int)
    /// The system prompt of every pane.
    case setSystemPrompt(String)
    case showInfo(pane: Int)
    case showSystemPrompt(pane: Int)
    case setTemplate(pane: Int, name: String)
    case loadTheme(String)
    case listThemes
    /// Empty every pane's session and KV cache; later autosaves go to new files.
    case clearConversations
    /// Save pane `pane`'s conversation (and its KV cache) to `path` (`~` not yet expanded).
    case save(pane: Int, path: String)
    case load(pane: Int, path: String)
    /// Save pane `pane`'s conversation and KV cache in the conversation store.
    case autosave(pane: Int)
    /// Replace the line being edited.
    case setInputText(String)
    case addHistory(String)
    /// Open a model (a catalog name, a GGUF path or a server's) for a new pane, off the UI thread.
    case openModel(PaneModel)
    /// Pane `pane` is gone: its session too, and the panes' files start anew.
    case closePane(Int)
    /// Stop the loop once the answers stop (or a short deadline passes).
    case quitWhenAnswersEnd
    case exitNow
    /// Repaint the whole terminal (Ctrl-L).
    case redraw
    /// Put `text` on the terminal's clipboard (OSC 52) once the next frame is written.
    case copyToClipboard(String)
}

enum Update {
    static let howToQuit = "Use Ctrl-D or /bye to exit."
    static let stopping = "stopping the answer…"
    static let stillAnswering = "still answering — Ctrl-C stops it first"
    /// /template on a server's pane.
    static let serverAppliesTemplate = "the server applies its own chat template"

    /// Applies `input` to `state`; returns the effects to run, in order.
    static func update(_ state: inout AppState, _ input: Input) -> [Effect] {
        switch input {
        case let .line(line):
            return submit(&state, line)
        case let .key(action):
            return key(&state, action)
        case let .interrupt(inputText):
            return interrupt(&state, inputText: inputText)
        case .closeHelp:
            state.helpVisible = false
        case let .resized(width, height):
            state.screenWidth = width
            state.screenHeight = height
        case .tick:
            state.spinnerFrame += 1
        case let .quit(force):
            return quit(&state, force: force)
        case let .panesReady(panes):
            state.panes = panes
            state.phase = .running
        case var .paneOpened(pane):
            state.openingModel = nil
            pane.index = state.panes.count
            state.panes.append(pane)
            state.focus = pane.index
            state.inform("pane \(pane.index + 1) opened: \(pane.title) (focused; Tab moves the focus)")
        case let .modelFailed(message):
            state.openingModel = nil
            state.warn(message)
        case let .generation(pane, event):
            state.apply(event, toPane: pane)
        case let .turnEnded(end):
            return turnEnded(&state, end)
        case let .cacheRestored(i, tokens, seconds, stats):
            guard tokens > 0, state.panes.indices.contains(i) else { return [] }
            if !state.panes[i].streaming { state.panes[i].stats = stats }
            state.panes[i].append(.notice, "KV cache restored: \(tokens) tokens in \(Int((seconds * 1000).rounded())) ms")
        case let .idleStats(i, stats):
            guard state.panes.indices.contains(i) else { return [] }
            state.panes[i].stats = stats
        case let .conversationLoaded(i, file, saved, resumed, reasoningTokens):
            guard state.panes.indices.contains(i) else { return [] }
            state.panes[i].replaceTranscript(with: saved.messages, reasoningTokens: reasoningTokens)
            state.panes[i].settings = saved.settings
            if let system = saved.systemPrompt, !system.isEmpty {
                state.panes[i].entries.insert(TranscriptEntry(id: state.panes[i].nextEntryID, kind: .notice,
                                                              text: "system prompt: \(system)"), at: 0)
                state.panes[i].nextEntryID += 1
            }
            if resumed {
                state.panes[i].append(.notice, "resumed \(file)")
            } else {
                state.inform("loaded the conversation from \(file)\(intoPane(i, state)) (\(count(saved.messages.count, "message")))")
            }
        case let .conversationSaved(i, file, messages):
            state.inform("saved the conversation\(ofPane(i, state)) (\(count(messages, "message"))) to \(file)")
        case let .templateChanged(i, name, isCompletion):
            guard state.panes.indices.contains(i) else { return [] }
            state.panes[i].templateName = name
            state.inform("\(paneName(i, state)): template \(name)" + (isCompletion ? " — the model continues your text" : ""))
        case let .themeChanged(theme):
            state.theme = theme
            state.inform("theme \(theme.name)")
        case let .themesListed(names):
            state.inform("theme: \(state.theme.name) (available: \(names.isEmpty ? "none found" : names.joined(separator: ", ")))")
        case let .notes(i, kind, lines):
            guard state.panes.indices.contains(i) else { return [] }
            for line in lines { state.panes[i].append(kind, line) }
            state.panes[i].scrollTop = nil
        case let .status(message):
            state.status = message
        }
        return []
    }

    // MARK: keys

    private static func key(_ state: inout AppState, _ action: KeyAction) -> [Effect] {
        switch action {
        case .help:
            state.helpVisible.toggle()
        case let .knob(knob, direction):
            guard state.panes.indices.contains(state.focus) else { return [] }
            let settings = knob.step(state.panes[state.focus].settings, direction: direction)
            state.panes[state.focus].settings = settings
            state.inform("\(paneName(state.focus, state)): \(knob.name) \(knob.value(in: settings))")
            return [.applySettings(pane: state.focus, settings)]  // from the next token, even mid-answer
        case .focusNext, .focusPrevious:
            guard state.panes.count > 1 else {
                state.inform("one pane: Tab moves the focus when comparing models (/model NAME opens another)")
                return []
            }
            state.moveFocus(by: action == .focusNext ? 1 : -1)
            state.inform("focus: \(paneName(state.focus, state)) — "
                         + (state.sendToAll ? "settings keys and /set apply to it" : "messages, settings keys and /set go to it"))
        case .pageUp, .pageDown:
            let layout = state.layout
            guard layout.panes.indices.contains(state.focus), state.panes.indices.contains(state.focus) else { return [] }
            let rect = layout.panes[state.focus].conversation
            let width = rect.width - (rect.width >= 20 ? 2 : 0)
            let count = ConversationPane.lines(for: state.panes[state.focus], width: width, cache: nil).count
            let page = max(1, rect.height - 2)
            state.scrollFocused(by: action == .pageUp ? page : -page, lineCount: count, height: rect.height)
        case .redraw:
            return [.redraw]
        case .toggleReasoning:
            guard state.panes.indices.contains(state.focus) else { return [] }
            state.panes[state.focus].showsReasoning.toggle()
            state.inform("\(paneName(state.focus, state)): reasoning \(state.panes[state.focus].showsReasoning ? "shown in full" : "folded") (F12)")
        }
        return []
    }

    /// Ctrl-C stops a running answer, discards a multi-line message or clears the line; at an idle
    /// prompt it only says how to quit (as Ollama: a Ctrl-C meant for an answer that just ended
    /// must not end the chat).
    private static func interrupt(_ state: inout AppState, inputText: String) -> [Effect] {
        if state.anyStreaming {
            state.inform(stopping)
            return state.panes.indices.filter { state.panes[$0].streaming }.map { .cancel(pane: $0) }
        } else if state.multiline.isOpen {
            state.multiline.discard()
            state.inform("multi-line message discarded")
            return [.setInputText("")]
        } else if !inputText.isEmpty {
            state.inform("line cleared")
            return [.setInputText("")]
        }
        state.inform(howToQuit)
        return []
    }

    private static func quit(_ state: inout AppState, force: Bool) -> [Effect] {
        if force && (state.quitting || state.phase != .running) { return [.exitNow] }
        state.quitting = true
        state.helpVisible = false
        state.inform("quitting…")
        // an answer stops within a token; the loop gives the generator threads a moment to hand it over
        return state.panes.indices.filter { state.panes[$0].streaming }.map { .cancel(pane: $0) } + [.quitWhenAnswersEnd]
    }

    // MARK: engine events

    private static func turnEnded(_ state: inout AppState, _ end: TurnEnd) -> [Effect] {
        let i = end.pane
        guard state.panes.indices.contains(i) else { return [] }
        state.panes[i].streaming = false
        state.panes[i].waitingForFirstToken = false
        if let error = end.error { state.panes[i].append(.error, error) }
        state.panes[i].lastMessageUnsent = !end.messageKept
        switch state.panes[i].lastStop {
        case .cancelled?: state.panes[i].append(.notice, "stopped (the partial answer is kept)")
        case .maxTokens?: state.panes[i].append(.notice, "cut at \(state.panes[i].maxAnswerTokens) tokens (--max-tokens)")
        case .contextFull?:
            state.panes[i].append(.notice, "the context is full (--ctx-size \(state.panes[i].contextLength)); /clear starts over")
        default: break
        }
        if end.error == nil, state.panes[i].entries.last?.kind == .user { state.panes[i].append(.notice, "(empty answer)") }
        if let notice = end.formatNotice { state.panes[i].append(.notice, notice) }
        if end.droppedMessages > 0 && state.panes[i].entries.last?.kind != .error {
            state.inform("context full: \(end.droppedMessages) oldest messages no longer seen by the model")
        }
        if !state.anyStreaming, state.status?.text == stopping { state.status = nil }
        return [.autosave(pane: i)]
    }

    // MARK: wording

    /// "pane 2" when there are several panes, else "settings" (as the status line says it).
    static func paneName(_ i: Int, _ state: AppState) -> String {
        state.panes.count > 1 ? "pane \(i + 1)" : "settings"
    }

    /// " of pane 2" when there are several panes.
    static func ofPane(_ i: Int, _ state: AppState) -> String { state.panes.count > 1 ? " of pane \(i + 1)" : "" }
    static func intoPane(_ i: Int, _ state: AppState) -> String { state.panes.count > 1 ? " into pane \(i + 1)" : "" }
    static func inPane(_ i: Int, _ state: AppState) -> String { state.panes.count > 1 ? " in pane \(i + 1)" : "" }

    /// "1 message", "4 messages"
    static func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
}
