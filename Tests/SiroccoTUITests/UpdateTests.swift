// Update: commands, keys and engine events as state changes and effects, without a terminal,
// a model or a thread.

@testable import SiroccoTUI
@testable import SiroccoEngine
import Testing

/// A running chat with `panes` idle panes on made-up models, on an 80×24 terminal.
func runningState(panes: Int = 1) -> AppState {
    var state = AppState(phase: .running)
    state.panes = (0..<panes).map {
        PaneState(index: $0, modelName: "model-\($0 + 1)", modelPath: "/models/model-\($0 + 1).gguf", templateName: "chatml",
                  threads: 1)
    }
    return state
}

/// `state` after `inputs`, and the effects of the last one.
@discardableResult
func feed(_ state: inout AppState, _ inputs: Input...) -> [Effect] {
    var effects: [Effect] = []
    for input in inputs { effects = Update.update(&state, input) }
    return effects
}

struct UpdateTests {
    @Test func aMessageStartsAnAnswerInEveryPane() {
        var state = runningState(panes: 2)
        state.panes[1].settings.seed = 7
        let effects = feed(&state, .line("Hello there"))
        #expect(effects == [.addHistory("Hello there"), .startAnswer(pane: 0, text: "Hello there"),
                            .startAnswer(pane: 1, text: "Hello there")])
        for pane in state.panes {
            #expect(pane.entries.map(\.kind) == [.user] && pane.entries[0].text == "Hello there")
            #expect(pane.streaming && pane.waitingForFirstToken && pane.scrollTop == nil)
        }
        #expect(!state.panes[0].answerSeedFixed && state.panes[1].answerSeedFixed)
    }

    @Test func aLineTypedDuringAnAnswerGoesBackIntoTheInput() {
        var state = runningState()
        state.panes[0].streaming = true
        #expect(feed(&state, .line("next question")) == [.addHistory("next question"), .setInputText("next question")])
        #expect(state.status == StatusMessage(text: "still answering — wait, or press Ctrl-C to stop the answer", isError: true))
        #expect(state.panes[0].entries.isEmpty)
        // a multi-line block stays open, its closing line given back
        state.panes[0].streaming = false
        feed(&state, .line("\"\"\"first"))
        state.panes[0].streaming = true
        #expect(feed(&state, .line("second\"\"\"")) == [.setInputText("second\"\"\"")])
        #expect(state.multiline.typed == ["\"\"\"first"])
    }

    @Test func aMultiLineBlockIsOneMessage() {
        var state = runningState()
        #expect(feed(&state, .line("\"\"\"Summarise:")).isEmpty)
        #expect(feed(&state, .line("/not a command")).isEmpty)
        let effects = feed(&state, .line("end\"\"\""))
        let text = "Summarise:\n/not a command\nend"
        #expect(effects == [.addHistory(MultilineInput.historyEntry(for: text)), .startAnswer(pane: 0, text: text)])
    }

    @Test func emptyLinesAndEmptyMessagesSendNothing() {
        var state = runningState()
        #expect(feed(&state, .line("   ")).isEmpty)
        // (the block is kept in the history, as every line typed is)
        #expect(feed(&state, .line("\"\"\"  \"\"\"")) == [.addHistory(MultilineInput.historyEntry(for: "  "))])
        #expect(state.status?.text == "the message is empty")
        #expect(state.panes[0].entries.isEmpty)
    }

    @Test func setChangesTheFocusedPaneWhenValid() {
        var state = runningState(panes: 2)
        state.focus = 1
        var expected = state.panes[1].settings
        expected.temperature = 0.3
        #expect(feed(&state, .line("/set temp 0.3")) == [.addHistory("/set temp 0.3"), .applySettings(pane: 1, expected)])
        #expect(state.panes[1].settings == expected && state.panes[0].settings == SamplerSettings())
        #expect(state.status == StatusMessage(text: "pane 2: temp 0.30", isError: false))
        // out of range: the engine's message, nothing applied
        #expect(feed(&state, .line("/set top_p 7")) == [.addHistory("/set top_p 7")])
        #expect(state.status?.isError == true && state.status?.text.contains("top-p must be between 0 and 1") == true)
        #expect(state.panes[1].settings == expected)
        // a line that does not parse
        #expect(feed(&state, .line("/frobnicate")) == [.addHistory("/frobnicate")])
        #expect(state.status?.text == "unknown command /frobnicate — /help lists the commands")
    }

    @Test func numPredictAndShowSettingsUseThePanesLimits() {
        var state = runningState()
        state.panes[0].contextLength = 1024
        #expect(feed(&state, .line("/set num_predict 64")).last == .setMaxAnswerTokens(pane: 0, 64))
        #expect(state.status?.text == "settings: answers of at most 64 tokens")
        #expect(feed(&state, .line("/set num_predict -1")).last == .setMaxAnswerTokens(pane: 0, 1024))
        #expect(state.status?.text == "settings: answers of at most 1024 tokens (until the context is full)")
        feed(&state, .line("/set"))
        #expect(state.status?.text.hasSuffix("seed random, max 1024 tokens") == true)
    }

    @Test func knobKeysStepTheFocusedPane() {
        var state = runningState()
        let effects = feed(&state, .key(.knob(.temperature, +1)))
        #expect(state.panes[0].settings.temperature == SamplerKnob.temperature.step(SamplerSettings(), direction: 1).temperature)
        #expect(effects == [.applySettings(pane: 0, state.panes[0].settings)])
        #expect(state.status?.text == "settings: temp 0.90")
    }

    @Test func tabMovesTheFocusAroundThePanes() {
        var one = runningState()
        feed(&one, .key(.focusNext))
        #expect(one.focus == 0 && one.status?.text.hasPrefix("one pane") == true)
        var three = runningState(panes: 3)
        feed(&three, .key(.focusPrevious))
        #expect(three.focus == 2 && three.status?.text == "focus: pane 3 — settings keys and /set apply to it")
        feed(&three, .key(.focusNext))
        #expect(three.focus == 0)
    }

    @Test func pageKeysScrollTheFocusedPaneAndComeBackToTheEnd() {
        var state = runningState()
        state.screenWidth = 80
        state.screenHeight = 24
        for i in 0..<40 { state.panes[0].append(.notice, "line \(i)") }
        feed(&state, .key(.pageUp))
        let top = try! #require(state.panes[0].scrollTop)
        feed(&state, .key(.pageUp))
        #expect(state.panes[0].scrollTop! < top)
        feed(&state, .key(.pageDown), .key(.pageDown), .key(.pageDown))
        #expect(state.panes[0].scrollTop == nil)
    }

    @Test func helpOpensWithF1OrHelpAndAnyKeyClosesIt() {
        var state = runningState()
        feed(&state, .key(.help))
        #expect(state.helpVisible)
        feed(&state, .closeHelp)
        #expect(!state.helpVisible)
        feed(&state, .line("/help"))
        #expect(state.helpVisible)
        #expect(feed(&state, .key(.redraw)) == [.redraw])
    }

    @Test func ctrlCStopsAnswersThenDiscardsThenClearsThenSaysHowToQuit() {
        var state = runningState(panes: 3)
        state.panes[0].streaming = true
        state.panes[2].streaming = true
        #expect(feed(&state, .interrupt(inputText: "")) == [.cancel(pane: 0), .cancel(pane: 2)])
        #expect(state.status?.text == Update.stopping)
        state.panes[0].streaming = false
        state.panes[2].streaming = false
        feed(&state, .line("\"\"\"open"))
        #expect(feed(&state, .interrupt(inputText: "")) == [.setInputText("")])
        #expect(!state.multiline.isOpen && state.status?.text == "multi-line message discarded")
        #expect(feed(&state, .interrupt(inputText: "half a line")) == [.setInputText("")])
        #expect(state.status?.text == "line cleared")
        #expect(feed(&state, .interrupt(inputText: "")).isEmpty)
        #expect(state.status?.text == Update.howToQuit && !state.quitting)
    }

    @Test func quittingStopsAnswersFirstAndASecondForcedQuitExits() {
        var state = runningState(panes: 2)
        state.panes[1].streaming = true
        state.helpVisible = true
        #expect(feed(&state, .line(nil)) == [.cancel(pane: 1), .quitWhenAnswersEnd])
        #expect(state.quitting && !state.helpVisible && state.status?.text == "quitting…")
        #expect(feed(&state, .quit(force: true)) == [.exitNow])
        // while the models load, a forced quit exits at once
        var loading = AppState(phase: .loading("Loading …"))
        #expect(feed(&loading, .quit(force: true)) == [.exitNow])
        var idle = runningState()
        #expect(feed(&idle, .line("/bye")) == [.addHistory("/bye"), .quitWhenAnswersEnd])
    }

    @Test func aTurnsEndSaysWhyItStoppedAndAutosaves() {
        var state = runningState(panes: 2)
        state.panes[0].maxAnswerTokens = 48
        feed(&state, .line("Tell me a story"))
        feed(&state, .interrupt(inputText: ""))
        feed(&state, .generation(pane: 0, .text("Once")),
             .generation(pane: 0, .finished(.maxTokens, GenerationStats())))
        #expect(feed(&state, .turnEnded(TurnEnd(pane: 0, formatNotice: "template fell back", droppedMessages: 0)))
                == [.autosave(pane: 0)])
        #expect(state.panes[0].entries.map(\.text) == ["Tell me a story", "Once", "cut at 48 tokens (--max-tokens)",
                                                       "template fell back"])
        #expect(state.status?.text == Update.stopping)  // pane 2 still answers
        feed(&state, .generation(pane: 1, .finished(.cancelled, GenerationStats())))
        feed(&state, .turnEnded(TurnEnd(pane: 1, droppedMessages: 2)))
        #expect(state.panes[1].entries.map(\.text) == ["Tell me a story", "stopped (the partial answer is kept)"])
        #expect(state.status?.text == "context full: 2 oldest messages no longer seen by the model")
        #expect(!state.anyStreaming)
    }

    @Test func aTurnWithoutAnswerOrWithAnErrorIsNoted() {
        var state = runningState()
        state.panes[0].contextLength = 256
        feed(&state, .line("Hi"))
        feed(&state, .generation(pane: 0, .finished(.endOfGeneration, GenerationStats())), .turnEnded(TurnEnd(pane: 0, droppedMessages: 0)))
        #expect(state.panes[0].entries.last?.text == "(empty answer)")
        feed(&state, .line("Again"))
        feed(&state, .generation(pane: 0, .finished(.contextFull, GenerationStats())),
             .turnEnded(TurnEnd(pane: 0, error: "the conversation is too long", droppedMessages: 0)))
        #expect(state.panes[0].entries.suffix(2).map(\.text) == ["the conversation is too long",
                                                                 "the context is full (--ctx-size 256); /clear starts over"])
        #expect(state.panes[0].entries.suffix(2).map(\.kind) == [.error, .notice])
    }

    @Test func clearAndLoadWaitForTheAnswers() {
        var state = runningState(panes: 2)
        state.panes[0].append(.user, "Hi")
        state.panes[1].streaming = true
        #expect(feed(&state, .line("/clear")) == [.addHistory("/clear")])
        #expect(feed(&state, .line("/load chat.json")) == [.addHistory("/load chat.json")])
        #expect(state.status == StatusMessage(text: Update.stillAnswering, isError: true))
        state.panes[1].streaming = false
        #expect(feed(&state, .line("/clear")) == [.addHistory("/clear"), .clearConversations])
        #expect(state.panes.allSatisfy { $0.entries.isEmpty })
        #expect(feed(&state, .line("/load ~/chat.json")) == [.addHistory("/load ~/chat.json"), .load(pane: 0, path: "~/chat.json")])
        #expect(feed(&state, .line("/save a b.json")) == [.addHistory("/save a b.json"), .save(pane: 0, path: "a b.json")])
    }

    @Test func aLoadedConversationReplacesTheTranscript() {
        var state = runningState(panes: 2)
        state.focus = 1
        state.panes[1].append(.user, "old")
        var settings = SamplerSettings()
        settings.topK = 7
        let saved = ChatSession.Saved(systemPrompt: "Be brief.", messages: [.user("Hi"), .assistant("Hello!")], settings: settings)
        feed(&state, .conversationLoaded(pane: 1, file: "/tmp/c.json", saved, resumed: false))
        #expect(state.panes[1].entries.map(\.text) == ["system prompt: Be brief.", "Hi", "Hello!"])
        #expect(state.panes[1].settings == settings)
        #expect(state.status?.text == "loaded the conversation from /tmp/c.json into pane 2 (2 messages)")
        feed(&state, .conversationLoaded(pane: 0, file: "/tmp/r.json", saved, resumed: true))
        #expect(state.panes[0].entries.last?.text == "resumed /tmp/r.json")
        feed(&state, .conversationSaved(pane: 1, file: "/tmp/s.json", messages: 1))
        #expect(state.status?.text == "saved the conversation of pane 2 (1 message) to /tmp/s.json")
    }

    @Test func commandsAboutTheModelAskTheRunner() {
        var state = runningState()
        #expect(feed(&state, .line("/show info")).last == .showInfo(pane: 0))
        #expect(feed(&state, .line("/system")).last == .showSystemPrompt(pane: 0))
        #expect(feed(&state, .line("/template llama3")).last == .setTemplate(pane: 0, name: "llama3"))
        feed(&state, .templateChanged(pane: 0, name: "completion", isCompletion: true))
        #expect(state.panes[0].templateName == "completion")
        #expect(state.status?.text == "settings: template completion — the model continues your text")
        feed(&state, .line("/template"))
        #expect(state.status?.text.hasPrefix("template: completion (available: model, completion") == true)
        #expect(feed(&state, .line("/theme")).last == .listThemes)
        feed(&state, .themesListed(["dark", "light"]))
        #expect(state.status?.text == "theme: default (available: dark, light)")
        #expect(feed(&state, .line("/theme light")).last == .loadTheme("light"))
    }

    @Test func aSystemPromptGoesToEveryPane() {
        var state = runningState(panes: 2)
        #expect(feed(&state, .line("/system You are terse.")).last == .setSystemPrompt("You are terse."))
        #expect(state.panes.allSatisfy { $0.entries.last?.text == "system prompt: You are terse." })
        #expect(state.status?.text == "system prompt set for every pane")
    }

    @Test func aRestoredCacheUpdatesAnIdlePanesNumbers() {
        var state = runningState()
        var stats = GenerationStats()
        stats.cacheCellsUsed = 120
        feed(&state, .cacheRestored(pane: 0, tokens: 0, seconds: 0.01, stats: stats))
        #expect(state.panes[0].entries.isEmpty)  // nothing fitted: nothing to say
        feed(&state, .cacheRestored(pane: 0, tokens: 120, seconds: 0.0374, stats: stats))
        #expect(state.panes[0].stats.cacheCellsUsed == 120)
        #expect(state.panes[0].entries.last?.text == "KV cache restored: 120 tokens in 37 ms")
    }

    /// Two panes that answered "Hi" ("Hello" and "Hey"), then "Bye" ("Ciao" and "Adieu" with a note).
    func twoAnsweredPanes() -> AppState {
        var state = runningState(panes: 2)
        for (i, answers) in [["Hello", "Ciao"], ["Hey", "Adieu"]].enumerated() {
            state.panes[i].append(.user, "Hi")
            state.panes[i].append(.assistant, answers[0])
            state.panes[i].append(.user, "Bye")
            state.panes[i].append(.assistant, answers[1])
        }
        state.panes[1].append(.notice, "cut at 48 tokens (--max-tokens)")
        state.panes[1].lastStop = .maxTokens
        return state
    }

    @Test func retryDropsTheLastAnswersAndAnswersAgainWithANewSeed() {
        var state = twoAnsweredPanes()
        state.panes[0].settings.seed = 42
        #expect(feed(&state, .line("/retry")) == [.addHistory("/retry"), .retryAnswer(pane: 0), .retryAnswer(pane: 1)])
        for pane in state.panes {
            #expect(pane.entries.last?.kind == .user && pane.entries.last?.text == "Bye")
            #expect(pane.streaming && pane.waitingForFirstToken && pane.lastStop == nil)
            #expect(!pane.answerSeedFixed)  // a new seed, whatever the setting
        }
        #expect(state.panes.map { $0.entries.map(\.text) } == [["Hi", "Hello", "Bye"], ["Hi", "Hey", "Bye"]])
        // the new answer streams in where the old one was
        feed(&state, .generation(pane: 0, .text("Goodbye")))
        #expect(state.panes[0].entries.map(\.text) == ["Hi", "Hello", "Bye", "Goodbye"])
    }

    @Test func retryWaitsForAnswersAndNeedsAMessage() {
        var state = runningState()
        feed(&state, .line("/retry"))
        #expect(state.status == StatusMessage(text: "nothing to retry: no message sent yet", isError: true))
        feed(&state, .line("Hi"))
        #expect(feed(&state, .line("/retry")) == [.addHistory("/retry")])
        #expect(state.status == StatusMessage(text: Update.stillAnswering, isError: true))
    }

    @Test func editGivesTheLastMessageBackAndTakesItOutOfThePanes() {
        var state = twoAnsweredPanes()
        state.focus = 1
        #expect(feed(&state, .line("/edit")) == [.addHistory("/edit"), .takeBackExchange(pane: 0), .takeBackExchange(pane: 1),
                                                 .setInputText("Bye")])
        #expect(state.panes.map { $0.entries.map(\.text) } == [["Hi", "Hello"], ["Hi", "Hey"]])
        #expect(state.panes[1].lastStop == nil)
        #expect(state.status?.text == "the last message is back in the input line: change it and press Enter")
        // a pane whose last message was another keeps it
        state.panes[0].append(.user, "Only here")
        state.panes[1].append(.user, "Hey there")
        #expect(feed(&state, .line("/edit")).suffix(2) == [.takeBackExchange(pane: 1), .setInputText("Hey there")])
        #expect(state.panes[0].entries.last?.text == "Only here")
    }

    @Test func editNeedsAMessageAndNoAnswerRunning() {
        var state = runningState()
        #expect(feed(&state, .line("/edit")) == [.addHistory("/edit")])
        #expect(state.status?.text == "nothing to edit: no message sent yet")
        feed(&state, .line("Hi"))
        #expect(feed(&state, .line("/edit")) == [.addHistory("/edit")])
        #expect(state.status?.text == Update.stillAnswering)
    }

    @Test func aMessageNoSessionTookIsSentAgainByRetryAndNotTakenBackByEdit() {
        // pane 1's server could not be reached (its session kept nothing); pane 2's answer broke off
        var state = runningState(panes: 2)
        feed(&state, .line("Bye"), .turnEnded(TurnEnd(pane: 0, error: "cannot connect", messageKept: false, droppedMessages: 0)))
        feed(&state, .generation(pane: 1, .text("Good")), .turnEnded(TurnEnd(pane: 1, error: "closed", droppedMessages: 0)))
        #expect(state.panes[0].lastMessageUnsent && !state.panes[1].lastMessageUnsent)
        #expect(feed(&state, .line("/retry")) == [.addHistory("/retry"), .startAnswer(pane: 0, text: "Bye"), .retryAnswer(pane: 1)])
        #expect(state.panes.map { $0.entries.map(\.text) } == [["Bye"], ["Bye"]])
        #expect(!state.panes[0].lastMessageUnsent)
        // unreachable again: /edit takes the message back only where a session has it
        feed(&state, .turnEnded(TurnEnd(pane: 0, error: "cannot connect", messageKept: false, droppedMessages: 0)),
             .turnEnded(TurnEnd(pane: 1, droppedMessages: 0)))
        #expect(feed(&state, .line("/edit")) == [.addHistory("/edit"), .takeBackExchange(pane: 1), .setInputText("Bye")])
        #expect(state.panes.allSatisfy { $0.entries.isEmpty && !$0.lastMessageUnsent })
    }

    @Test func aFailedTurnSaysWhetherTheSessionKeptTheMessage() throws {
        let backend = ScriptedBackend(answers: [.init(pieces: ["Hello"], stats: GenerationStats())])
        backend.unreachable = TUITestError("connection refused")
        let failed = #expect(throws: FailedTurn.self) { try EventLoop.respond(backend, to: "Hi", seed: nil) { _ in } }
        #expect(failed?.messageKept == false && failed.map { "\($0.error)" } == "connection refused")
        #expect(backend.messages.isEmpty)
        _ = try EventLoop.respond(backend, to: "Hi", seed: nil) { _ in }
        #expect(backend.messages == [.user("Hi"), .assistant("Hello")])
    }

    @Test func modelOpensAPaneOffTheUIThreadAndFocusesIt() {
        var state = runningState(panes: 1)
        #expect(feed(&state, .line("/model qwen2.5-coder:0.5b")) == [.addHistory("/model qwen2.5-coder:0.5b"),
                                                                   .openModel(PaneModel(reference: "qwen2.5-coder:0.5b"))])
        #expect(state.openingModel == "qwen2.5-coder:0.5b" && state.isMoving)
        #expect(state.layout.panes.count == 2)  // the pane being opened has its place
        // one at a time
        #expect(feed(&state, .line("/model ~/other.gguf")) == [.addHistory("/model ~/other.gguf")])
        #expect(state.status?.text == "still opening qwen2.5-coder:0.5b — one model at a time")
        let opened = PaneState(index: 9, modelName: "qwen2.5-coder-0.5b-instruct", modelPath: "/m/q.gguf",
                               templateName: "model template", threads: 1)
        feed(&state, .paneOpened(opened))
        #expect(state.openingModel == nil && state.panes.count == 2 && state.panes[1].index == 1 && state.focus == 1)
        #expect(state.status?.text == "pane 2 opened: qwen2.5-coder-0.5b-instruct (focused; Tab moves the focus)")
        // the next message goes to both
        #expect(feed(&state, .line("Hi")).count == 3)
    }

    @Test func aModelThatCannotBeOpenedIsOneLineAndChangesNothingElse() {
        var state = runningState(panes: 2)
        let before = state
        #expect(feed(&state, .line("/model ~/models/a b.gguf")).last == .openModel(PaneModel(reference: "~/models/a b.gguf")))
        #expect(state.openingModel == "a b.gguf")
        feed(&state, .modelFailed("~/models/a b.gguf: No such file"))
        feed(&state, .line("/model nosuch:1b"))
        feed(&state, .modelFailed("model nosuch:1b is not pulled yet: run sirocco pull nosuch:1b"))
        #expect(state.status == StatusMessage(text: "model nosuch:1b is not pulled yet: run sirocco pull nosuch:1b", isError: true))
        state.status = nil
        #expect(state == before)
    }

    @Test func atMostFourPanes() {
        var state = runningState(panes: 4)
        #expect(feed(&state, .line("/model a.gguf")) == [.addHistory("/model a.gguf")])
        #expect(state.status?.text == "at most 4 panes: /close one first" && state.openingModel == nil)
        #expect(throws: CommandError.missingArgument(command: "model", usage: "/model NAME|PATH|URL")) {
            try CommandParser.parse("/model")
        }
    }

    @Test func closeRemovesTheFocusedPaneButNotTheLast() {
        var state = runningState(panes: 3)
        state.focus = 1
        state.sendToAll = false
        #expect(feed(&state, .line("/close")) == [.addHistory("/close"), .closePane(1)])
        #expect(state.panes.map(\.modelName) == ["model-1", "model-3"] && state.panes.map(\.index) == [0, 1])
        #expect(state.focus == 1 && state.status?.text == "closed pane 2 (model-2)")
        state.panes[1].streaming = true
        #expect(feed(&state, .line("/close")) == [.addHistory("/close")])
        #expect(state.status?.text == Update.stillAnswering)
        state.panes[1].streaming = false
        state.panes[0].streaming = true  // another pane answering: its events name panes by position
        #expect(feed(&state, .line("/close")) == [.addHistory("/close")])
        #expect(state.status?.text == Update.stillAnswering)
        state.panes[0].streaming = false
        feed(&state, .line("/close"))
        #expect(state.panes.count == 1 && state.focus == 0 && state.sendToAll)
        #expect(feed(&state, .line("/close")) == [.addHistory("/close")])
        #expect(state.status?.text == "the last pane stays open (/bye quits)")
    }

    @Test func allSwitchesBetweenEveryPaneAndTheFocusedOne() {
        var state = runningState(panes: 3)
        feed(&state, .line("/all"))
        #expect(!state.sendToAll && state.status?.text.hasPrefix("messages go to the focused pane only (pane 1") == true)
        feed(&state, .key(.focusNext))
        #expect(state.status?.text == "focus: pane 2 — messages, settings keys and /set go to it")
        #expect(feed(&state, .line("Only to two")) == [.addHistory("Only to two"), .startAnswer(pane: 1, text: "Only to two")])
        #expect(state.panes.map(\.streaming) == [false, true, false])
        #expect(!state.panes.contains { $0.compared })
        state.panes[1].streaming = false
        // /retry follows the mode too
        #expect(feed(&state, .line("/retry")).last == .retryAnswer(pane: 1))
        state.panes[1].streaming = false
        feed(&state, .line("/all"))
        #expect(state.sendToAll && state.status?.text == "messages go to every pane")
        var one = runningState()
        feed(&one, .line("/all"))
        #expect(one.sendToAll && one.status?.text.hasPrefix("one pane") == true)
    }

    @Test func panesThatAnsweredOneMessageAreCompared() {
        var state = runningState(panes: 3)
        feed(&state, .line("Hi"))
        #expect(state.panes.allSatisfy { $0.compared })
        #expect(Comparison.line(state.panes) == nil)  // not while they answer
        for (i, (tokens, seconds)) in [(48, 0.25), (40, 0.5), (12, 0.1)].enumerated() {
            var stats = GenerationStats()
            stats.generatedTokens = tokens
            stats.generationSeconds = seconds
            stats.promptSeconds = 0.1
            feed(&state, .generation(pane: i, .finished(.endOfGeneration, stats)), .turnEnded(TurnEnd(pane: i, droppedMessages: 0)))
        }
        #expect(Comparison.line(state.panes)
                == "answers  1: 48 tok · 192.0 tok/s · 0.35 s   2: 40 tok · 80.0 tok/s · 0.60 s   3: 12 tok · 120.0 tok/s · 0.20 s")
        #expect(Comparison.line(state.panes, width: 70)?.hasPrefix("answers  1: 48tok 192/s 0.") == true)
        let short = try! #require(Comparison.line(state.panes, width: 60))
        #expect(short.hasPrefix("1: 48tok 192/s 0.") && short.hasSuffix("2: 40tok 80/s 0.6s  3: 12tok 120/s 0.2s"))
        #expect(Comparison.line(state.panes, width: 40) == "tok/s  1: 192/s  2: 80/s  3: 120/s")
        #expect(state.layout.comparison != nil)
        // closing one leaves two to compare; a message to one pane ends the comparison
        state.focus = 2
        feed(&state, .line("/close"))
        #expect(Comparison.line(state.panes)?.hasPrefix("answers  1: 48 tok") == true)
        feed(&state, .line("/all"), .line("Only one"))
        #expect(Comparison.line(state.panes) == nil && state.layout.comparison == nil)
    }
}

/// The answer views: /raw, /copy and F12 as state changes and effects.
struct AnswerViewUpdateTests {
    func answered() -> AppState {
        var state = runningState(panes: 2)
        state.focus = 1
        state.panes[1].append(.user, "code please")
        state.panes[1].append(.assistant, "<think>plan</think>Here:\n```python\nprint(1)\n```\nand\n```sh\nls\n```")
        return state
    }

    @Test func rawTogglesTheFocusedPaneOnly() {
        var state = answered()
        feed(&state, .line("/raw"))
        #expect(state.panes[1].showsMarkdownSource && !state.panes[0].showsMarkdownSource)
        #expect(state.status?.text == "showing the markdown source of pane 2 — /raw renders it again")
        feed(&state, .line("/raw"))
        #expect(!state.panes[1].showsMarkdownSource)
        #expect(state.status?.text == "rendering markdown in pane 2 — /raw shows the source")
    }

    @Test func copyAsksForTheClipboardWithTheBlocksText() {
        var state = answered()
        #expect(feed(&state, .line("/copy")).contains(.copyToClipboard("ls")))
        #expect(feed(&state, .line("/copy 1")).contains(.copyToClipboard("print(1)")))
        #expect(feed(&state, .line("/copy all")).contains(.copyToClipboard(state.panes[1].entries[1].text)))
        #expect(!feed(&state, .line("/copy 3")).contains { if case .copyToClipboard = $0 { return true } else { return false } })
        #expect(state.status?.isError == true)
    }

    @Test func f12FoldsAndUnfoldsTheFocusedPanesReasoning() {
        var state = answered()
        feed(&state, .key(.toggleReasoning))
        #expect(state.panes[1].showsReasoning && !state.panes[0].showsReasoning)
        #expect(state.status?.text == "pane 2: reasoning shown in full (F12)")
        feed(&state, .key(.toggleReasoning))
        #expect(!state.panes[1].showsReasoning)
    }

    @Test func aLoadedConversationCarriesItsReasoningCounts() {
        var state = answered()
        let saved = ChatSession.Saved(messages: [.user("q"), .assistant("<think>a b c</think>d")], settings: SamplerSettings())
        feed(&state, .conversationLoaded(pane: 0, file: "/tmp/c.json", saved, resumed: false, reasoningTokens: [0, 3]))
        #expect(state.panes[0].entries.map(\.reasoningTokens) == [0, 3])
    }
}

/// Events queued for panes when one closes: the closed pane's are dropped, later panes' move up.
struct EngineEventRemapTests {
    @Test func eventsFollowTheirPanes() throws {
        let queue = try EventQueue()
        queue.post(.cacheRestored(pane: 0, tokens: 5, seconds: 0.1))
        queue.post(.cacheRestored(pane: 1, tokens: 6, seconds: 0.1))
        queue.post(.turnEnded(pane: 2, error: nil))
        queue.post(.cacheFailed(pane: 3, message: "full"))
        queue.post(.loadFailed("x"))
        queue.remap { $0.afterClosing(pane: 1) }
        let described = queue.drain().map { event -> String in
            switch event {
            case let .cacheRestored(i, tokens, _): return "restored \(i) \(tokens)"
            case let .turnEnded(i, _, _): return "ended \(i)"
            case let .cacheFailed(i, _): return "failed \(i)"
            case .loadFailed: return "load failed"
            default: return "other"
            }
        }
        #expect(described == ["restored 0 5", "ended 1", "failed 2", "load failed"])
    }
}
