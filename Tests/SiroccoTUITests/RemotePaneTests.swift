// A pane whose model runs on a server, driven by a scripted backend: its title, the stats it
// can know, /show info, /template, and the reasoning fold of a loaded conversation.

import Foundation
@testable import SiroccoTUI
@testable import SiroccoEngine
import Testing

struct RemotePaneTests {
    /// The stats a server reports for one answer: no prompt time, no KV cache.
    static let answerStats: GenerationStats = {
        var s = GenerationStats()
        s.promptTokens = 31
        s.generatedTokens = 40
        s.generationSeconds = 0.5
        s.timeToFirstToken = 0.2504
        return s
    }()

    /// A chat of one remote pane on `backend`, as the event loop starts it.
    static func remoteChat(_ backend: ScriptedBackend) -> AppState {
        var state = AppState(phase: .loading("…"))
        feed(&state, .panesReady([EventLoop.pane(0, for: backend)]))
        return state
    }

    /// Sends `text` and runs the backend's answer through the update, as the effect runner does.
    static func answer(_ text: String, in state: inout AppState, backend: ScriptedBackend) throws {
        let effects = feed(&state, .line(text))
        #expect(effects.contains(.startAnswer(pane: 0, text: text)))
        try backend.respond(to: text, seed: nil) { feed(&state, .generation(pane: 0, $0)) }
        feed(&state, .turnEnded(TurnEnd(pane: 0, error: nil, formatNotice: nil, droppedMessages: backend.droppedMessages)))
    }

    @Test func theTitleNamesTheModelAndItsServer() {
        let pane = EventLoop.pane(0, for: ScriptedBackend())
        #expect(pane.title == "qwen2.5-coder-7b @ 10.0.0.5:8080")
        #expect(pane.isRemote && pane.modelPath == "http://10.0.0.5:8080/v1")
        #expect(pane.templateName == PaneState.serverTemplate)
        #expect(!pane.entries.contains { $0.text.hasPrefix("base model") })  // no completion-mode note
        let local = PaneState(index: 0, modelName: "SmolLM2", modelPath: "/m.gguf", templateName: "chatml", threads: 1)
        #expect(local.title == "SmolLM2" && !local.isRemote)
    }

    /// A chat started with --draft-model says in a server's pane that the draft does not apply there.
    @Test func aDraftModelIsSaidNotToApplyToAServersPane() {
        let drafted = EventLoop.pane(0, for: ScriptedBackend(), draftModel: "/models/draft.gguf")
        #expect(drafted.entries.contains { $0.kind == .notice && $0.text == EventLoop.remoteDraftNote })
        let plain = EventLoop.pane(0, for: ScriptedBackend())
        #expect(!plain.entries.contains { $0.text == EventLoop.remoteDraftNote })
    }

    @Test(arguments: [
        ("/root/.cache/sirocco/models/SmolLM2-135M-Instruct.Q4_1.gguf", "SmolLM2-135M-Instruct.Q4_1.gguf"),  // llama_cpp.server
        ("models/qwen2.5-coder-7b-q4_k_m.gguf", "qwen2.5-coder-7b-q4_k_m.gguf"),  // llama-server
        (#"C:\models\phi-4.Q8_0.GGUF"#, "phi-4.Q8_0.GGUF"),
        ("Qwen/Qwen2.5-7B-Instruct", "Qwen/Qwen2.5-7B-Instruct"),  // vLLM: a name, not a file
        ("hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M", "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M"),
    ])
    func aModelNamedByItsFilesPathIsTitledByTheFilesName(id: String, name: String) {
        let pane = EventLoop.pane(0, for: ScriptedBackend(model: id))
        #expect(pane.title == "\(name) @ 10.0.0.5:8080")
    }

    @Test func namesTheServerChoseCannotDriveTheTerminal() {
        let pane = EventLoop.pane(0, for: ScriptedBackend(model: "evil\u{1B}[2Jmodel"))
        #expect(!pane.title.unicodeScalars.contains { $0.value == 0x1B })
        #expect(pane.title.hasPrefix("evil\\x1B[2Jmodel @ "))
    }

    @Test func theStatsShowWhatTheServerReports() throws {
        let backend = ScriptedBackend(answers: [.init(pieces: ["Hel", "lo!"], stats: RemotePaneTests.answerStats)])
        var state = RemotePaneTests.remoteChat(backend)
        try RemotePaneTests.answer("Hi", in: &state, backend: backend)
        #expect(state.panes[0].entries.map(\.text) == ["Hi", "Hello!"])
        let items = Dictionary(uniqueKeysWithValues: StatsPanel.items(for: state.panes[0]).map { ($0.label, $0.value) })
        #expect(items["first token"] == "250 ms")
        #expect(items["generation"] == "80.0 tok/s")
        #expect(items["prompt"] == "31 tok")  // the server did not say how long it read it
        #expect(items["answer"] == "40 tokens")
        #expect(items["KV cache"] == "remote")
        #expect(items["KV cells"] == nil && items["KV memory"] == nil && items["KV use"] == nil)
        #expect(items["template"] == "the server's")
        #expect(items["state"] == "idle (answer complete)")
    }

    @Test func aPromptTimeTheServerGivesIsShown() {
        var pane = EventLoop.pane(0, for: ScriptedBackend())
        pane.stats.promptTokens = 100
        pane.stats.promptSeconds = 0.25
        #expect(StatsPanel.items(for: pane).first { $0.label == "prompt" }?.value == "400.0 tok/s · 100 tok")
    }

    @Test func aRetryNoticeShowsInThePaneBeforeTheAnswer() {
        var state = RemotePaneTests.remoteChat(ScriptedBackend())
        state.apply(.notice("the server is busy (429): asking again in 1 s (1 of 2)\u{1B}[2J"), toPane: 0)
        state.apply(.text("Fine."), toPane: 0)
        let entries = state.panes[0].entries.suffix(2)
        #expect(entries.map(\.kind) == [.notice, .assistant])
        #expect(entries.first?.text == "the server is busy (429): asking again in 1 s (1 of 2)\\x1B[2J")
    }

    @Test func beforeItsFirstTokenARemotePaneWaitsForTheServer() {
        var pane = EventLoop.pane(0, for: ScriptedBackend())
        pane.streaming = true
        pane.waitingForFirstToken = true
        #expect(StatsPanel.items(for: pane).first { $0.label == "state" }?.value == "waiting for the server…")
    }

    @Test func aPromptSizeTheServerDoesNotGiveIsNotShownAsZero() {
        var pane = EventLoop.pane(0, for: ScriptedBackend())
        pane.stats.promptSeconds = 0.04  // the time to the first token: the stream has no usage
        pane.stats.generatedTokens = 40
        #expect(StatsPanel.items(for: pane).first { $0.label == "prompt" }?.value == "–")
    }

    @Test func aShortPanelKeepsTheRemoteCacheRow() {
        let pane = EventLoop.pane(0, for: ScriptedBackend())
        let kept = StatsPanel.fitting(StatsPanel.items(for: pane), capacity: 5).map(\.label)
        #expect(kept == ["state", "prompt", "generation", "KV cache", "temp"])
    }

    @Test func infoSaysWhatRunsOnTheServer() {
        let backend = ScriptedBackend()
        backend.systemPrompt = "Be brief."
        #expect(ModelInfo.lines(for: backend, name: "ignored") == [
            "model: qwen2.5-coder-7b",
            "server: http://10.0.0.5:8080/v1",
            "runs on the server: template, context and KV cache are the server's",
            "system prompt: Be brief.",
        ])
    }

    @Test(arguments: ["/template chatml", "/template", "/show template"])
    func theTemplateIsTheServers(line: String) {
        var state = RemotePaneTests.remoteChat(ScriptedBackend())
        #expect(feed(&state, .line(line)) == [.addHistory(line)])
        #expect(state.status == StatusMessage(text: "the server applies its own chat template", isError: false))
        #expect(state.panes[0].templateName == "the server's")
    }

    @Test func aLoadedConversationsReasoningIsCountedWhenTheBackendCan() {
        let backend = ScriptedBackend(answers: [.init(pieces: ["<think>why\nso</think>", "Yes."], stats: GenerationStats())])
        _ = try? backend.respond(to: "Q?", seed: nil) { _ in }
        #expect(EventLoop.reasoningTokens(backend) == [0, 0])  // a server cannot count them
        backend.tokensPerCharacter = 1
        #expect(EventLoop.reasoningTokens(backend) == [0, 6])

        // without a count the fold gives the reasoning's length in lines
        var state = RemotePaneTests.remoteChat(ScriptedBackend())
        feed(&state, .conversationLoaded(pane: 0, file: "/c.json", backend.snapshot, resumed: true, reasoningTokens: [0, 0]))
        let entry = state.panes[0].entries.first { $0.kind == .assistant }!
        let fold = ConversationPane.lines(for: entry, width: 80).first?.text
        #expect(fold == "▸ thought for 2 lines (F12 shows)")
    }

    @Test func anOpenedRemotePaneIsAnnouncedByItsTitle() {
        var state = runningState(panes: 1)
        feed(&state, .line("/model http://10.0.0.5:8080/v1 qwen2.5-coder-7b"))
        #expect(state.openingModel == "qwen2.5-coder-7b @ 10.0.0.5:8080")
        feed(&state, .paneOpened(EventLoop.pane(0, for: ScriptedBackend())))
        #expect(state.status?.text == "pane 2 opened: qwen2.5-coder-7b @ 10.0.0.5:8080 (focused; Tab moves the focus)")
    }
}
