// Ollama's """ multi-line messages: which lines open, collect and close a block, and the text sent.

@testable import SiroccoTUI
import Testing

struct MultilineInputTests {
    /// Feeds `lines` and returns every outcome.
    func feed(_ lines: [String]) -> (outcomes: [MultilineInput.Outcome], input: MultilineInput) {
        var input = MultilineInput()
        return (lines.map { input.take($0) }, input)
    }

    @Test(arguments: [
        // (lines typed, the message sent at the last line)
        (["\"\"\"", "first line", "second line", "\"\"\""], "first line\nsecond line"),
        (["\"\"\"Hello", "world\"\"\""], "Hello\nworld"),
        (["\"\"\"", "  indented code", "", "/not a command", "end\"\"\""], "  indented code\n\n/not a command\nend"),
        (["  \"\"\" ", "a", "\"\"\"  "], "a"),
        (["\"\"\"one line\"\"\""], "one line"),
        (["\"\"\"\na recalled block\n\"\"\""], "a recalled block"),
    ])
    func aBlockIsSentWhole(lines: [String], message: String) {
        let (outcomes, input) = feed(lines)
        #expect(outcomes.last == .message(message))
        #expect(outcomes.dropLast().allSatisfy { $0 == .collecting })
        #expect(!input.isOpen)
    }

    @Test func linesWithoutQuotesAreOrdinary() {
        let (outcomes, input) = feed(["hello", "/set temp 0.5", "say \"\"\" here"])
        #expect(outcomes == [.line("hello"), .line("/set temp 0.5"), .line("say \"\"\" here")])
        #expect(!input.isOpen)
    }

    @Test func theOpenBlockKeepsWhatWasTyped() {
        let (outcomes, input) = feed(["\"\"\"Dear reader,", "", "a line"])
        #expect(outcomes == [.collecting, .collecting, .collecting])
        #expect(input.typed == ["\"\"\"Dear reader,", "", "a line"])
        var discarded = input
        discarded.discard()
        #expect(!discarded.isOpen && discarded.take("next") == .line("next"))
    }

    @Test func anEmptyBlockIsAnEmptyMessage() {
        #expect(feed(["\"\"\"", "\"\"\""]).outcomes.last == .message(""))
        #expect(feed(["\"\"\"\"\"\""]).outcomes.last == .message(""))
    }

    @Test func theHistoryEntrySendsTheBlockAgain() {
        var input = MultilineInput()
        #expect(input.take(MultilineInput.historyEntry(for: "a\nb")) == .message("a\nb"))
    }
}
