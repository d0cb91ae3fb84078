// `sirocco chat` as a person sees it: the real binary in tmux on the default model, asserting on
// the screen — streaming, live stats, settings, split panes, resize, Ctrl-C, themes, --resume —
// and the one-line errors printed before the terminal is taken over.

import Foundation
import Testing
import TestSupport

@Suite(.serialized) struct TUIEndToEndTests {
    static let ready = "Type a message and press Enter"
    static let idle = "idle ("

    /// The seed the old fixed default was: these tests watch answers stream, and a random seed can
    /// give an answer too short to be seen streaming or one that loops past the screen.
    static let seed = "12648430"

    func start(_ extra: [String] = [], models: Int = 1, width: Int = 140, height: Int = 40, dataHome: String? = nil,
               environment: [String: String] = [:], startDelay: Double = 0, randomSeed: Bool = false) throws -> TmuxSession {
        let model = defaultModelPath
        guard FileManager.default.fileExists(atPath: model) else {
            throw TUITestError("test model missing at \(model) (run sirocco pull smollm2:135m)")
        }
        let modelArgs = Array(repeating: ["--model", model], count: models).flatMap { $0 }
        let seed = randomSeed || extra.contains("--seed") ? [] : ["--seed", TUIEndToEndTests.seed]
        return try TmuxSession(["chat"] + modelArgs + seed + extra, width: width, height: height, dataHome: dataHome,
                               environment: environment, startDelay: startDelay)
    }

    /// Sends `question` and waits until every pane has finished answering it. The question shows
    /// in the same frame the answer starts, so a screen with it and every pane idle is after the turn.
    @discardableResult
    func ask(_ t: TmuxSession, _ question: String, panes: Int = 1, timeout: Double = 90) throws -> String {
        try t.submit(question)
        return try t.waitFor("\(panes) answer(s) to '\(question)'", timeout: timeout) { screen in
            screen.contains("› " + question) && !screen.contains("answering…") && !screen.contains("reading prompt…")
                && screen.components(separatedBy: TUIEndToEndTests.idle).count - 1 == panes
        }
    }

    /// Lines of the first pane's conversation after the line with `question`.
    func linesAfter(_ question: String, in screen: String) -> [String] {
        let lines = StatsReader.conversation(screen)
        guard let i = lines.lastIndex(where: { $0.contains("› " + question) }) else { return [] }
        return Array(lines[(i + 1)...]).filter { !$0.isEmpty }
    }

    @Test func answerStreamsAndStatsGrow() throws {
        // long enough to be seen streaming on a quiet machine (SmolLM2 writes ~370 tokens/s here)
        let t = try start(["--max-tokens", "200"])
        defer { t.close() }
        let first = try t.waitFor(text: TUIEndToEndTests.ready)
        #expect(StatsReader.kvCells(first) == [0])
        #expect(first.contains("SmolLM2-135M-Instruct"))
        #expect(StatsReader.values("template", in: first) == ["model"])

        // a question with a long answer: a short one can finish between two looks at the screen
        let question = "Tell me a long story about a brave knight."
        try t.submit(question)
        // streaming: words of the answer on screen while the state says it is being written
        let streaming = try t.waitFor("the answer streaming", timeout: 60, transient: true) { screen in
            screen.contains("answering…") && linesAfter(question, in: screen).contains { $0.contains { $0.isLetter } }
        }
        #expect(streaming.contains("▍"), "no streaming cursor:\n\(streaming)")
        let done = try t.waitFor("the answer finished", timeout: 90) { $0.contains(TUIEndToEndTests.idle) && !$0.contains("answering…") }
        let answer = linesAfter(question, in: done)
        #expect(answer.contains { $0.contains { $0.isLetter } }, "no answer under the question:\n\(done)")
        let generation = StatsReader.numbers("generation", in: done)
        let prompt = StatsReader.numbers("prompt", in: done)
        #expect(generation.count == 1 && generation[0] > 0, "generation tok/s: \(generation)")
        #expect(prompt.count == 1 && prompt[0] > 0, "prompt tok/s: \(prompt)")
        let answerTokens = StatsReader.values("answer", in: done).compactMap { Int($0) }
        #expect(answerTokens.count == 1 && answerTokens[0] > 0 && answerTokens[0] <= 200, "answer tokens: \(answerTokens)")
        #expect(StatsReader.numbers("first token", in: done).first ?? 0 > 0)
        let cellsAfterOne = try #require(StatsReader.kvCells(done).first)
        #expect(cellsAfterOne > 0)

        let second = try ask(t, "And of Italy?")
        let cellsAfterTwo = try #require(StatsReader.kvCells(second).first)
        #expect(cellsAfterTwo > cellsAfterOne, "KV cells \(cellsAfterOne) → \(cellsAfterTwo)")
        #expect(StatsReader.values("KV memory", in: second).first.flatMap(Double.init) ?? 0 > 0)
    }

    /// --draft-model: the stats panel shows how many drafted tokens the model kept.
    @Test func aDraftModelsShareOfKeptTokensShows() throws {
        let draft = try #require(try GGUFPatch.copy(of: defaultModelPath, settingUInt32: "llama.block_count", to: 20))
        defer { try? FileManager.default.removeItem(atPath: draft) }
        let t = try start(["--draft-model", draft, "--temp", "0", "--max-tokens", "48"])
        defer { t.close() }
        _ = try t.waitFor(text: TUIEndToEndTests.ready)
        let screen = try ask(t, "Name three colours.")
        #expect(screen.range(of: #"│ draft +(off · )?\d+% of [1-9]\d* kept"#, options: .regularExpression) != nil, "\(screen)")
    }

    @Test func settingsChangeInThePanel() throws {
        let t = try start(["--max-tokens", "64"])
        defer { t.close() }
        let first = try t.waitFor(text: TUIEndToEndTests.ready)
        #expect(StatsReader.values("temp", in: first).first == "0.80")

        try t.submit("/set temp 0.2")
        try t.waitFor("temp 0.20 in the panel") { StatsReader.values("temp", in: $0).first == "0.20" }
        try t.press("F3")
        try t.waitFor("F3 raising temp to 0.30") { StatsReader.values("temp", in: $0).first == "0.30" }
        try t.press("F4")
        try t.waitFor("F4 lowering top-p to 0.90") { StatsReader.values("top-p", in: $0).first == "0.90" }
        try t.press("F7")
        try t.waitFor("F7 raising top-k to 45") { StatsReader.values("top-k", in: $0).first == "45" }
        try t.submit("/set min_p 0.1")
        try t.waitFor("min-p 0.10") { StatsReader.values("min-p", in: $0).first == "0.10" }
        try t.submit("/set repeat_penalty 1.1")
        try t.waitFor("repeat 1.10") { StatsReader.values("repeat", in: $0).first == "1.10" }
        try t.submit("/set seed 42")
        try t.waitFor("seed 42") { StatsReader.values("seed", in: $0).first == "42" }

        // invalid values are a message, not a crash
        try t.submit("/set top_p 7")
        try t.waitFor(text: "top-p must be between 0 and 1")
        try t.submit("/set temp warm")
        try t.waitFor(text: "'warm' is not a valid value for temp")
        try t.submit("/frobnicate")
        try t.waitFor(text: "unknown command /frobnicate")
        try t.submit("/template nonsense")
        try t.waitFor(text: "unknown chat template 'nonsense'")
        try t.submit("/template chatml")
        try t.waitFor("template chatml in the panel") { StatsReader.values("template", in: $0).first == "chatml" }

        // help lists the keys
        try t.press("F1")
        let help = try t.waitFor(text: "Help")
        for key in ["F2 / F3", "F4 / F5", "F6 / F7", "F8 / F9", "F10 / F11", "Tab", "PageUp", "/set", "/quit", "focused pane"] {
            #expect(help.contains(key), "help lacks \(key)")
        }
        try t.press("Escape")
        try t.waitFor("help closed") { !$0.contains("any key closes") }

        // settings apply mid-answer; the stream carries on
        try t.submit("Tell me about the sea.")
        try t.waitFor("the answer being written", timeout: 60, transient: true) { $0.contains("answering…") }
        try t.press("F2")
        try t.waitFor("F2 lowering temp mid-answer to 0.20") { StatsReader.values("temp", in: $0).first == "0.20" }
        try t.waitFor("the answer finished", timeout: 90) { $0.contains(TUIEndToEndTests.idle) && !$0.contains("answering…") }
        #expect(!(try t.screen()).contains("[sirocco exited"))
    }

    @Test func twoPanesAnswerSideBySide() throws {
        // long enough that both answers are seen streaming together, short enough to keep the question in view
        let t = try start(["--max-tokens", "120"], models: 2)
        defer { t.close() }
        let first = try t.waitFor(text: TUIEndToEndTests.ready)
        #expect(first.contains("1 · SmolLM2") && first.contains("2 · SmolLM2"))
        #expect(first.contains("focus: pane 1"))
        #expect(StatsReader.kvCells(first) == [0, 0])

        try t.submit("Tell me about the sea.")
        // both stream at the same time
        try t.waitFor("both panes answering", timeout: 60, transient: true) { StatsReader.values("state", in: $0) == ["answering…", "answering…"] }
        let done = try t.waitFor("both answers finished", timeout: 90) { screen in
            screen.components(separatedBy: TUIEndToEndTests.idle).count - 1 == 2 && !screen.contains("answering…")
        }
        #expect(done.components(separatedBy: "› Tell me about the sea.").count - 1 == 2, "\(done)")
        for pane in 0..<2 {
            let lines = StatsReader.conversation(done, pane: pane)
            let question = try #require(lines.firstIndex { $0.contains("› Tell me about the sea.") })
            #expect(lines[(question + 1)...].contains { $0.contains { $0.isLetter } }, "pane \(pane + 1) has no answer")
        }
        let cells = StatsReader.kvCells(done)
        #expect(cells.count == 2 && cells.allSatisfy { $0 > 0 }, "KV cells: \(cells)")
        let speeds = StatsReader.numbers("generation", in: done)
        #expect(speeds.count == 2 && speeds.allSatisfy { $0 > 0 }, "generation: \(speeds)")
        // panes of one model are decoded together, one forward call for both most steps
        let batch = StatsReader.numbers("batch", in: done)
        #expect(batch.count == 2 && batch.allSatisfy { $0 > 1.5 }, "batch: \(batch)")

        // Tab moves the focus; settings follow it
        try t.press("Tab")
        try t.waitFor(text: "focus: pane 2")
        try t.submit("/set temp 0.3")
        try t.waitFor("pane 2 at temp 0.30, pane 1 unchanged") { StatsReader.values("temp", in: $0) == ["0.80", "0.30"] }
        try t.press("Tab")
        try t.waitFor(text: "focus: pane 1")
        try t.press("F3")
        try t.waitFor("pane 1 at temp 0.90") { StatsReader.values("temp", in: $0) == ["0.90", "0.30"] }
    }

    @Test func resizeRelaysOut() throws {
        let t = try start()
        defer { t.close() }
        let wide = try t.waitFor(text: TUIEndToEndTests.ready)
        #expect(wide.contains("┌─ stats"), "sidebar expected at 140 columns")

        try t.resize(width: 80, height: 24)
        let narrow = try t.waitFor("stats stacked under the conversation") { $0.contains("├─ stats") }
        #expect(narrow.split(separator: "\n", omittingEmptySubsequences: false).allSatisfy { $0.count <= 80 })

        try t.resize(width: 30, height: 10)
        try t.waitFor(text: "Terminal too small")

        try t.resize(width: 120, height: 30)
        let back = try t.waitFor("the UI back in a sidebar layout") { $0.contains("┌─ stats") && !$0.contains("too small") }
        #expect(back.contains(TUIEndToEndTests.ready))
    }

    @Test func scrolledBackViewStaysPutWhileTheAnswerStreams() throws {
        // (a seed whose story runs past 1200 tokens: the old fixed default seed, 0xC0FFEE)
        let t = try start(["--max-tokens", "1200"], height: 24)
        defer { t.close() }
        try t.waitFor(text: TUIEndToEndTests.ready)
        let question = "Tell me a long story about a brave knight."
        try t.submit(question)
        // the answer has pushed the question out of view and is still being written
        try t.waitFor("the answer filling the pane", timeout: 60) { screen in
            screen.contains("answering…") && !screen.contains("› " + question)
        }
        try t.press("PageUp")
        let scrolled = try t.waitFor(text: "lines back")
        let view = StatsReader.conversation(scrolled)
        let back = try #require(TUIEndToEndTests.linesBack(scrolled))
        // more of the answer arrives below: the distance from the end grows, the view does not move
        let later = try t.waitFor("the answer growing below the view (or ending)", timeout: 90) { screen in
            (TUIEndToEndTests.linesBack(screen) ?? 0) >= back + 5 || screen.contains(TUIEndToEndTests.idle)
        }
        #expect((TUIEndToEndTests.linesBack(later) ?? 0) >= back + 5, "the distance from the end did not grow:\n\(later)")
        #expect(StatsReader.conversation(later) == view, "the view moved:\n\(scrolled)\n---\n\(later)")
        let done = try t.waitFor("the answer finished", timeout: 90) { $0.contains(TUIEndToEndTests.idle) && !$0.contains("answering…") }
        #expect(StatsReader.conversation(done) == view, "the view moved when the answer ended:\n\(done)")
        // PageDown goes back to following the end
        for _ in 0..<200 {
            guard TUIEndToEndTests.linesBack(try t.screen()) != nil else { break }
            try t.press("PageDown")
        }
        try t.waitFor("the end of the answer in view") { $0.contains("cut at 1200 tokens") && !$0.contains("lines back") }
    }

    /// N of the "↑ N lines back" note, if the screen shows it.
    static func linesBack(_ screen: String) -> Int? {
        guard let r = screen.range(of: #"↑ \d+ lines back"#, options: .regularExpression) else { return nil }
        return Int(screen[r].dropFirst(2).prefix { $0.isNumber })
    }

    @Test func ctrlCStopsTheAnswerAndCtrlDQuits() throws {
        // the answers stay short enough to keep the question in view (a random seed can make
        // SmolLM2 loop until the token cap)
        let t = try start(["--max-tokens", "300"])
        defer { t.close() }
        try t.waitFor(text: TUIEndToEndTests.ready)
        let question = "Write a very long story about a dragon who learns to cook, with many chapters."
        try t.submit(question)
        // wait for the first words, then stop
        try t.waitFor("the answer starting", timeout: 60) { screen in
            screen.contains("answering…") && linesAfter(question, in: screen).contains { $0.contains { $0.isLetter } }
        }
        try t.press("C-c")
        let stopped = try t.waitFor(text: "stopped (the partial answer is kept)")
        #expect(StatsReader.values("state", in: stopped) == ["idle"])  // "idle (stopped)"
        #expect(stopped.contains("idle (stopped)"))
        let partial = linesAfter(question, in: stopped)
        #expect(partial.count >= 2 && partial[0].contains { $0.isLetter }, "the partial answer is gone:\n\(stopped)")
        #expect(!stopped.contains("[sirocco exited"))

        // the session goes on after a cancelled answer
        try ask(t, "Thanks! Reply with one word.")

        // Ctrl-C at an idle prompt does not quit (as Ollama): it says how to; Ctrl-D does
        try t.press("C-c")
        let told = try t.waitFor(text: "Use Ctrl-D or /bye to exit.")
        #expect(!told.contains("[sirocco exited"))
        try t.type("half a line")
        try t.waitFor(text: "› half a line")
        try t.press("C-c")
        try t.waitFor("the line cleared") { $0.contains("line cleared") && !$0.contains("half a line") }
        try t.press("C-d")
        let exited = try t.waitFor("exit", timeout: 20) { $0.contains("[sirocco exited 0]") }
        #expect(exited.contains("Conversation saved in"))
        #expect(!exited.contains("┌─"), "the terminal was not restored:\n\(exited)")
    }

    @Test func ollamaCommandsWork() throws {
        let t = try start(["--max-tokens", "16"])
        defer { t.close() }
        try t.waitFor(text: TUIEndToEndTests.ready)
        // /show info: facts about the model, in the pane
        try t.submit("/show info")
        let info = StatsReader.conversation(try t.waitFor(text: "quantization: Q4_1")).joined(separator: " ")
        for fact in ["architecture: llama", "parameters: 134.5M", "context length: 4096 in this chat, 8192 trained",
                     "chat template: model template (chatml family)", "system prompt: You are a helpful AI assistant named SmolLM"] {
            #expect(info.contains(fact), "/show info lacks \(fact):\n\(info)")
        }
        // /system alone: the template's own default system prompt
        try t.submit("/clear")
        try t.submit("/system")
        try t.waitFor("the default system prompt in the pane") { screen in
            StatsReader.conversation(screen).joined(separator: " ")
                .contains("· system prompt: You are a helpful AI assistant named SmolLM, trained by Hugging Face (the template's default)")
        }
        // /set parameter with Ollama's names; num_ctx is refused with the way to change it
        try t.submit("/set parameter temperature 0.3")
        try t.waitFor("temp 0.30 in the panel") { StatsReader.values("temp", in: $0).first == "0.30" }
        try t.submit("/set parameter num_ctx 8192")
        try t.waitFor(text: "num_ctx cannot be changed: the context size is fixed when the chat starts")
        try t.submit("/set parameter num_predict 8")
        try t.waitFor(text: "answers of at most 8 tokens")
        try t.submit("/set system You are terse.")
        try t.waitFor(text: "· system prompt: You are terse.")

        // a message typed over several lines between """ lines, shown above the input as typed
        try t.submit("\"\"\"Summarise this:")
        try t.submit("/not a command")
        try t.type("the last line")
        let typing = try t.waitFor("the block above the input") { $0.contains("… /not a command") }
        let bottom = typing.split(separator: "\n").suffix(4).map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(bottom == ["multi-line message: a line ending in \"\"\" sends it · Ctrl-C discards",
                           "› \"\"\"Summarise this:", "… /not a command", "… the last line"], "\(typing)")
        try t.submit("\"\"\"")
        let done = try t.waitFor("the answer to the block", timeout: 90) { screen in
            screen.contains("› Summarise this:") && screen.contains(TUIEndToEndTests.idle) && !screen.contains("answering…")
        }
        let lines = StatsReader.conversation(done)
        let first = try #require(lines.firstIndex { $0.contains("› Summarise this:") })
        #expect(Array(lines[first...].prefix(3)) == ["› Summarise this:", "/not a command", "the last line"], "\(done)")
        #expect(!done.contains("unknown command"))
        #expect(StatsReader.values("answer", in: done).first.flatMap { Int($0) } ?? 99 <= 8)  // num_predict 8

        // /save and /load speak of the conversation
        let file = t.dataHome + "/saved chat.json"
        try t.submit("/save \(file)")
        try t.waitFor(text: "saved the conversation (2 messages) to \(file)")
        try t.submit("/load \(file)")
        try t.waitFor(text: "loaded the conversation from \(file) (2 messages)")
        // with its KV cache, saved beside it
        try t.waitFor(text: "KV cache restored: ")
        #expect(FileManager.default.fileExists(atPath: t.dataHome + "/saved chat.kv"))
        try t.submit("/save /etc/hostname/chat.json")
        try t.waitFor(text: "cannot save the conversation to /etc/hostname/chat.json: ")
        try t.submit("/load /nonexistent/chat.json")
        try t.waitFor(text: "cannot load the conversation from /nonexistent/chat.json: No such file or directory")

        try t.submit("/bye")
        try t.waitFor("exit", timeout: 20) { $0.contains("[sirocco exited 0]") }
    }

    @Test func aRandomSeedCanBeFixedToReproduceAnAnswer() throws {
        let t = try start(["--max-tokens", "16", "--temp", "1.5", "--min-p", "0", "--top-k", "0", "--top-p", "1"], randomSeed: true)
        defer { t.close() }
        let first = try t.waitFor(text: TUIEndToEndTests.ready)
        #expect(StatsReader.values("seed", in: first) == ["random"])
        let question = "Write about a cat."
        let answered = try ask(t, question)
        let seed = try #require(StatsReader.values("seed", in: answered).first.flatMap { UInt64($0) })
        #expect(answered.contains("seed        \(seed) (random)"), "\(answered)")
        let answer = linesAfter(question, in: answered)
        #expect(answer.contains { $0.contains { $0.isLetter } })

        try t.submit("/clear")
        try t.submit("/set seed \(seed)")
        try t.waitFor(text: "seed \(seed) (fixed")
        let again = try ask(t, question)
        #expect(linesAfter(question, in: again) == answer, "seed \(seed) did not give the same answer:\n\(answered)\n---\n\(again)")
        #expect(StatsReader.values("seed", in: again) == ["\(seed)"] && !again.contains("(random)"))

        try t.submit("/set seed random")
        try t.waitFor(text: "random, last \(seed)")
    }

    @Test func aBaseModelOpensInCompletionMode() throws {
        let gemma = URL(fileURLWithPath: defaultModelPath).deletingLastPathComponent().appendingPathComponent("gemma-3-270m-q4_k_m.gguf").path
        guard FileManager.default.fileExists(atPath: gemma) else { throw TUITestError("Gemma 3 270M missing at \(gemma)") }
        let t = try TmuxSession(["chat", "--model", gemma, "--max-tokens", "24", "--temp", "0"])
        defer { t.close() }
        // the note takes the empty pane's place
        let first = try t.waitFor(text: "base model (no chat template)")
        let note = StatsReader.conversation(first).joined(separator: " ")
        #expect(note.contains("base model (no chat template): completion mode — the model continues your text"), "\(first)")
        #expect(StatsReader.values("template", in: first) == ["completion"])
        let text = "The capital of France is"
        let done = try ask(t, text)
        let continuation = linesAfter(text, in: done).joined(separator: " ")
        #expect(continuation.contains { $0.isLetter }, "no continuation:\n\(done)")
        // plain text: no chat turn markers asked for, none written
        for marker in ["<start_of_turn>", "<end_of_turn>", "model\n"] { #expect(!continuation.contains(marker)) }
        // a chat format can still be picked by name
        try t.submit("/template gemma")
        try t.waitFor("template gemma in the panel") { StatsReader.values("template", in: $0).first == "gemma" }
    }

    @Test func badThemeFileIsReported() throws {
        let dir = NSTemporaryDirectory() + "sirocco-themes-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "# broken\ntext = default\nuser = purplish bold\n".write(toFile: dir + "/broken.theme", atomically: true, encoding: .utf8)
        try "title = white on red\n".write(toFile: dir + "/fine.theme", atomically: true, encoding: .utf8)

        let t = try start(["--theme", "broken"], environment: ["SIROCCO_THEMES": dir])
        defer { t.close() }
        // the notice shows on the loading screen first; the panes come after
        let screen = try t.waitFor("the notice in the panes") { $0.contains("broken.theme:3") && $0.contains("┌─") }
        // in the status line, and in the conversation where it stays
        let status = screen.split(separator: "\n").dropLast().last.map(String.init) ?? ""
        #expect(status.contains("using the default theme: ") && status.contains("broken.theme:3"), "\(screen)")
        let conversation = StatsReader.conversation(screen).joined(separator: " ")
        #expect(conversation.contains(dir + "/broken.theme:3: unknown colour 'purplish'"), "\(screen)")

        try t.submit("/theme fine")
        try t.waitFor(text: "theme fine")
        try t.submit("/theme nosuch")
        try t.waitFor(text: "theme 'nosuch' not found")
        try t.submit("/theme light")  // the repository's themes are found too
        try t.waitFor(text: "theme light")
    }

    @Test func aMultiLinePasteIsOneMessage() throws {
        let t = try start(["--max-tokens", "16"])
        defer { t.close() }
        try t.waitFor(text: TUIEndToEndTests.ready)
        // tmux marks the paste as the terminal would (the app asked for bracketed paste)
        try t.paste("Summarise this:\nthe first line\nthe second line")
        try t.waitFor("the paste in the input line") { $0.contains("› Summarise this:↵the first line↵the second line") }
        try t.press("Enter")
        let done = try t.waitFor("the answer", timeout: 90) { screen in
            screen.contains("› Summarise this:") && screen.contains(TUIEndToEndTests.idle) && !screen.contains("answering…")
        }
        let lines = StatsReader.conversation(done)
        let first = try #require(lines.firstIndex { $0.contains("› Summarise this:") })
        #expect(Array(lines[first...].prefix(3)) == ["› Summarise this:", "the first line", "the second line"], "\(done)")
        #expect(!done.contains("still answering"), "a line of the paste was sent on its own:\n\(done)")
        #expect(done.split(separator: "\n").last.map { $0.trimmingCharacters(in: .whitespaces) } == "›", "input not empty:\n\(done)")
        // the history gives the whole message back, in this run and the next
        try t.press("Up")
        try t.waitFor("the paste back from the history") { $0.contains("› Summarise this:↵the first line↵the second line") }
        try t.press("C-u")
        try t.submit("/quit")
        try t.waitFor("exit", timeout: 20) { $0.contains("[sirocco exited 0]") }
        let again = try start(["--max-tokens", "16"], dataHome: t.dataHome)
        defer { again.close() }
        try again.waitFor(text: TUIEndToEndTests.ready)
        try again.press("Up")  // the last entry: /quit
        try again.waitFor(text: "› /quit")
        try again.press("Up")
        try again.waitFor("the paste back from the saved history") { $0.contains("› Summarise this:↵the first line↵the second line") }
    }

    @Test func linesTypedWhileTheModelLoadsAreKept() throws {
        // typed before sirocco starts: the line waits in the terminal and is read on the loading screen
        let t = try start(startDelay: 1)
        defer { t.close() }
        try t.submit("/theme light")
        // (the terminal echoes the line until curses starts)
        let screen = try t.waitFor("the line read") { $0.contains("┌─") && $0.contains("theme light") }
        #expect(!screen.contains("› /theme light"), "\(screen)")
    }

    @Test func resumeBringsBackTheLastConversation() throws {
        let dataHome = NSTemporaryDirectory() + "sirocco-resume-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dataHome, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dataHome) }
        let folder = dataHome + "/sirocco/conversations"

        let first = try start(["--max-tokens", "48"], dataHome: dataHome)
        try first.waitFor(text: TUIEndToEndTests.ready)
        let firstTurn = try ask(first, "My name is Zanzibar and I like kites.")
        let cells = try #require(StatsReader.kvCells(firstTurn).first)
        try first.submit("/quit")
        try first.waitFor("exit", timeout: 20) { $0.contains("[sirocco exited 0]") }
        first.close()
        // the conversation, and its KV cache beside it
        let saved = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        #expect(saved.count == 2 && saved[0].hasSuffix("-1.json") && saved[1] == saved[0].dropLast(5) + ".kv", "\(saved)")

        let second = try start(["--resume", "--max-tokens", "48"], dataHome: dataHome)
        defer { second.close() }
        let screen = try second.waitFor(text: "KV cache restored: ")
        #expect(screen.contains("› My name is Zanzibar and I like kites.") && screen.contains("resumed"))
        // every cell the first chat filled comes back, so the next answer reads only the new message
        let restored = try #require(StatsReader.kvCells(screen).first)
        #expect(restored == cells && screen.contains("KV cache restored: \(cells) tokens"), "\(screen)")
        // the model remembers it: the conversation goes on in the same file
        let answered = try ask(second, "What do I like?")
        let evaluated = try #require(promptTokens(answered))
        #expect(evaluated < 30 && evaluated * 3 < cells, "evaluated \(evaluated) prompt tokens after resuming \(cells)")
        try second.submit("/quit")
        try second.waitFor("exit", timeout: 20) { $0.contains("[sirocco exited 0]") }
        let after = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        #expect(after == saved)
        let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + saved[0]))
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let messages = object?["messages"] as? [[String: Any]] ?? []
        #expect(messages.count == 4, "\(messages)")
        second.close()

        // a damaged cache: one line in the status line, and the conversation is read again
        let cache = folder + "/" + saved[1]
        var bytes = try Data(contentsOf: URL(fileURLWithPath: cache))
        bytes[bytes.count / 2] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: cache))
        let third = try start(["--resume", "--max-tokens", "16"], dataHome: dataHome)
        defer { third.close() }
        try third.waitFor(text: "KV cache not used (\(saved[1])): damaged KV cache file (checksum mismatch)")
        let reread = try ask(third, "And my name?")
        #expect(try #require(promptTokens(reread)) > cells)
    }

    /// The prompt tokens the last answer evaluated ("prompt  123.4 tok/s · 17 tok").
    func promptTokens(_ screen: String) -> Int? {
        for line in screen.split(separator: "\n") {
            guard let label = line.range(of: "prompt "), let value = line[label.upperBound...].range(of: "tok/s · ") else { continue }
            return Int(line[value.upperBound...].prefix(while: \.isNumber))
        }
        return nil
    }

    @Test(arguments: [
        (["chat", "--model", "/nonexistent/model.gguf"], "/nonexistent/model.gguf: No such file"),
        (["--model", "/nonexistent/model.gguf"], "No such file"),  // chat is the default subcommand
        (["chat", "--template", "nonsense"], "unknown chat template 'nonsense'"),
        (["chat", "--temp=-1"], "temperature"),
    ])
    func startupErrorsAreOneLineBeforeCurses(arguments: [String], message: String) throws {
        let r = try shell([try siroccoBinary()] + arguments)
        #expect(r.status != 0)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains(message), "stderr: \(r.stderr)")
        #expect(r.stdout.isEmpty, "curses must not have started: \(r.stdout.debugDescription)")
    }

    @Test func missingDefaultModelSaysHowToGetIt() throws {
        // the default model is pulled on first use; a registry that cannot be reached is one line
        let models = NSTemporaryDirectory() + "sirocco-nomodels-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: models) }
        let r = try shell([try siroccoBinary(), "chat"], environment: ["SIROCCO_MODELS": models, "SIROCCO_MODEL": "",
                                                                    "SIROCCO_PYPI_INDEX": "http://127.0.0.1:9/simple/"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("cannot pull qwen2.5-coder:1.5b: cannot reach the registry"), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").last?.hasPrefix("sirocco: error:") == true, "\(r.stderr)")
    }
}
