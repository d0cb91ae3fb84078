// /retry and /edit as a person uses them: the real binary in tmux on SmolLM2 — a new answer in
// place of the last that reads one prompt token, a message taken back, changed and sent again.

import Foundation
import Testing

@Suite(.serialized) struct RetryAndEditTests {
    /// The chat's helpers (start, ask, the lines after a question, prompt tokens read).
    let chat = TUIEndToEndTests()

    @Test func retryGivesANewAnswerReadingOnlyOnePromptToken() throws {
        // hot sampling: two seeds give two answers
        let t = try chat.start(["--max-tokens", "24", "--temp", "1.5", "--top-k", "0", "--top-p", "1", "--min-p", "0"])
        defer { t.close() }
        try t.waitFor(text: TUIEndToEndTests.ready)
        let question = "Write about a cat."
        let first = try chat.ask(t, question)
        let answer = chat.linesAfter(question, in: first)
        let firstSeed = StatsReader.values("seed", in: first)
        #expect(answer.contains { $0.contains { $0.isLetter } })

        try t.submit("/retry")
        let again = try t.waitFor("the new answer", timeout: 90) { screen in
            screen.contains(TUIEndToEndTests.idle) && !screen.contains("answering…") && StatsReader.values("seed", in: screen) != firstSeed
        }
        let lines = StatsReader.conversation(again)
        #expect(lines.filter { $0.contains("› " + question) }.count == 1, "the question twice:\n\(again)")
        let newAnswer = chat.linesAfter(question, in: again)
        #expect(newAnswer != answer, "the same answer:\n\(first)\n---\n\(again)")
        // the prompt was in the KV cache: only its last token was evaluated again
        #expect(chat.promptTokens(again) == 1, "\(again)")
        // a new random seed, though the settings fix one
        #expect(StatsReader.values("seed", in: again).first?.hasPrefix("\(TUIEndToEndTests.seed),") == true, "\(again)")
    }

    @Test func editPutsTheLastMessageBackToChangeAndSend() throws {
        let t = try chat.start(["--max-tokens", "16", "--temp", "0"])
        defer { t.close() }
        try t.waitFor(text: TUIEndToEndTests.ready)
        let first = try chat.ask(t, "What is the capital of France?")
        let firstPrompt = try #require(chat.promptTokens(first))
        try t.submit("/edit")
        let editing = try t.waitFor("the message back in the input line") { screen in
            screen.split(separator: "\n").last?.hasPrefix("› What is the capital of France?") == true
                && !StatsReader.conversation(screen).contains { $0.contains("capital") }
        }
        #expect(editing.contains("the last message is back in the input line"))
        try t.type(" Answer in one word.")
        let edited = "What is the capital of France? Answer in one word."
        try t.press("Enter")
        let done = try t.waitFor("the answer to the edited message", timeout: 90) { screen in
            screen.contains("› " + edited) && screen.contains(TUIEndToEndTests.idle) && !screen.contains("answering…")
        }
        let lines = StatsReader.conversation(done)
        #expect(lines.filter { $0.contains("› What is the capital") }.count == 1, "\(done)")
        #expect(lines.contains { $0.contains("› " + edited) })
        // the system prompt and the start of the message were still in the KV cache
        let evaluated = try #require(chat.promptTokens(done))
        #expect(evaluated < firstPrompt / 2, "evaluated \(evaluated) of the edited prompt, \(firstPrompt) of the first:\n\(done)")
    }
}
