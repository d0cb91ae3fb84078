// /model, /close and /all as a person uses them: the real binary in tmux on SmolLM2 and
// Qwen2.5-Coder 0.5B, asserting on the screen — a pane opened while running answers, answers
// compared under the panes, one-line errors, the 2×2 grid on a small terminal.

import Foundation
import Testing

@Suite(.serialized) struct PaneCommandsTests {
    static let ready = TUIEndToEndTests.ready

    /// The second model of the tests, beside the default one.
    var qwenPath: String {
        URL(fileURLWithPath: defaultModelPath).deletingLastPathComponent().appendingPathComponent("qwen2.5-coder-0.5b-instruct.gguf").path
    }

    func start(_ extra: [String] = [], models: [String]? = nil, width: Int = 140, height: Int = 40,
               environment: [String: String] = [:]) throws -> TmuxSession {
        let models = models ?? [defaultModelPath]
        for model in models where !FileManager.default.fileExists(atPath: model) {
            throw TUITestError("test model missing at \(model) (run sirocco pull)")
        }
        let seed = extra.contains("--seed") ? [] : ["--seed", TUIEndToEndTests.seed]
        return try TmuxSession(["chat"] + models.flatMap { ["--model", $0] } + seed + extra, width: width, height: height,
                               environment: environment)
    }

    /// Sends `question` and waits until `panes` panes have answered it.
    @discardableResult
    func ask(_ t: TmuxSession, _ question: String, panes: Int = 1) throws -> String {
        try TUIEndToEndTests().ask(t, question, panes: panes, timeout: 120)
    }

    @Test func modelOpensAPaneThatAnswersAndTheAnswersAreCompared() throws {
        let t = try start(["--max-tokens", "24", "--temp", "0"])
        defer { t.close() }
        try t.waitFor(text: PaneCommandsTests.ready)
        try t.submit("/model \(qwenPath)")
        // the pane being opened is there, loading, before the model is
        let loading = try t.waitFor("the pane being opened", timeout: 30, transient: true) {
            $0.contains("loading qwen2.5-coder-0.5b-instruct.gguf …")
        }
        #expect(loading.contains("2 · qwen2.5-coder-0.5b-instruct.gguf"), "\(loading)")
        let opened = try t.waitFor(text: "pane 2 opened: qwen2.5-coder-0.5b-instruct", timeout: 60)
        #expect(opened.contains("1 · SmolLM2") && opened.contains("2 · qwen2.5-coder-0.5b-instruct"))
        #expect(opened.contains("focus: pane 2") && opened.contains("to all panes"), "\(opened)")
        #expect(StatsReader.kvCells(opened) == [0, 0])

        let done = try ask(t, "What is 2+2?", panes: 2)
        for pane in 0..<2 {
            let lines = StatsReader.conversation(done, pane: pane)
            let question = try #require(lines.firstIndex { $0.contains("› What is 2+2?") }, "pane \(pane + 1):\n\(done)")
            #expect(lines[(question + 1)...].contains { $0.contains { $0.isLetter || $0.isNumber } }, "pane \(pane + 1) has no answer")
        }
        // one line under the panes compares the two answers, with the numbers of the stats panels
        let comparison = try #require(done.split(separator: "\n").first { $0.contains("answers  1: ") }, "\(done)")
        let tokens = StatsReader.values("answer", in: done)
        #expect(tokens.count == 2 && comparison.contains("1: \(tokens[0]) tok · ") && comparison.contains("2: \(tokens[1]) tok · "),
                "\(comparison) vs \(tokens)")
        #expect(comparison.contains(" tok/s · ") && comparison.hasSuffix(" s"))
    }

    @Test func closeClosesTheFocusedPaneAndAllSendsToItAlone() throws {
        let t = try start(["--max-tokens", "16", "--temp", "0"], models: [defaultModelPath, qwenPath])
        defer { t.close() }
        try t.waitFor(text: PaneCommandsTests.ready)
        // to the focused pane only: the other stays empty
        try t.submit("/all")
        try t.waitFor(text: "to pane 1 only")
        try t.press("Tab")
        try t.waitFor(text: "focus: pane 2 — messages, settings keys and /set go to it")
        let answered = try ask(t, "Hello!")
        #expect(StatsReader.conversation(answered, pane: 0).allSatisfy { !$0.contains("Hello!") }, "\(answered)")
        #expect(StatsReader.kvCells(answered).first == 0 && StatsReader.kvCells(answered).last ?? 0 > 0)
        #expect(!answered.contains("answers  1:"))  // one answer: nothing to compare

        try t.submit("/close")
        let closed = try t.waitFor(text: "closed pane 2 (qwen2.5-coder-0.5b-instruct)")
        #expect(!closed.contains("2 · qwen") && closed.contains("┌─ stats"), "one pane, with its stats beside:\n\(closed)")
        try t.submit("/close")
        try t.waitFor(text: "the last pane stays open (/bye quits)")
        // the one left still answers
        try ask(t, "Thanks!")
    }

    @Test func aModelThatCannotBeOpenedIsOneLineInTheStatusLine() throws {
        let models = NSTemporaryDirectory() + "sirocco-nomodels-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: models, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: models) }
        let t = try start(environment: ["SIROCCO_MODELS": models])
        defer { t.close() }
        let before = try t.waitFor(text: PaneCommandsTests.ready)
        let cases = [("/model /nonexistent/model.gguf", "/nonexistent/model.gguf: No such file"),
                     ("/model smollm2:135m", "model smollm2:135m is not pulled yet: run sirocco pull smollm2:135m"),
                     ("/model \(models)", "\(models): is a directory, not a GGUF model file")]
        for (command, message) in cases {
            try t.submit(command)
            let screen = try t.waitFor(text: message)
            let status = screen.split(separator: "\n").dropLast().last.map(String.init) ?? ""
            #expect(status.contains(message), "not in the status line:\n\(screen)")
            #expect(StatsReader.kvCells(screen).count == 1 && !screen.contains("loading"), "\(screen)")
        }
        #expect(StatsReader.conversation(try t.screen()) == StatsReader.conversation(before))
    }

    @Test func fourPanesMakeAGridWhenTooNarrowForColumns() throws {
        let t = try start(["--max-tokens", "8", "--temp", "0"], width: 80, height: 24)
        defer { t.close() }
        try t.waitFor(text: PaneCommandsTests.ready)
        for n in 2...4 {
            try t.submit("/model \(defaultModelPath)")
            try t.waitFor(text: "pane \(n) opened: SmolLM2")
        }
        let grid = try t.screen()
        let rows = grid.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(rows.allSatisfy { $0.count <= 80 })
        let top = try #require(rows.firstIndex { $0.contains("1 · SmolLM2") })
        let bottom = try #require(rows.firstIndex { $0.contains("3 · SmolLM2") })
        #expect(rows[top].contains("2 · SmolLM2") && rows[bottom].contains("4 · SmolLM2") && bottom > top + 5, "\(grid)")
        try t.submit("/model \(defaultModelPath)")
        try t.waitFor(text: "at most 4 panes: /close one first")

        // (the question scrolls out of the four short panes)
        try t.submit("Hi")
        let done = try t.waitFor("four answers", timeout: 120) { screen in
            screen.components(separatedBy: TUIEndToEndTests.idle).count - 1 == 4 && !screen.contains("answering…")
        }
        let comparison = done.split(separator: "\n").first { $0.contains("1: ") && $0.contains("4: ") && $0.contains("tok ") }
        #expect(comparison.map { !$0.contains("…") } == true, "no comparison line in full:\n\(done)")
        try t.resize(width: 60, height: 20)
        let small = try t.waitFor(text: "Terminal too small")
        #expect(small.contains("48×23 (2×2)") && small.contains("/close a pane"), "\(small)")
        try t.resize(width: 200, height: 50)
        let wide = try t.waitFor("four panes side by side") { screen in
            screen.split(separator: "\n").contains { $0.contains("1 · SmolLM2") && $0.contains("4 · SmolLM2") }
        }
        #expect(!wide.contains("too small"))
    }
}
