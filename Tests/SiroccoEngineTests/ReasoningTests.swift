// Reasoning blocks: the split the TUI folds, the token count in the stats, and a template that opens
// the block in the generation prompt (the answer then starts inside it).

import Foundation
import Testing
@testable import SiroccoEngine

@Suite struct ReasoningTests {
    @Test(arguments: [
        // answer, startsInside → reasoning, answer, open
        ("Hello.", false, nil, "Hello.", false),
        ("<think>\nadd them\n</think>\n\n5", false, "add them", "5", false),
        ("  <think>a</think>b", false, "a", "b", false),
        ("<think>\nstill going", false, "still going", "", true),
        ("<think>", false, "", "", true),
        ("step 1\nstep 2\n</think>\nDone.", false, "step 1\nstep 2", "Done.", false),  // opening tag missing
        ("step 1", true, "step 1", "", true),  // the template opened it
        ("", true, "", "", true),
        ("x</think>y", true, "x", "y", false),
        ("Use <think> tags.", false, nil, "Use <think> tags.", false),  // not at the start: plain text
    ] as [(String, Bool, String?, String, Bool)])
    func splits(_ answer: String, _ startsInside: Bool, _ reasoning: String?, _ rest: String, _ open: Bool) {
        #expect(Reasoning.split(answer, startsInside: startsInside) == Reasoning.Split(reasoning: reasoning, answer: rest, open: open))
    }

    @Test func promptsThatOpenABlock() {
        #expect(Reasoning.promptOpensBlock("<|im_start|>assistant\n<think>\n"))
        #expect(Reasoning.promptOpensBlock("<｜Assistant｜><think>"))
        #expect(!Reasoning.promptOpensBlock("<|im_start|>assistant\n<think>\n\n</think>\n\n"))  // Qwen3, thinking off
        #expect(!Reasoning.promptOpensBlock("<|im_start|>assistant\n"))
    }

    @Test func theCounterCountsTokensUpToTheClosingTag() {
        func count(_ pieces: [String], inside: Bool = false) -> Int {
            var c = ReasoningCounter(startsInside: inside)
            for p in pieces { c.add(p) }
            return c.tokens
        }
        #expect(count(["<th", "ink", ">", "\n", "a", "b", "</", "think", ">", "\n", "ok"]) == 9)
        #expect(count(["Hello", " <think>", " there"]) == 0)
        #expect(count(["a", "b", "c"], inside: true) == 3)
        #expect(count(["a", "b", "</think>", "c", "d"]) == 3)  // the opening tag was missing
        #expect(count(["\n", "<think>", "x"]) == 3)
        // a closing tag split over tokens after a long reasoning
        #expect(count(["<think>"] + Array(repeating: "word ", count: 100) + ["</th", "ink>", "answer"]) == 103)
    }

    /// Two answered examples teach SmolLM2 the format; greedy, it answers with a block of its own.
    func sessionWithExamples(format: ChatFormat? = nil) throws -> ChatSession {
        let s = try ChatSession(model: try ReferenceModel.load(), contextLength: 1024, threads: 2, format: format,
                                systemPrompt: "You think inside <think></think> tags before answering.", settings: .greedy)
        s.maxAnswerTokens = 40
        let saved = ChatSession.Saved(model: nil, systemPrompt: s.systemPrompt, messages: [
            .user("What is 2 + 3?"), .assistant("<think>\n2 plus 3 makes 5.\n</think>\n2 + 3 = 5."),
            .user("What is 10 + 4?"), .assistant("<think>\n10 plus 4 makes 14.\n</think>\n10 + 4 = 14."),
        ], settings: .greedy)
        let file = NSTemporaryDirectory() + "sirocco-reasoning-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: file) }
        try JSONEncoder().encode(saved).write(to: URL(fileURLWithPath: file))
        try s.load(from: file)
        return s
    }

    @Test func aRealAnswerCountsItsReasoningTokens() throws {
        let s = try sessionWithExamples()
        let result = try s.respond(to: "What is 17 + 25?")
        #expect(result.text.hasPrefix("<think>"), "\(result.text)")
        // the tokens up to the one that completes the closing tag
        let tokenizer = s.model.tokenizer
        let closing = (1...result.tokens.count).first { tokenizer.decode(Array(result.tokens[..<$0])).contains(Reasoning.closeTag) }
        #expect(closing != nil && closing! < result.tokens.count, "\(result.text)")
        #expect(result.stats.reasoningTokens == closing)
        #expect(s.lastStats.reasoningTokens == closing)
        #expect(Reasoning.split(result.text).answer.contains("42"), "\(result.text)")
    }

    @Test func aTemplateThatOpensTheBlockStartsTheAnswerInsideIt() throws {
        let template = """
        {% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' }}{% endfor %}\
        {% if add_generation_prompt %}{{ '<|im_start|>assistant\\n<think>\\n' }}{% endif %}
        """
        let s = try sessionWithExamples(format: .jinja(template, name: "think", bos: nil, eos: nil))
        var first: String?
        let result = try s.respond(to: "What is 17 + 25?") { event in
            if case let .text(piece) = event, first == nil { first = piece }
        }
        #expect(first == "<think>\n")
        let stored = s.messages.last!.content
        #expect(stored == "<think>\n" + result.text)
        // the model went on inside the block: its tokens up to the closing tag, or all of them
        let split = Reasoning.split(stored)
        #expect(split.reasoning != nil)
        if split.open { #expect(result.stats.reasoningTokens == result.tokens.count) } else {
            #expect(result.stats.reasoningTokens > 0 && result.stats.reasoningTokens < result.tokens.count)
        }
    }
}
