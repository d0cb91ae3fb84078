// EventLoop: the UI thread. Polls the terminal and the engine's self-pipe, turns bytes into
// readline edits, lines and key actions, engine events into state changes, performs the effects
// (start an answer on a generator thread, cancel, save, load) and redraws once per frame.
// The only code that calls curses or readline, always on this thread.

import CNCursesW
import CTerminalRescue
import Foundation
import SiroccoEngine

final class EventLoop {
    var state: AppState
    let terminal: Terminal
    private let options: ChatOptions
    let queue: EventQueue
    let input = InputLine.shared
    let themes = ThemeLoader.standard()
    let cache = WrapCache()
    var store: ConversationStore
    private let resumeFiles: [String]
    private let resumeStem: String?
    var sessions: [ChatSession] = []
    /// Each pane's answers and KV cache saves and restores, one at a time in order.
    var work: [SerialWork] = []
    /// Text /copy put on the clipboard, sent to the terminal after the next frame is written.
    var clipboard: String?
    /// Notices for the first pane once the panes exist (theme problems found while loading).
    private var startupNotices: [TranscriptEntry.Kind: [String]] = [:]

    private var running = true
    private var needsDraw = true
    private var lastDraw = ContinuousClock.now - .seconds(1)
    private var quitting = false
    private var quitDeadline: ContinuousClock.Instant?
    private var exitStatus: Int32 = 0
    /// Printed to stderr after the terminal is restored (e.g. a model that failed to load).
    private(set) var exitMessage: String?
    /// Printed to stdout after the terminal is restored (where the conversation was saved).
    private(set) var savedNote: String?

    /// Fewest milliseconds between two frames.
    private static let frameInterval: Duration = .milliseconds(30)

    init(options: ChatOptions, terminal: Terminal, store: ConversationStore, resumeFiles: [String], resumeStem: String?) throws {
        self.options = options
        self.terminal = terminal
        self.store = store
        self.resumeFiles = resumeFiles
        self.resumeStem = resumeStem
        queue = try EventQueue()
        Terminal.wakeDescriptor = queue.writeDescriptor
        let names = options.modelPaths.map { URL(fileURLWithPath: $0).lastPathComponent }
        state = AppState(phase: .loading("Loading \(Array(Set(names)).sorted().joined(separator: ", ")) …"))
        loadTheme(options.themeName ?? "default", atStartup: true)
    }

    // MARK: the loop

    func run() -> Int32 {
        let history = ConversationStore.dataDirectory() + "/history"
        input.install(bindings: KeyBinding.all, historyFile: history)
        input.waitForByte = { [terminal] in
            // readline wants the rest of a sequence that has not arrived: wait a little for it
            guard let c = terminal.readKeyWaiting(timeoutMilliseconds: 100), c >= 0, c < 256 else { return nil }
            return UInt8(c)
        }
        defer { input.uninstall() }
        startLoading()

        while running {
            let now = ContinuousClock.now
            if needsDraw && now - lastDraw >= EventLoop.frameInterval { draw() }
            var timeout: Int32 = 1000
            if needsDraw {
                timeout = max(1, Int32((EventLoop.frameInterval - (now - lastDraw)).milliseconds))
            } else if state.anyStreaming || quitting || state.phase != .running {
                timeout = 100
            }
            var fds = [pollfd(fd: 0, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: queue.readDescriptor, events: Int16(POLLIN), revents: 0)]
            _ = poll(&fds, 2, timeout)

            if Terminal.quitSignal.exchange(false, ordering: .acquiringAndReleasing) { beginQuit(force: false) }
            readInput()
            for event in queue.drain() { handle(event) }
            if state.anyStreaming || state.phase != .running {
                state.spinnerFrame += 1
                needsDraw = true
            }
            if quitting {
                if !state.anyStreaming || (quitDeadline.map { ContinuousClock.now >= $0 } ?? true) { running = false }
            }
        }
        finish()
        return exitStatus
    }

    /// The layout for the terminal's size, the input rows a multi-line message needs included.
    private func layout() -> ScreenLayout {
        ScreenLayout(width: terminal.width, height: terminal.height, paneCount: max(1, state.panes.count),
                     inputRows: 1 + (state.multiline.typed?.count ?? 0))
    }

    private func draw() {
        let layout = layout()
        let canvas = Canvas(window: terminal.window, palette: terminal.palette, unicode: terminal.unicode)
        let cursor = Screen.draw(state, layout: layout, canvas: canvas, inputText: input.text, inputCursor: input.cursorByte,
                                 cache: cache)
        wmove(terminal.window, Int32(cursor.y), Int32(cursor.x))
        wnoutrefresh(terminal.window)
        doupdate()
        // curses has written and flushed its frame: a sequence of our own cannot cut into its output
        if let text = clipboard {
            Clipboard.send(text)
            clipboard = nil
        }
        lastDraw = ContinuousClock.now
        needsDraw = false
    }

    // MARK: input

    private func readInput() {
        var helpOpenAtStart = state.helpVisible
        var sawInput = false
        while let key = terminal.readKey() {
            sawInput = true
            if key == sh_key_resize() { continue }  // curses has resized the screen; the next frame re-lays out
            guard key >= 0 && key < 256 else { continue }
            let byte = UInt8(key)
            if state.phase != .running {
                // typed ahead while the model loads: kept, and read once the panes exist
                if byte == 3 { beginQuit(force: true) } else { input.feed(byte) }
                continue
            }
            if helpOpenAtStart {
                // any key closes the help; the rest of its bytes (an escape sequence) go with it
                state.helpVisible = false
                continue
            }
            if byte == 3 {
                input.process()
                ctrlC()
                helpOpenAtStart = false
                continue
            }
            input.feed(byte)
        }
        guard sawInput, state.phase == .running else { return }
        needsDraw = true
        processInput()
    }

    private func processInput() {
        input.process()
        for action in input.takeActions() { handle(action) }
        for line in input.takeSubmitted() { submit(line) }
    }

    /// Ctrl-C stops a running answer, discards a multi-line message or clears the line; at an idle
    /// prompt it only says how to quit (as Ollama: a Ctrl-C meant for an answer that just ended
    /// must not end the chat).
    private func ctrlC() {
        if state.anyStreaming {
            for (i, session) in sessions.enumerated() where state.panes[i].streaming { session.cancel() }
            state.inform("stopping the answer…")
        } else if state.multiline.isOpen {
            state.multiline.discard()
            input.setText("")
            state.inform("multi-line message discarded")
        } else if !input.text.isEmpty {
            input.setText("")
            state.inform("line cleared")
        } else {
            state.inform(EventLoop.howToQuit)
        }
    }

    static let howToQuit = "Use Ctrl-D or /bye to exit."

    private func handle(_ action: KeyAction) {
        switch action {
        case .help:
            state.helpVisible.toggle()
        case let .knob(knob, direction):
            guard sessions.indices.contains(state.focus) else { return }
            let session = sessions[state.focus]
            let settings = knob.step(session.settings, direction: direction)
            session.settings = settings  // applies from the next token, even mid-answer
            state.panes[state.focus].settings = settings
            state.inform("\(paneName(state.focus)): \(knob.name) \(knob.value(in: settings))")
        case .focusNext, .focusPrevious:
            guard state.panes.count > 1 else {
                state.inform("one pane: Tab moves the focus when comparing models (--model A --model B)")
                return
            }
            state.moveFocus(by: action == .focusNext ? 1 : -1)
            state.inform("focus: \(paneName(state.focus)) — settings keys and /set apply to it")
        case .pageUp, .pageDown:
            let layout = layout()
            guard layout.panes.indices.contains(state.focus), state.panes.indices.contains(state.focus) else { return }
            let rect = layout.panes[state.focus].conversation
            let width = rect.width - (rect.width >= 20 ? 2 : 0)
            let count = ConversationPane.lines(for: state.panes[state.focus], width: width, cache: cache).count
            let page = max(1, rect.height - 2)
            state.scrollFocused(by: action == .pageUp ? page : -page, lineCount: count, height: rect.height)
        case .redraw:
            clearok(terminal.window, true)
        case .toggleReasoning:
            guard state.panes.indices.contains(state.focus) else { return }
            state.panes[state.focus].showsReasoning.toggle()
            state.inform("\(paneName(state.focus)): reasoning \(state.panes[state.focus].showsReasoning ? "shown in full" : "folded") (F12)")
        }
        needsDraw = true
    }

    func paneName(_ i: Int) -> String {
        state.panes.count > 1 ? "pane \(i + 1)" : "settings"
    }

    func send(_ text: String) {
        for (i, session) in sessions.enumerated() {
            state.panes[i].append(.user, text)
            state.panes[i].streaming = true
            state.panes[i].waitingForFirstToken = true
            state.panes[i].scrollTop = nil
            state.panes[i].lastStop = nil
            state.panes[i].answerSeedFixed = session.settings.seed != nil
            let queue = self.queue
            work[i].run("sirocco-pane-\(i + 1)") {
                let altStack = tr_alt_stack_begin()  // a crash here still restores the terminal
                defer { tr_alt_stack_end(altStack) }
                do {
                    try session.respond(to: text) { event in queue.post(.generation(pane: i, event)) }
                    queue.post(.turnEnded(pane: i, error: nil))
                } catch {
                    queue.post(.turnEnded(pane: i, error: EventLoop.message(error)))
                }
            }
        }
    }

    /// Loads the conversation saved in `file` into pane `i`, and its KV cache when there is one.
    func load(_ file: String, intoPane i: Int) throws {
        let session = sessions[i]
        work[i].wait()  // a cache save or restore still running
        try session.load(from: file)
        restoreCache(pane: i, forConversation: file)
        let tokenizer = session.model.tokenizer
        state.panes[i].replaceTranscript(with: session.messages) { tokenizer.encode($0, addSpecial: false, parseSpecial: false).count }
        state.panes[i].settings = session.settings
        if let system = session.systemPrompt, !system.isEmpty {
            state.panes[i].entries.insert(TranscriptEntry(id: state.panes[i].nextEntryID, kind: .notice,
                                                          text: "system prompt: \(system)"), at: 0)
            state.panes[i].nextEntryID += 1
        }
    }

    func loadTheme(_ name: String, atStartup: Bool) {
        do {
            let theme = try themes.load(name)
            state.theme = theme
            terminal.apply(theme)
            if !atStartup { state.inform("theme \(theme.name)") }
        } catch {
            let message = (atStartup ? "using the default theme: " : "theme unchanged: ") + EventLoop.message(error)
            if atStartup {
                state.theme = .builtin
                terminal.apply(.builtin)
                startupNotices[.error, default: []].append(message)
            }
            state.warn(message)
        }
        needsDraw = true
    }

    // MARK: engine events

    private func startLoading() {
        let options = self.options
        let queue = self.queue
        let paneCount = options.modelPaths.count
        let threads = options.threads ?? max(1, ProcessInfo.processInfo.activeProcessorCount / paneCount)
        let thread = Thread {
            let altStack = tr_alt_stack_begin()
            defer { tr_alt_stack_end(altStack) }
            do {
                var models: [String: Model] = [:]
                var sessions: [ChatSession] = []
                for path in options.modelPaths {
                    let model: Model
                    if let loaded = models[path] { model = loaded } else {
                        model = try Model(path: path)  // its errors name the file
                        models[path] = model
                    }
                    let format = try options.template.map { try ChatFormat.named($0, for: model) }
                    let session = try ChatSession(model: model, contextLength: options.contextLength, threads: threads,
                                                  cacheType: options.cacheType, format: format, systemPrompt: options.systemPrompt, settings: options.settings)
                    session.maxAnswerTokens = options.maxAnswerTokens
                    sessions.append(session)
                }
                queue.post(.loaded(sessions))
            } catch {
                queue.post(.loadFailed(EventLoop.message(error)))
            }
        }
        thread.name = "sirocco-load"
        thread.stackSize = 8 << 20
        thread.start()
    }

    private func handle(_ event: EngineEvent) {
        needsDraw = true
        switch event {
        case let .loaded(sessions):
            self.sessions = sessions
            work = sessions.map { _ in SerialWork() }
            if quitting { running = false; return }
            state.panes = sessions.enumerated().map { i, session in
                var pane = PaneState(index: i, modelName: EventLoop.displayName(session.model),
                                     modelPath: session.model.file.path, templateName: session.format.name,
                                     threads: session.context.threadCount)
                pane.settings = session.settings
                pane.stats = EventLoop.idleStats(session)
                return pane
            }
            state.phase = .running
            for (i, session) in sessions.enumerated() where session.format.isCompletion && session.model.chatTemplate == nil {
                state.panes[i].append(.notice, EventLoop.completionNote(session.model))
            }
            if let system = options.systemPrompt, !system.isEmpty {
                for i in state.panes.indices { state.panes[i].append(.notice, "system prompt: \(system)") }
            }
            if options.resume { resume() }
            prefaultModels()
            for (kind, messages) in startupNotices { for m in messages { state.panes[0].append(kind, m) } }
            startupNotices = [:]
            processInput()
        case let .loadFailed(message):
            exitMessage = "error: \(message)"
            exitStatus = 1
            running = false
        case let .generation(pane, event):
            state.apply(event, toPane: pane)
        case let .turnEnded(i, error):
            guard state.panes.indices.contains(i), sessions.indices.contains(i) else { return }
            let session = sessions[i]
            state.panes[i].streaming = false
            state.panes[i].waitingForFirstToken = false
            if let error { state.panes[i].append(.error, error) }
            switch state.panes[i].lastStop {
            case .cancelled?: state.panes[i].append(.notice, "stopped (the partial answer is kept)")
            case .maxTokens?: state.panes[i].append(.notice, "cut at \(session.maxAnswerTokens) tokens (--max-tokens)")
            case .contextFull?: state.panes[i].append(.notice, "the context is full (--ctx-size \(session.context.contextLength)); /clear starts over")
            default: break
            }
            if error == nil, state.panes[i].entries.last?.kind == .user { state.panes[i].append(.notice, "(empty answer)") }
            if let notice = session.format.takeNotice() { state.panes[i].append(.notice, notice) }
            let dropped = session.droppedMessages
            if dropped > 0 && state.panes[i].entries.last?.kind != .error {
                state.status = StatusMessage(text: "context full: \(dropped) oldest messages no longer seen by the model", isError: false)
            }
            autosave(pane: i)
            if !state.anyStreaming, state.status?.text == "stopping the answer…" { state.status = nil }
        case let .cacheRestored(i, tokens, seconds):
            cacheRestored(pane: i, tokens: tokens, seconds: seconds)
        case let .cacheFailed(_, message):
            state.warn(message)
        }
    }

    /// Maps each model's weights on a thread of its own, so the first answer does not fault them in
    /// (a resumed chat's next answer then costs only its new tokens); an answer sent at once does
    /// not wait for it, it shares the work.
    private func prefaultModels() {
        var seen = Set<ObjectIdentifier>()
        for session in sessions where seen.insert(ObjectIdentifier(session.model)).inserted {
            let model = session.model
            let thread = Thread { model.prefault() }
            thread.name = "sirocco-prefault"
            thread.start()
        }
    }

    private func resume() {
        guard !resumeFiles.isEmpty, let resumeStem else {
            state.panes[0].append(.notice, "no saved conversation to resume in \(store.directory); starting a new one")
            return
        }
        for (i, file) in resumeFiles.enumerated() where sessions.indices.contains(i) {
            do {
                try load(file, intoPane: i)
                state.panes[i].append(.notice, "resumed \(file)")
            } catch {
                state.panes[i].append(.error, "cannot resume: \(EventLoop.message(error))")
            }
        }
        store.continueChat(stem: resumeStem)
    }

    /// Saves pane `i`'s conversation in the store, and then (`withCache`) its KV cache beside it.
    private func autosave(pane i: Int, withCache: Bool = true) {
        let session = sessions[i]
        guard !session.messages.isEmpty else { return }
        let path = store.path(forPane: i)
        do {
            try session.save(to: path)
            savedNote = "Conversation saved in \(store.directory) (sirocco chat --resume reopens it)"
        } catch {
            state.warn("autosave failed: \(EventLoop.message(error))")
            return
        }
        if withCache { saveCache(pane: i, forConversation: path, pruneStore: true) }
    }

    // MARK: quitting

    func beginQuit(force: Bool) {
        if quitting && force { running = false; return }
        if state.phase != .running && force { running = false }
        quitting = true
        state.helpVisible = false
        for (i, session) in sessions.enumerated() where state.panes.indices.contains(i) && state.panes[i].streaming {
            session.cancel()
        }
        // an answer stops within a token; give the generator threads a moment to hand it over
        quitDeadline = ContinuousClock.now + .seconds(3)
        state.inform("quitting…")
        needsDraw = true
    }

    private func finish() {
        // answers still running when the deadline passed: save what the sessions hold
        for (i, pane) in state.panes.enumerated() where pane.streaming && sessions.indices.contains(i) {
            sessions[i].cancel()
            autosave(pane: i, withCache: false)  // the cells are still being written
        }
        // KV cache saves still running (not behind an answer that would not stop)
        let deadline = DispatchTime.now() + 30
        for (i, pane) in state.panes.enumerated() where !pane.streaming && work.indices.contains(i) {
            work[i].wait(timeout: deadline)
        }
    }

    // MARK: helpers

    static func idleStats(_ session: ChatSession) -> GenerationStats {
        var stats = session.lastStats
        let cache = session.context.cache
        stats.cacheCellsUsed = cache.count
        stats.cacheCapacity = cache.capacity
        stats.cacheBytesUsed = cache.bytesUsed
        stats.cacheBytesCapacity = cache.byteCapacity
        return stats
    }

    /// The model file's name without ".gguf" (more telling than the GGUF's general.name, which
    /// often lacks the size or quantization).
    static func displayName(_ model: Model) -> String {
        let stem = URL(fileURLWithPath: model.file.path).deletingPathExtension().lastPathComponent
        return stem.isEmpty ? model.config.name : stem
    }

    /// The note a pane on a base model opens with.
    static func completionNote(_ model: Model) -> String {
        "base model (no chat template): completion mode — the model continues your text; "
            + "/template NAME picks a chat format (e.g. /template \(ChatFormat.likelyTemplate(for: model).rawValue))"
    }

    static func expand(_ path: String) -> String { (path as NSString).expandingTildeInPath }

    /// An error as one line for the UI.
    static func message(_ error: Error) -> String {
        let text = error is CocoaError ? error.localizedDescription : "\(error)"
        return TerminalText.escaped(text.split(separator: "\n").first.map(String.init) ?? text)
    }
}

private extension Duration {
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
