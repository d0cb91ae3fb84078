// Markdown as screen lines: each kind of block as styled lines (tables of input → expected), and
// an answer streamed character by character — every prefix renders, and what is settled never
// changes when more text arrives.

import Foundation
@testable import SiroccoTUI
import Testing

struct MarkdownLayoutTests {
    init() { utf8Locale }

    /// A line as `{fill}` + indentation + its spans, `<role attrs:text>` where the style is not
    /// plain answer text (neighbours in the same style merged).
    static func notation(_ line: DisplayLine) -> String {
        var merged: [StyledSpan] = []
        for span in line.spans where !span.text.isEmpty {
            if let last = merged.last, last.role == span.role, last.attributes == span.attributes {
                merged[merged.count - 1].text += span.text
            } else {
                merged.append(span)
            }
        }
        let letters: [(TextAttributes, String)] = [(.bold, "b"), (.italic, "i"), (.underline, "u")]
        let spans = merged.map { span in
            if span.role == .assistant && span.attributes.isEmpty { return span.text }
            let attributes = letters.filter { span.attributes.contains($0.0) }.map { " " + $0.1 }.joined()
            return "<\(span.role.rawValue)\(attributes):\(span.text)>"
        }
        return (line.fill.map { "{\($0.rawValue)}" } ?? "") + String(repeating: " ", count: line.indent) + spans.joined()
    }

    static func render(_ markdown: String, width: Int = 40, open: Bool = false) -> [String] {
        MarkdownLayout.lines(Markdown.parse(markdown, open: open), open: open, width: width).map(notation)
    }

    @Test(arguments: [
        ("# Title", 40, ["<heading b u:Title>"]),
        ("## Sub *it*", 40, ["<heading b:Sub ><heading b i:it>"]),
        ("Some **bold** and *it* text", 40, ["Some <emphasis b:bold> and <emphasis i:it> text"]),
        ("*a **b** c*", 40, ["<emphasis i:a ><emphasis b i:b><emphasis i: c>"]),
        ("a **unterminated", 40, ["a **unterminated"]),
        ("Use `ls -l` here", 40, ["Use <code:ls -l> here"]),
        ("See [docs](https://x.org).", 40, ["See <link u:docs><link: (https://x.org)>."]),
        // line breaks kept, words wrapped
        ("one\ntwo", 40, ["one", "two"]),
        ("alpha beta gamma", 11, ["alpha beta", "gamma"]),
        // lists: bullets by depth, numbers as written, continuation lines hanging under the text
        ("- one\n- two\n  - nested\n    - deeper\n10. ten", 40, ["• one", "• two", "  ◦ nested", "    ▪ deeper", "10. ten"]),
        ("- alpha beta gamma", 10, ["• alpha", "  beta", "  gamma"]),
        ("1. step\n   more\n\n   again", 40, ["1. step", "   more", "", "   again"]),
        ("- **Bold:** text", 40, ["• <emphasis b:Bold:> text"]),
        // quotes behind a bar, their text in the quote colour
        ("> quoted *text*", 40, ["<quote:│ quoted ><quote i:text>"]),
        ("> - item", 40, ["<quote:│ • item>"]),
        // rules across the width
        ("---", 6, ["<table_border:──────>"]),
        ("a\n\n\n\nb", 40, ["a", "", "b"]),
    ])
    func blocks(markdown: String, width: Int, expected: [String]) {
        #expect(MarkdownLayoutTests.render(markdown, width: width) == expected)
    }

    @Test(arguments: [
        ("```python\nprint(1)\n```", 40, ["{code}<code_label: [1] python>", "{code}<code: print(1)>"]),
        ("```\nx\n\ny\n```", 40, ["{code}<code_label: [1] code>", "{code}<code: x>", "{code}<code: >", "{code}<code: y>"]),
        // two blocks, numbered
        ("```a\n1\n```\ntext\n```b\n2\n```", 40,
         ["{code}<code_label: [1] a>", "{code}<code: 1>", "text", "{code}<code_label: [2] b>", "{code}<code: 2>"]),
        // a long line cut at the edge, going on behind the continuation marker (never word-wrapped)
        ("```\nabc defghijklmnop\n```", 10,
         ["{code}<code_label: [1] code>", "{code}<code: abc defgh>", "{code}<code_label:↪><code:ijklmnop>"]),
        // indentation inside code is kept; markdown inside code is not read
        ("```\n    **x** `y`\n```", 40, ["{code}<code_label: [1] code>", "{code}<code:     **x** `y`>"]),
        // in a list item, at the item's indentation
        ("1. Run:\n   ```sh\n   ls\n   ```", 40, ["1. Run:", "{code}   <code_label: [1] sh>", "{code}   <code: ls>"]),
        // an unterminated fence in a finished answer runs to the end
        ("```sh\nls", 40, ["{code}<code_label: [1] sh>", "{code}<code: ls>"]),
    ])
    func codeBlocks(markdown: String, width: Int, expected: [String]) {
        #expect(MarkdownLayoutTests.render(markdown, width: width) == expected)
    }

    @Test func tablesAlignTheirColumns() {
        let table = "| name | n |\n|:-----|--:|\n| apple | 3 |\n| fig | 12 |"
        #expect(MarkdownLayoutTests.render(table) == [
            "<assistant b:name> <table_border: │ > <assistant b:n>",
            "<table_border:──────┼───>",
            "apple<table_border: │ > 3",
            "fig  <table_border: │ >12",
        ])
        let centered = "| a | b |\n|:-:|---|\n| xyz | 1 |"
        #expect(MarkdownLayoutTests.render(centered) == [
            " <assistant b:a> <table_border: │ ><assistant b:b>",
            "<table_border:────┼──>",
            "xyz<table_border: │ >1",
        ])
    }

    @Test func aTableTooWideOrStillGrowingShowsAsWritten() {
        let table = "|a|bb|\n|-|-|\n|ccc|d|"
        // aligned it takes 3 + 3 + 2 = 8 columns
        #expect(MarkdownLayoutTests.render(table, width: 8).count == 3)
        #expect(MarkdownLayoutTests.render(table, width: 8)[1] == "<table_border:────┼───>")
        #expect(MarkdownLayoutTests.render(table, width: 7) == ["|a|bb|", "|-|-|", "|ccc|d|"])
        #expect(MarkdownLayoutTests.render(table + "\n", open: true) == ["|a|bb|", "|-|-|", "|ccc|d|"])
        // once a line after it shows the table has ended, it aligns, keeping one line a row
        let ended = MarkdownLayoutTests.render(table + "\n\n", open: true)
        #expect(ended.prefix(3) == MarkdownLayoutTests.render(table).prefix(3))
    }

    @Test(arguments: [
        ("**bold so fa", ["<emphasis b:bold so fa>"]),
        ("Here:\n```py\ndef f():\n    ret", ["Here:", "{code}<code_label: [1] py>", "{code}<code: def f():>", "{code}<code:     ret>"]),
        ("```py\nx\n``", ["{code}<code_label: [1] py>", "{code}<code: x>"]),
        ("Use `", ["Use"]),
        ("[docs](https://x", ["<link u:docs><link: (https://x>"]),
    ])
    func streamingText(markdown: String, expected: [String]) {
        #expect(MarkdownLayoutTests.render(markdown, open: true) == expected)
    }

    static let sample = """
        Here is a **function** that adds two numbers:

        ```python
        def add(a, b):
            \"\"\"Return a + b.\"\"\"
            return a + b
        ```

        | input | output |
        |-------|-------:|
        | 1, 2  | 3 |

        1. Call `add(1, 2)`.
        2. See [the docs](https://docs.python.org) and *more*:
           - nested item

        > Note: *done*.

        ```sh
        python3 add.py
        ```
        """

    @Test func everyPrefixOfAnAnswerRendersAndSettledBlocksNeverChange() {
        let width = 36
        let final = MarkdownLayout.lines(Markdown.parse(MarkdownLayoutTests.sample), open: false, width: width)
        var ends = Array(MarkdownLayoutTests.sample.indices.dropFirst())
        ends.append(MarkdownLayoutTests.sample.endIndex)
        for end in ends {
            let prefix = String(MarkdownLayoutTests.sample[..<end])
            let document = Markdown.parse(prefix, open: true)
            let shown = MarkdownLayout.lines(document, open: true, width: width)
            #expect(shown.allSatisfy { $0.width <= width }, "too wide after \(prefix.debugDescription)")
            #expect(!shown.contains { $0.text.contains("``") }, "a fence shown after \(prefix.debugDescription)")
            // every block but the one being written is laid out as in the finished answer
            let settled = MarkdownLayout.lines(MarkdownDocument(blocks: document.blocks.dropLast()), open: false, width: width)
            #expect(Array(shown.prefix(settled.count)) == settled, "after \(prefix.debugDescription)")
            #expect(Array(final.prefix(settled.count)) == settled, "after \(prefix.debugDescription)")
        }
    }

    @Test func aFinishedCodeBlockDoesNotChangeAsTextArrivesAfterIt() throws {
        let sample = MarkdownLayoutTests.sample
        let width = 36
        let final = MarkdownLayout.lines(Markdown.parse(sample), open: false, width: width)
        let label = try #require(final.firstIndex { $0.text == " [1] python" })
        let block = label..<(label + 4)
        #expect(final[block].allSatisfy { $0.fill == .code })
        let closed = try #require(sample.range(of: "a + b\n```")).upperBound
        for end in sample.indices where end >= closed {
            let shown = MarkdownLayout.lines(Markdown.parse(String(sample[..<end]), open: true), open: true, width: width)
            #expect(Array(shown[block]) == Array(final[block]), "after \(sample[..<end].debugDescription)")
        }
    }
}
