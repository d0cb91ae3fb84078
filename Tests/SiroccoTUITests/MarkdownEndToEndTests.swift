// Markdown in the chat as a person sees it: Qwen2.5-Coder 0.5B (greedy) answers with a code block
// in tmux; the fences never show, the code sits in the code colours under its numbered label,
// /copy puts it on the clipboard through OSC 52 (tmux keeps it as a paste buffer with
// set-clipboard on) and /raw shows the markdown as written.

import Foundation
import Testing

@Suite(.serialized) struct MarkdownEndToEndTests {
    static var coderModel: String {
        URL(fileURLWithPath: defaultModelPath).deletingLastPathComponent()
            .appendingPathComponent("qwen2.5-coder-0.5b-instruct.gguf").path
    }

    static let question = "Write a Python function that returns the square of a number."

    func start(width: Int, height: Int) throws -> TmuxSession {
        let model = MarkdownEndToEndTests.coderModel
        guard FileManager.default.fileExists(atPath: model) else {
            throw TUITestError("Qwen2.5-Coder 0.5B missing at \(model) (run sirocco pull qwen2.5-coder:0.5b)")
        }
        // in colour (swift test sets NO_COLOR for what it runs)
        let t = try TmuxSession(["chat", "--model", model, "--temp", "0", "--max-tokens", "160"], width: width, height: height,
                                environment: ["NO_COLOR": ""])
        try t.tmux("set-option", "-g", "set-clipboard", "on")
        return t
    }

    /// The SGR sequences in force where `text` starts on the row of `styled` that holds it.
    static func style(before text: String, in styled: String) -> String? {
        for row in styled.split(separator: "\n") where row.contains(text) {
            let head = row[..<row.range(of: text)!.lowerBound]
            var sequences: [Substring] = []
            var rest = head
            while let start = rest.range(of: "\u{1B}[") {
                guard let end = rest[start.upperBound...].firstIndex(where: { $0.isLetter }) else { break }
                sequences.append(rest[start.upperBound...end])
                rest = rest[rest.index(after: end)...]
            }
            // what is in force: everything after the last reset
            let live = sequences.split(whereSeparator: { $0 == "0m" || $0 == "m" }).last ?? []
            return live.joined(separator: " ")
        }
        return nil
    }

    @Test func aCodeAnswerIsRenderedCopiedAndShownRaw() throws {
        let t = try start(width: 120, height: 40)
        defer { t.close() }
        try t.waitFor(text: TUIEndToEndTests.ready)
        try t.submit(MarkdownEndToEndTests.question)
        // while the answer streams, the code block being written is drawn as one (its label on
        // screen) and no fence is ever shown
        var sawCodeStreaming = false
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            let screen = try t.screen()
            #expect(!StatsReader.conversation(screen).contains { $0.contains("``") }, "a fence while streaming:\n\(screen)")
            if screen.contains("answering…") && screen.contains("[1] python") { sawCodeStreaming = true }
            if screen.contains(TUIEndToEndTests.idle) && !screen.contains("answering…") && screen.contains("[1] python") { break }
            Thread.sleep(forTimeInterval: 0.03)
        }
        #expect(sawCodeStreaming, "the code block was never seen while the answer streamed")
        let done = try t.waitFor("the answer with its code block", timeout: 30) { screen in
            screen.contains(TUIEndToEndTests.idle) && !screen.contains("answering…") && screen.contains("[1] python")
        }
        let lines = StatsReader.conversation(done)
        #expect(!lines.contains { $0.contains("```") }, "\(done)")
        let label = try #require(lines.firstIndex { $0.hasPrefix("[1] python") }, "\(done)")
        let definition = try #require(lines[label...].first { $0.hasPrefix("def ") }, "\(done)")

        // the label and the code in the code colours, the question in its own
        let styled = try t.styledScreen()
        let codeStyle = try #require(MarkdownEndToEndTests.style(before: definition, in: styled))
        let questionStyle = try #require(MarkdownEndToEndTests.style(before: MarkdownEndToEndTests.question, in: styled))
        #expect(codeStyle.contains("48;5;236"), "code style: \(codeStyle)")
        #expect(codeStyle != questionStyle)

        // /copy: the last code block on the clipboard (a tmux paste buffer), as written
        try t.submit("/copy")
        try t.waitFor(text: "copied code block 1 (")
        let copied = try t.waitForBuffer { $0.hasPrefix("def ") }
        #expect(!copied.contains("```"))
        for line in copied.split(separator: "\n") where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            #expect(lines.contains { $0 == line.trimmingCharacters(in: .whitespaces) }, "'\(line)' is not on the screen:\n\(done)")
        }
        try t.submit("/copy all")
        try t.waitFor(text: "copied the last answer (")
        let all = try t.waitForBuffer { $0.contains("```python") }
        #expect(all.contains(copied))
        try t.submit("/copy 7")
        try t.waitFor(text: "the last answer has no code block 7 (it has")

        // /raw shows the source, and again renders it
        try t.submit("/raw")
        let raw = try t.waitFor("the markdown source") { $0.contains("showing the markdown source") }
        #expect(StatsReader.conversation(raw).contains("```python"), "\(raw)")
        #expect(raw.contains("markdown source "), "the pane's title says it")
        try t.submit("/raw")
        let again = try t.waitFor("markdown rendered again") { $0.contains("rendering markdown") }
        #expect(!StatsReader.conversation(again).contains { $0.contains("```") } && again.contains("[1] python"), "\(again)")
    }
}
