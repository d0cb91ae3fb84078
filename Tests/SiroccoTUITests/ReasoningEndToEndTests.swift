// A reasoning block as a person sees it: SmolLM2 (greedy), taught the <think> format by two answered
// examples loaded with /load, answers with a block of its own; the pane folds it to one line with
// its token count, the stats count it apart, F12 unfolds it and folds it again.

import Foundation
import SiroccoEngine
import Testing

@Suite(.serialized) struct ReasoningEndToEndTests {
    @Test func aThinkingBlockFoldsAndUnfolds() throws {
        let t = try TmuxSession(["chat", "--model", defaultModelPath, "--temp", "0", "--max-tokens", "60",
                                 "--system", "You think inside <think></think> tags before answering."],
                                width: 150, height: 34)
        defer { t.close() }
        try t.waitFor(text: "system prompt: You think inside")
        let messages: [[String: String]] = [
            ["role": "user", "content": "What is 2 + 3?"],
            ["role": "assistant", "content": "<think>\n2 plus 3 makes 5.\n</think>\n2 + 3 = 5."],
            ["role": "user", "content": "What is 10 + 4?"],
            ["role": "assistant", "content": "<think>\n10 plus 4 makes 14.\n</think>\n10 + 4 = 14."],
        ]
        let settings = try JSONSerialization.jsonObject(with: JSONEncoder().encode(SamplerSettings.greedy))
        let examples: [String: Any] = ["format": "sirocco-conversation", "version": 1, "messages": messages, "settings": settings,
                                       "systemPrompt": "You think inside <think></think> tags before answering."]
        let file = t.dataHome + "/examples.json"
        try JSONSerialization.data(withJSONObject: examples).write(to: URL(fileURLWithPath: file))
        try t.submit("/load \(file)")
        try t.waitFor(text: "loaded the conversation from \(file) (4 messages)")
        // the loaded answers' blocks are folded too, counted by the tokenizer
        let loaded = try t.waitFor(text: "▸ thought for")
        let answers = StatsReader.conversation(loaded).filter { !$0.hasPrefix("·") && !$0.hasPrefix(" ") }
        #expect(!answers.contains { $0.contains("think>") || $0.contains("2 plus 3 makes 5") }, "\(loaded)")

        try t.submit("What is 17 + 25?")
        let done = try t.waitFor("the answer", timeout: 90) { screen in
            screen.contains("› What is 17 + 25?") && screen.contains(TUIEndToEndTests.idle) && !screen.contains("answering…")
        }
        let lines = StatsReader.conversation(done)
        let asked = try #require(lines.lastIndex { $0.contains("› What is 17 + 25?") })
        let after = Array(lines[(asked + 1)...]).filter { !$0.isEmpty }
        let fold = try #require(after.first, "\(done)")
        let count = try #require(fold.wholeMatch(of: #/▸ thought for (\d+) tokens \(F12 shows\)/#)?.output.1, "\(done)")
        #expect(after.dropFirst().joined(separator: " ").contains("17 + 25 = "), "\(done)")
        #expect(!after.contains { $0.contains("think>") || $0.contains("17 plus 25") }, "\(done)")
        // the stats panel counts the reasoning apart
        #expect(done.contains(" tokens (\(count) thinking)"), "\(done)")

        try t.press("F12")
        let shown = try t.waitFor(text: "▾ thought for \(count) tokens (F12 folds)")
        #expect(shown.contains("│ 17 plus 25 makes"), "\(shown)")
        #expect(shown.contains("reasoning shown in full (F12)"), "\(shown)")
        try t.press("F12")
        try t.waitFor(text: "reasoning folded (F12)")
    }
}
