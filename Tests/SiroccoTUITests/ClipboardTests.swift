// /copy: which text of the last answer it takes, the one-line errors, and the OSC 52 sequence
// that carries the text to the terminal's clipboard.

import Foundation
@testable import SiroccoTUI
import Testing

struct ClipboardTests {
    static let answer = """
        First:

        ```python
        def add(a, b):
            return a + b
        ```

        Then run it:

        ```sh
        python3 add.py
        ```
        """

    static func pane(_ entries: [(TranscriptEntry.Kind, String)]) -> PaneState {
        var p = PaneState(index: 0, modelName: "m", modelPath: "/m.gguf", templateName: "chatml", threads: 1)
        for (kind, text) in entries { p.append(kind, text) }
        return p
    }

    @Test(arguments: [
        (CopyTarget.lastCodeBlock, "python3 add.py", "code block 2 (1 line)"),
        (.codeBlock(1), "def add(a, b):\n    return a + b", "code block 1 (2 lines)"),
        (.codeBlock(2), "python3 add.py", "code block 2 (1 line)"),
        (.answer, answer, "the last answer (12 lines)"),
    ])
    func copiesFromTheLastAnswer(target: CopyTarget, text: String, summary: String) throws {
        // an earlier answer, and notices after the last one, do not count
        let pane = ClipboardTests.pane([(.user, "q"), (.assistant, "```\nold\n```"), (.user, "q2"),
                                        (.assistant, ClipboardTests.answer), (.notice, "stopped")])
        #expect(try Clipboard.text(target, in: pane) == ClipboardText(text: text, summary: summary))
    }

    @Test(arguments: [
        ([(TranscriptEntry.Kind.user, "hi")], CopyTarget.lastCodeBlock, CopyError.noAnswer, "no answer to copy yet"),
        ([(.assistant, "just words")], .lastCodeBlock, .noCodeBlock, "the last answer has no code block (/copy all copies all of it)"),
        ([(.assistant, "just words")], .codeBlock(1), .noCodeBlock, "the last answer has no code block (/copy all copies all of it)"),
        ([(.assistant, answer)], .codeBlock(3), .noSuchBlock(3, count: 2), "the last answer has no code block 3 (it has 2)"),
    ])
    func saysWhyThereIsNothingToCopy(entries: [(TranscriptEntry.Kind, String)], target: CopyTarget, error: CopyError, message: String) {
        #expect(throws: error) { try Clipboard.text(target, in: ClipboardTests.pane(entries)) }
        #expect(error.description == message)
    }

    @Test(arguments: ["def add(a, b):\n    return a + b", "naïve ✓ 日本", ""])
    func osc52CarriesTheTextInBase64(text: String) throws {
        let sequence = Clipboard.osc52(text)
        #expect(sequence.hasPrefix("\u{1B}]52;c;"))
        #expect(sequence.hasSuffix("\u{07}"))
        let payload = String(sequence.dropFirst("\u{1B}]52;c;".count).dropLast())
        let decoded = try #require(Data(base64Encoded: payload))
        #expect(String(decoding: decoded, as: UTF8.self) == text)
        #expect(payload.allSatisfy { $0.isLetter || $0.isNumber || "+/=".contains($0) })
    }

    @Test func theSequenceForAKnownTextIsExact() {
        #expect(Clipboard.osc52("hi\n") == "\u{1B}]52;c;aGkK\u{07}")
    }
}
