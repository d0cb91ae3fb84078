// Conversation pane: transcript entries as screen lines, and scrolling back.

@testable import SiroccoTUI
import SiroccoEngine
import Testing

struct ConversationPaneTests {
    init() { utf8Locale }

    func pane(_ entries: [(TranscriptEntry.Kind, String)]) -> PaneState {
        var p = PaneState(index: 0, modelName: "m", modelPath: "/m.gguf", templateName: "chatml", threads: 1)
        for (kind, text) in entries { p.append(kind, text) }
        return p
    }

    @Test func userLinesAreMarkedAndIndented() {
        let lines = ConversationPane.lines(for: TranscriptEntry(id: 0, kind: .user, text: "one two three four"), width: 10)
        #expect(lines.map(\.text) == ["› one two", "three", "four"])
        #expect(lines.map(\.indent) == [0, 2, 2])
        #expect(lines.allSatisfy { $0.role == .user })
    }

    @Test func entriesAreSeparatedByABlankLine() {
        let p = pane([(.user, "hi"), (.assistant, "hello there")])
        let lines = ConversationPane.lines(for: p, width: 40, cache: nil)
        #expect(lines.map(\.text) == ["› hi", "", "hello there"])
    }

    @Test func streamingAnswerShowsACursor() {
        var p = pane([(.user, "hi")])
        p.streaming = true
        p.waitingForFirstToken = true
        #expect(ConversationPane.lines(for: p, width: 40, cache: nil).last?.text == "…")
        p.waitingForFirstToken = false
        p.appendAnswer("Hel")
        p.appendAnswer("lo")
        #expect(p.entries.count == 2)
        #expect(ConversationPane.lines(for: p, width: 40, cache: nil).last?.text == "Hello▍")
    }

    @Test func scrollingShowsEarlierLines() {
        let lines = (0..<30).map { DisplayLine(text: "\($0)", role: .text) }
        #expect(ConversationPane.visible(lines, height: 10, top: nil).map(\.text) == (20..<30).map { "\($0)" })
        #expect(ConversationPane.visible(lines, height: 10, top: 15).map(\.text) == (15..<25).map { "\($0)" })
        // the top is clamped to the conversation
        #expect(ConversationPane.visible(lines, height: 10, top: -4).map(\.text) == (0..<10).map { "\($0)" })
        #expect(ConversationPane.visible(lines, height: 10, top: 100).map(\.text) == (20..<30).map { "\($0)" })
        #expect(ConversationPane.visible(Array(lines.prefix(3)), height: 10, top: 2).map(\.text) == ["0", "1", "2"])
        #expect(ConversationPane.maxScroll(lineCount: 30, height: 10) == 20)
        #expect(ConversationPane.maxScroll(lineCount: 3, height: 10) == 0)
    }

    @Test func pageKeysMoveTheTopAndTheEndFollowsAgain() {
        var state = AppState(phase: .running)
        state.panes = [PaneState(index: 0, modelName: "m", modelPath: "m", templateName: "t", threads: 1)]
        state.scrollFocused(by: 8, lineCount: 30, height: 10)
        #expect(state.panes[0].scrollTop == 12)
        state.scrollFocused(by: 100, lineCount: 30, height: 10)
        #expect(state.panes[0].scrollTop == 0)
        // the conversation grows below: the top stays where it was
        state.scrollFocused(by: -8, lineCount: 50, height: 10)
        #expect(state.panes[0].scrollTop == 8)
        state.scrollFocused(by: -100, lineCount: 50, height: 10)
        #expect(state.panes[0].scrollTop == nil)
    }

    @Test func wrapCacheFollowsTheGrowingAnswer() {
        let cache = WrapCache()
        var p = pane([(.assistant, "one")])
        #expect(ConversationPane.lines(for: p, width: 20, cache: cache).map(\.text) == ["one"])
        p.entries[0].text += " two"
        #expect(ConversationPane.lines(for: p, width: 20, cache: cache).map(\.text) == ["one two"])
        #expect(ConversationPane.lines(for: p, width: 4, cache: cache).map(\.text) == ["one", "two"])
    }

    @Test func answersAreRenderedFromMarkdownAndRawShowsTheSource() {
        let answer = "Try **this**:\n```python\nprint(1)\n```"
        var p = pane([(.user, "**not** markdown"), (.assistant, answer), (.notice, "a `notice`")])
        let cache = WrapCache()
        let rendered = ConversationPane.lines(for: p, width: 40, cache: cache)
        #expect(rendered.map(\.text) == ["› **not** markdown", "", "Try this:", " [1] python", " print(1)", "", "· a `notice`"])
        #expect(rendered[4].fill == .code && rendered[4].spans.last?.role == .code)
        p.showsMarkdownSource = true
        #expect(ConversationPane.lines(for: p, width: 40, cache: cache).map(\.text)
                == ["› **not** markdown", "", "Try **this**:", "```python", "print(1)", "```", "", "· a `notice`"])
        p.showsMarkdownSource = false
        #expect(ConversationPane.lines(for: p, width: 40, cache: cache) == rendered)
    }

    @Test func theAnswerBeingWrittenSettlesWhenItEnds() {
        // an unclosed ** reads as bold while the answer streams, and as written once it has ended
        var p = pane([(.user, "hi")])
        p.streaming = true
        p.appendAnswer("a **b")
        let cache = WrapCache()
        let streaming = ConversationPane.lines(for: p, width: 40, cache: cache)
        #expect(streaming.last?.text == "a b▍")
        #expect(streaming.last?.spans.map(\.role) == [.assistant, .emphasis, .assistant])
        p.streaming = false
        #expect(ConversationPane.lines(for: p, width: 40, cache: cache).last?.text == "a **b")
    }

    @Test func stateAppliesEngineEvents() {
        var state = AppState(phase: .running)
        state.panes = [pane([(.user, "hi")])]
        state.panes[0].streaming = true
        var stats = GenerationStats()
        stats.generatedTokens = 3
        stats.cacheCellsUsed = 12
        state.apply(.text("Hi"), toPane: 0)
        state.apply(.progress(stats), toPane: 0)
        state.apply(.text(" you"), toPane: 0)
        state.apply(.finished(.cancelled, stats), toPane: 0)
        state.apply(.text("ignored"), toPane: 7)
        #expect(state.panes[0].entries.last?.text == "Hi you")
        #expect(state.panes[0].stats.cacheCellsUsed == 12)
        #expect(state.panes[0].lastStop == .cancelled)
    }

    @Test func focusWrapsAround() {
        var state = AppState(phase: .running)
        state.panes = [pane([]), pane([]), pane([])]
        state.moveFocus(by: 1)
        #expect(state.focus == 1)
        state.moveFocus(by: -2)
        #expect(state.focus == 2)
        state.moveFocus(by: 1)
        #expect(state.focus == 0)
    }
}

/// Reasoning blocks fold to one line with their token count; F12's toggle shows them under a bar.
struct ReasoningFoldTests {
    init() { utf8Locale }

    func answer(_ text: String, tokens: Int = 0) -> TranscriptEntry {
        TranscriptEntry(id: 0, kind: .assistant, text: text, reasoningTokens: tokens)
    }

    @Test func aFinishedBlockFoldsToOneLine() {
        let lines = ConversationPane.lines(for: answer("<think>\nadd 2 and 3\n</think>\n\n**5**", tokens: 9), width: 60)
        #expect(lines.map(\.text) == ["▸ thought for 9 tokens (F12 shows)", "", "5"])
        #expect(lines[0].role == .notice)
        #expect(lines[2].spans.first?.attributes.contains(.bold) == true)
    }

    @Test func shownItSitsUnderABar() {
        let lines = ConversationPane.lines(for: answer("<think>first step\nsecond</think>Done.", tokens: 4), width: 60,
                                           reasoningShown: true)
        #expect(lines.map(\.text) == ["▾ thought for 4 tokens (F12 folds)", "│ first step", "│ second", "", "Done."])
    }

    @Test func whileThinkingItSaysSoAndShowsNoAnswer() {
        let lines = ConversationPane.lines(for: answer("<think>\nlet me see", tokens: 3), width: 60, open: true)
        #expect(lines.map(\.text) == ["▸ thinking… 3 tokens (F12 shows)"])
    }

    @Test func aClosingTagWithoutAnOpeningOneStillFolds() {
        let lines = ConversationPane.lines(for: answer("reasoning here\n</think>\nThe answer.", tokens: 5), width: 60)
        #expect(lines.map(\.text) == ["▸ thought for 5 tokens (F12 shows)", "", "The answer."])
    }

    @Test func theSourceViewShowsTheTags() {
        let lines = ConversationPane.lines(for: answer("<think>x</think>y"), width: 60, source: true)
        #expect(lines.map(\.text) == ["<think>x</think>y"])
    }

    @Test func theCountComesFromTheStatsWhileStreamingAndTheTokenizerWhenLoaded() {
        var p = PaneState(index: 0, modelName: "m", modelPath: "/m.gguf", templateName: "chatml", threads: 1)
        p.append(.user, "hi")
        p.streaming = true
        var state = AppState(phase: .running)
        state.panes = [p]
        state.apply(.text("<think>a b"), toPane: 0)
        var stats = GenerationStats()
        stats.reasoningTokens = 2
        state.apply(.progress(stats), toPane: 0)
        #expect(state.panes[0].entries.last?.reasoningTokens == 2)
        #expect(ConversationPane.lines(for: state.panes[0], width: 60, cache: WrapCache()).contains { $0.text.hasPrefix("▸ thinking… 2 tokens") })
        p.replaceTranscript(with: [.user("hi"), .assistant("<think>one two three</think>ok")], reasoningTokens: [0, 3])
        #expect(p.entries.map(\.reasoningTokens) == [0, 3])
    }
}
