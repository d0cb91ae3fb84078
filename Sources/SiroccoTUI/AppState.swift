// AppState: everything the screen shows, as plain values — panes with their transcripts, stats and
// settings, focus, the status line, theme, help. Changed only by `Update` on the UI thread;
// drawing reads it and nothing else.

import SiroccoEngine

/// One item of a pane's transcript.
struct TranscriptEntry: Equatable, Sendable {
    enum Kind: Equatable, Sendable { case user, assistant, notice, error }
    var id: Int
    var kind: Kind
    var text: String
    /// Tokens of the answer's reasoning block (from the engine while it streams, counted when loaded).
    var reasoningTokens = 0
}

/// What one pane (one model, one conversation) shows.
struct PaneState: Equatable, Sendable {
    var index: Int
    var modelName: String
    /// The GGUF's path, or a server's base URL.
    var modelPath: String
    var templateName: String
    var threads: Int
    /// The server's host:port when the model runs on a server (nil: in this process).
    var host: String?
    var entries: [TranscriptEntry] = []
    var nextEntryID = 0
    /// An answer is being generated.
    var streaming = false
    /// The prompt is being evaluated (no token yet).
    var waitingForFirstToken = false
    /// Notices that came while an answer was streaming (drafting switching off): shown after it,
    /// not inside its text.
    var deferredNotices: [String] = []
    var stats = GenerationStats()
    /// Whether the seed in `stats` was fixed by the settings (else drawn at random).
    var answerSeedFixed = false
    var settings = SamplerSettings()
    /// The first line shown while scrolled back (nil follows the conversation's end). Anchored at
    /// the top, the view stays put while an answer streams in below it.
    var scrollTop: Int?
    var lastStop: StopReason?
    /// Answers show their markdown as written instead of rendered (/raw).
    var showsMarkdownSource = false
    /// Reasoning blocks (`<think>…</think>`) shown in full instead of folded to one line (F12).
    var showsReasoning = false
    /// Most tokens an answer may have (the session's, mirrored for /set and the notes).
    var maxAnswerTokens = 2048
    /// The session's context length in tokens.
    var contextLength = 4096
    /// This pane's last answer was to a message other panes answered too (the comparison line).
    var compared = false
    /// The last message failed before the session took it (a server that could not be reached):
    /// /retry sends it as a new message and /edit has nothing to take back.
    var lastMessageUnsent = false

    /// What a server's pane shows as its template.
    static let serverTemplate = "the server's"

    var isRemote: Bool { host != nil }

    /// The pane's name in titles: the model, and the server it runs on ("qwen2.5-coder-7b @ 10.0.0.5:8080").
    var title: String { host.map { modelName.isEmpty ? $0 : "\(modelName) @ \($0)" } ?? modelName }

    mutating func append(_ kind: TranscriptEntry.Kind, _ text: String) {
        entries.append(TranscriptEntry(id: nextEntryID, kind: kind, text: text))
        nextEntryID += 1
    }

    /// Where the last message the user sent is in `entries`.
    var lastUserEntry: Int? { entries.lastIndex { $0.kind == .user } }

    /// An answer starts: streaming, waiting for its first token, following the end.
    mutating func startAnswer() {
        streaming = true
        waitingForFirstToken = true
        scrollTop = nil
        lastStop = nil
        answerSeedFixed = settings.seed != nil
        lastMessageUnsent = false
    }

    /// Adds streamed text to the answer being written (starting it if needed).
    mutating func appendAnswer(_ piece: String) {
        if let last = entries.indices.last, entries[last].kind == .assistant, streaming {
            entries[last].text += piece
        } else {
            append(.assistant, piece)
        }
    }

    /// The last answer's text, if there is one.
    var lastAnswer: String? { entries.last { $0.kind == .assistant }?.text }

    /// Rebuilds the transcript from a session's messages (after /load or --resume).
    /// `reasoningTokens[i]`: the tokens of message i's reasoning block (shown when it is folded).
    mutating func replaceTranscript(with messages: [ChatMessage], reasoningTokens: [Int] = []) {
        entries = []
        lastMessageUnsent = false
        for (i, m) in messages.enumerated() {
            switch m.role {
            case "user": append(.user, m.content)
            case "assistant":
                append(.assistant, m.content)
                if reasoningTokens.indices.contains(i) { entries[entries.count - 1].reasoningTokens = reasoningTokens[i] }
            default: append(.notice, "\(m.role): \(m.content)")
            }
        }
        scrollTop = nil
    }
}

/// A one-line message in the status line.
struct StatusMessage: Equatable, Sendable {
    var text: String
    var isError: Bool
}

/// The whole UI state.
struct AppState: Equatable, Sendable {
    enum Phase: Equatable, Sendable {
        case loading(String)
        case running
    }

    var phase: Phase
    var panes: [PaneState] = []
    var focus = 0
    var status: StatusMessage?
    var theme: Theme = .builtin
    var helpVisible = false
    var spinnerFrame = 0
    /// A multi-line message being typed between """ lines.
    var multiline = MultilineInput()
    /// Quitting: the loop ends once the answers stop.
    var quitting = false
    /// Messages go to every pane (else to the focused one only).
    var sendToAll = true
    /// A model being loaded for a new pane (/model): its catalog name or file name.
    var openingModel: String?
    /// The terminal's size.
    var screenWidth = 80
    var screenHeight = 24

    var anyStreaming: Bool { panes.contains { $0.streaming } }
    /// Something on screen moves (an answer streams, a model loads): a spinner turns each frame.
    var isMoving: Bool { anyStreaming || openingModel != nil || phase != .running }

    /// The panes a message goes to.
    var targetPanes: [Int] {
        sendToAll || !panes.indices.contains(focus) ? Array(panes.indices) : [focus]
    }

    /// Marks the answers about to start in `targets` as compared when there are several.
    mutating func compare(_ targets: [Int]) {
        for i in panes.indices { panes[i].compared = targets.count > 1 && targets.contains(i) }
    }

    /// The layout for the terminal's size: the panes and the one being opened, the input rows a
    /// multi-line message needs, the comparison line when there is one.
    var layout: ScreenLayout {
        ScreenLayout(width: screenWidth, height: screenHeight, paneCount: max(1, panes.count + (openingModel == nil ? 0 : 1)),
                     inputRows: 1 + (multiline.typed?.count ?? 0), comparisonRow: Comparison.line(panes) != nil)
    }

    mutating func inform(_ text: String) { status = StatusMessage(text: text, isError: false) }
    mutating func warn(_ text: String) { status = StatusMessage(text: text, isError: true) }

    /// Moves the focus by `delta` panes, wrapping around.
    mutating func moveFocus(by delta: Int) {
        guard !panes.isEmpty else { return }
        focus = ((focus + delta) % panes.count + panes.count) % panes.count
    }

    /// Scrolls the focused pane by `lines` (positive = back in time) over its `lineCount` lines in
    /// `height` rows; reaching the end follows it again.
    mutating func scrollFocused(by lines: Int, lineCount: Int, height: Int) {
        guard panes.indices.contains(focus) else { return }
        let last = ConversationPane.maxScroll(lineCount: lineCount, height: height)
        let top = min(last, max(0, (panes[focus].scrollTop ?? last) - lines))
        panes[focus].scrollTop = top < last ? top : nil
    }

    /// Applies an engine event to pane `index`.
    mutating func apply(_ event: GenerationEvent, toPane index: Int) {
        guard panes.indices.contains(index) else { return }
        switch event {
        case let .text(piece):
            panes[index].waitingForFirstToken = false
            panes[index].appendAnswer(piece)
        case let .progress(stats):
            panes[index].stats = stats
            if stats.reasoningTokens > 0, panes[index].streaming, let last = panes[index].entries.indices.last,
               panes[index].entries[last].kind == .assistant {
                panes[index].entries[last].reasoningTokens = stats.reasoningTokens
            }
        case let .finished(reason, stats):
            panes[index].stats = stats
            panes[index].lastStop = reason
            panes[index].waitingForFirstToken = false
            for text in panes[index].deferredNotices { panes[index].append(.notice, TerminalText.escaped(text)) }
            panes[index].deferredNotices = []
        case let .notice(text):
            if panes[index].streaming && !panes[index].waitingForFirstToken && panes[index].entries.last?.kind == .assistant {
                panes[index].deferredNotices.append(text)
            } else {
                panes[index].append(.notice, TerminalText.escaped(text))
            }
        }
    }
}
