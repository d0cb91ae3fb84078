// EventLoop: the UI thread. Polls the terminal and the engine's self-pipe, turns bytes into
// readline edits, lines and key actions, and those and engine events into inputs for `Update`;
// runs the effects it asks for (EventLoop+Effects) and redraws once per frame.
// The only code that calls curses or readline, always on this thread.

import CNCursesW
import CTerminalRescue
import Foundation
import SiroccoEngine

final class EventLoop {
    var state: AppState
    let terminal: Terminal
    let options: ChatOptions
    let queue: EventQueue
    let input = InputLine.shared
    let themes = ThemeLoader.standard()
    let cache = WrapCache()
    var store: ConversationStore
    private let resumeFiles: [String]
    private let resumeStem: String?
    var sessions: [any ChatBackend] = []
    /// Each pane's answers and KV cache saves and restores, one at a time in order.
    var work: [SerialWork] = []
    /// Text /copy put on the clipboard, sent to the terminal after the next frame is written.
    var clipboard: String?
    /// Notices for the first pane once the panes exist (theme problems found while loading).
    private var startupNotices: [TranscriptEntry.Kind: [String]] = [:]

    private var running = true
    private var needsDraw = true
    private var lastDraw = ContinuousClock.now - .seconds(1)
    private var quitDeadline: ContinuousClock.Instant?
    private var exitStatus: Int32 = 0
    /// Printed to stderr after the terminal is restored (e.g. a model that failed to load).
    private(set) var exitMessage: String?
    /// Printed to stdout after the terminal is restored (where the conversation was saved).
    var savedNote: String?

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
        let names = options.paneModels.map(\.displayName)
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
            } else if state.isMoving || state.quitting {
                timeout = 100
            }
            var fds = [pollfd(fd: 0, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: queue.readDescriptor, events: Int16(POLLIN), revents: 0)]
            _ = poll(&fds, 2, timeout)

            syncSize()
            if Terminal.quitSignal.exchange(false, ordering: .acquiringAndReleasing) { dispatch(.quit(force: false)) }
            readInput()
            for event in queue.drain() { handle(event) }
            if state.isMoving { dispatch(.tick) }
            if state.quitting {
                if !state.anyStreaming || (quitDeadline.map { ContinuousClock.now >= $0 } ?? true) { running = false }
            }
        }
        finish()
        return exitStatus
    }

    private func draw() {
        syncSize()
        let layout = state.layout
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
                if byte == 3 { dispatch(.quit(force: true)) } else { input.feed(byte) }
                continue
            }
            if helpOpenAtStart {
                // any key closes the help; the rest of its bytes (an escape sequence) go with it
                dispatch(.closeHelp)
                continue
            }
            if byte == 3 {
                input.process()
                dispatch(.interrupt(inputText: input.text))
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
        for action in input.takeActions() { dispatch(.key(action)) }
        for line in input.takeSubmitted() { dispatch(.line(line)) }
    }

    /// Runs `input` through the update and the effects it asks for.
    func dispatch(_ input: Input) {
        needsDraw = true
        for effect in Update.update(&state, input) { run(effect) }
    }

    /// Tells the update the terminal's size when it changed.
    private func syncSize() {
        let (width, height) = (terminal.width, terminal.height)
        if width != state.screenWidth || height != state.screenHeight { dispatch(.resized(width: width, height: height)) }
    }

    func loadTheme(_ name: String, atStartup: Bool) {
        do {
            let theme = try themes.load(name)
            terminal.apply(theme)
            if atStartup { state.theme = theme } else { dispatch(.themeChanged(theme)) }
        } catch {
            let message = (atStartup ? "using the default theme: " : "theme unchanged: ") + EventLoop.message(error)
            if atStartup {
                state.theme = .builtin
                terminal.apply(.builtin)
                startupNotices[.error, default: []].append(message)
                state.warn(message)
            } else {
                dispatch(.status(StatusMessage(text: message, isError: true)))
            }
        }
        needsDraw = true
    }

    // MARK: engine events

    private func startLoading() {
        let options = self.options
        let queue = self.queue
        // the cores go to what computes here: a server's pane needs none, and panes of one model
        // share one batcher (see EventLoop.batches)
        let local = options.paneModels.filter { !$0.isRemote }.map(\.reference)
        let computing = max(1, EventLoop.batches(options) ? Set(local).count : local.count)
        let threads = options.threads ?? max(1, ProcessInfo.processInfo.activeProcessorCount / computing)
        EventLoop.startLoader("sirocco-load") {
            do {
                var models: [String: Model] = [:]
                var batchers: [String: SequenceBatcher] = [:]
                var sessions: [any ChatBackend] = []
                for pane in options.paneModels {
                    if pane.isRemote {
                        sessions.append(try EventLoop.openRemote(pane, options: options, systemPrompt: options.systemPrompt))
                        continue
                    }
                    let model: Model
                    if let loaded = models[pane.reference] { model = loaded } else {
                        model = try Model(path: pane.reference)  // its errors name the file
                        models[pane.reference] = model
                    }
                    if EventLoop.batches(options), batchers[pane.reference] == nil {
                        batchers[pane.reference] = SequenceBatcher(model: model, threads: threads)
                    }
                    let format = try options.template.map { try ChatFormat.named($0, for: model) }
                    sessions.append(try EventLoop.session(on: model, options: options, threads: threads, format: format,
                                                          systemPrompt: options.systemPrompt, batcher: batchers[pane.reference]))
                }
                queue.post(.loaded(sessions))
            } catch {
                queue.post(.loadFailed(EventLoop.message(error)))
            }
        }
    }

    /// Runs `body` on a thread named `name` with a stack big enough to load a model (template
    /// rendering recurses); a crash there still restores the terminal.
    static func startLoader(_ name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread {
            let altStack = tr_alt_stack_begin()
            defer { tr_alt_stack_end(altStack) }
            body()
        }
        thread.name = name
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Whether the panes of one model decode together, one pass over its weights a step for all
    /// of them (two panes of the 1.5B: 1.9× the tokens of one, against 1.3× decoding apart). Not
    /// with a draft model: verifying drafts runs on a pane's own threads.
    static func batches(_ options: ChatOptions) -> Bool { options.draftModelPath == nil }

    /// A chat on `model` with the chat's context length, cache type, settings and answer length;
    /// with a `batcher`, decoded together with the other panes on it.
    static func session(on model: Model, options: ChatOptions, threads: Int, format: ChatFormat?,
                        systemPrompt: String?, batcher: SequenceBatcher? = nil) throws -> ChatSession {
        let session = try ChatSession(model: model, contextLength: options.contextLength, threads: threads,
                                      cacheType: options.cacheType, format: format, systemPrompt: systemPrompt,
                                      settings: options.settings, batcher: batcher)
        session.maxAnswerTokens = options.maxAnswerTokens
        if let path = options.draftModelPath {
            do {
                let context = try InferenceContext(model: try Model(path: path), contextLength: options.contextLength, threads: threads,
                                                   cacheType: options.cacheType)
                let draft = try SpeculativeDraft(context: context, target: model)
                draft.maxTokens = options.draftMax
                draft.minProbability = options.draftPMin
                session.draft = draft
            } catch {
                throw DraftModelError(path: path, reason: "\(error)")
            }
        }
        return session
    }

    private func handle(_ event: EngineEvent) {
        needsDraw = true
        switch event {
        case let .loaded(sessions):
            self.sessions = sessions
            work = sessions.map { _ in SerialWork() }
            if state.quitting { running = false; return }
            dispatch(.panesReady(sessions.enumerated().map { i, session in EventLoop.pane(i, for: session, draftModel: options.draftModelPath) }))
            if options.resume { resume() }
            prefaultModels()
            for (kind, messages) in startupNotices { dispatch(.notes(pane: 0, kind: kind, messages)) }
            startupNotices = [:]
            processInput()
        case let .loadFailed(message):
            exitMessage = "error: \(message)"
            exitStatus = 1
            running = false
        case let .modelOpened(session):
            adopt(session)
        case let .modelOpenFailed(message):
            dispatch(.modelFailed(message))
        case let .generation(pane, event):
            dispatch(.generation(pane: pane, event))
        case let .turnEnded(i, error, messageKept):
            guard sessions.indices.contains(i) else { return }
            let session = sessions[i]
            let formatNotice = (session as? ChatSession)?.format.takeNotice()
            dispatch(.turnEnded(TurnEnd(pane: i, error: error, messageKept: messageKept, formatNotice: formatNotice,
                                        droppedMessages: session.droppedMessages)))
        case let .cacheRestored(i, tokens, seconds):
            guard sessions.indices.contains(i) else { return }
            dispatch(.cacheRestored(pane: i, tokens: tokens, seconds: seconds, stats: EventLoop.idleStats(sessions[i])))
        case let .cacheFailed(_, message):
            dispatch(.status(StatusMessage(text: message, isError: true)))
        }
    }

    /// A new pane's state for `session`: its model (and server), template, settings and numbers,
    /// and the notes it opens with (completion mode on a base model, the system prompt).
    static func pane(_ i: Int, for session: any ChatBackend, draftModel: String? = nil) -> PaneState {
        var pane: PaneState
        switch session.location {
        case let .remote(baseURL, model):
            // names the server chose: shown, never interpreted by the terminal
            pane = PaneState(index: i, modelName: TerminalText.escaped(EventLoop.remoteDisplayName(model)), modelPath: baseURL,
                             templateName: PaneState.serverTemplate, threads: 0)
            pane.host = session.location.host.map(TerminalText.escaped)
            if draftModel != nil { pane.append(.notice, EventLoop.remoteDraftNote) }
        case let .local(path):
            pane = PaneState(index: i, modelName: "", modelPath: path, templateName: "", threads: 0)
        }
        if let local = session as? ChatSession {
            pane.modelName = EventLoop.displayName(local.model)
            pane.templateName = local.format.name
            pane.threads = local.context.threadCount
            pane.contextLength = local.context.contextLength
            if local.format.isCompletion && local.model.chatTemplate == nil {
                pane.append(.notice, EventLoop.completionNote(local.model))
            }
        }
        pane.settings = session.settings
        pane.stats = EventLoop.idleStats(session)
        pane.maxAnswerTokens = session.maxAnswerTokens
        if let system = session.systemPrompt, !system.isEmpty { pane.append(.notice, "system prompt: \(system)") }
        return pane
    }

    /// Why a server's pane answers without the chat's --draft-model: the server decodes.
    static let remoteDraftNote = "--draft-model applies to the models that run here; this pane's server decodes on its own"

    /// Maps each local model's weights on a thread of its own, so the first answer does not fault
    /// them in (a resumed chat's next answer then costs only its new tokens); an answer sent at once
    /// does not wait for it, it shares the work. A server's model has nothing here to map.
    private func prefaultModels() {
        var seen = Set<ObjectIdentifier>()
        for case let session as ChatSession in sessions where seen.insert(ObjectIdentifier(session.model)).inserted {
            EventLoop.prefault(session.model)
        }
    }

    static func prefault(_ model: Model) {
        let thread = Thread { model.prefault() }
        thread.name = "sirocco-prefault"
        thread.start()
    }

    private func resume() {
        guard !resumeFiles.isEmpty, let resumeStem else {
            dispatch(.notes(pane: 0, kind: .notice, ["no saved conversation to resume in \(store.directory); starting a new one"]))
            return
        }
        for (i, file) in resumeFiles.enumerated() where sessions.indices.contains(i) {
            do {
                try load(file, intoPane: i, resumed: true)
            } catch {
                dispatch(.notes(pane: i, kind: .error, ["cannot resume: \(EventLoop.message(error))"]))
            }
        }
        store.continueChat(stem: resumeStem)
    }

    // MARK: quitting

    /// Stops the loop once no answer runs, or when a deadline passes (an answer stops within a
    /// token; this gives the generator threads a moment to hand it over).
    func quitWhenAnswersEnd() {
        quitDeadline = ContinuousClock.now + .seconds(3)
    }

    func exitNow() { running = false }

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

    /// The session's last numbers, and for a local one its KV cache's occupancy now.
    static func idleStats(_ session: any ChatBackend) -> GenerationStats {
        var stats = session.lastStats
        guard let local = session as? ChatSession else { return stats }
        let cache = local.context.cache
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

    /// A server's model as a pane names it: an id that is a file's path (llama.cpp's servers list
    /// the path they loaded unless given an alias) by the file's name, so that the title keeps the
    /// host; /show info gives the whole id.
    static func remoteDisplayName(_ model: String) -> String {
        guard model.hasPrefix("/") || model.lowercased().hasSuffix(".gguf"),
              let name = model.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last else { return model }
        return String(name)
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
