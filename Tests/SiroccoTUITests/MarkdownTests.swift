// Markdown blocks: what each kind of line starts, code blocks numbered in order, tables, and an
// unfinished last line left out while it could still become markup.

@testable import SiroccoTUI
import Testing

struct MarkdownTests {
    @Test func readsTheBlocksOfAnAnswer() {
        let text = """
            # Title

            Some text
            on two lines.
            - one
              more of one
            - two
              - nested
            1. first
            ```swift
            let x = 1
            ```
            > quoted
            > lines
            ---
            """
        #expect(Markdown.parse(text).blocks == [
            .heading(level: 1, text: "Title"),
            .blank,
            .paragraph("Some text\non two lines."),
            .listItem(marker: "-", depth: 0, text: "one\nmore of one"),
            .listItem(marker: "-", depth: 0, text: "two"),
            .listItem(marker: "-", depth: 1, text: "nested"),
            .listItem(marker: "1.", depth: 0, text: "first"),
            .code(CodeBlock(number: 1, language: "swift", lines: ["let x = 1"], indent: 0)),
            .quote([.paragraph("quoted\nlines")]),
            .rule,
        ])
    }

    @Test(arguments: [
        ("## Sub ##", MarkdownBlock.heading(level: 2, text: "Sub")),
        ("###### six", .heading(level: 6, text: "six")),
        ("####### seven", .paragraph("####### seven")),
        ("#hashtag", .paragraph("#hashtag")),
        ("* * *", .rule),
        ("___", .rule),
        ("-5 degrees", .paragraph("-5 degrees")),
        ("**bold** start", .paragraph("**bold** start")),
        ("+ plus", .listItem(marker: "+", depth: 0, text: "plus")),
        ("12) twelve", .listItem(marker: "12)", depth: 0, text: "twelve")),
        ("2024 was a year", .paragraph("2024 was a year")),
        ("```print(1)``` inline", .paragraph("```print(1)``` inline")),
    ])
    func oneLine(line: String, block: MarkdownBlock) {
        #expect(Markdown.parse(line).blocks == [block])
    }

    @Test func fencesCloseOnTheirOwnKindAndLength() {
        let blocks = Markdown.parse("````md\n```\ninner\n```\n````\n~~~\na\n~~~").codeBlocks
        #expect(blocks.map(\.lines) == [["```", "inner", "```"], ["a"]])
        #expect(blocks.map(\.number) == [1, 2])
        #expect(blocks.map(\.language) == ["md", ""])
    }

    @Test func aFenceInAListItemIsIndentedWithIt() {
        let blocks = Markdown.parse("1. Install:\n   ```sh\n   pip install x\n     indented\n   ```\n2. Run").blocks
        #expect(blocks == [
            .listItem(marker: "1.", depth: 0, text: "Install:"),
            .code(CodeBlock(number: 1, language: "sh", lines: ["pip install x", "  indented"], indent: 3)),
            .listItem(marker: "2.", depth: 0, text: "Run"),
        ])
    }

    @Test func codeBlocksAreNumberedInsideQuotesToo() {
        let document = Markdown.parse("```a\n1\n```\n> ```b\n> 2\n> ```\n\n```c\n3")
        #expect(document.codeBlocks.map(\.number) == [1, 2, 3])
        #expect(document.codeBlocks.map(\.text) == ["1", "2", "3"])  // the last one never closed
    }

    @Test func readsPipeTables() {
        let blocks = Markdown.parse("Intro\n| a | b | c |\n|:--|:-:|--:|\n| 1 | 2 |\n| x \\| y | 5 | 6 | 7 |\nafter").blocks
        #expect(blocks == [
            .paragraph("Intro"),
            .table(MarkdownTable(header: ["a", "b", "c"], alignments: [.left, .center, .right],
                                 rows: [["1", "2", ""], ["x | y", "5", "6"]],
                                 source: ["| a | b | c |", "|:--|:-:|--:|", "| 1 | 2 |", "| x \\| y | 5 | 6 | 7 |"])),
            .paragraph("after"),
        ])
        // a delimiter row with another number of cells makes no table
        #expect(Markdown.parse("| a | b |\n|---|").blocks == [.paragraph("| a | b |\n|---|")])
    }

    @Test func blankLinesCollapseAndTrailingOnesGo() {
        #expect(Markdown.parse("\n\na\n\n\n\nb\n\n").blocks == [.paragraph("a"), .blank, .paragraph("b")])
    }

    @Test(arguments: [
        // (text being written, its blocks so far)
        ("a\n", [MarkdownBlock.paragraph("a")]),
        ("a\n\n", [.paragraph("a"), .blank]),
        ("a\n`", [.paragraph("a")]),
        ("a\n``", [.paragraph("a")]),
        ("a\n```py", [.paragraph("a"), .code(CodeBlock(number: 1, language: "py", lines: [], indent: 0))]),
        ("##", []),
        ("## T", [.heading(level: 2, text: "T")]),
        ("```py\nx = 1\n", [.code(CodeBlock(number: 1, language: "py", lines: ["x = 1"], indent: 0))]),
        ("```py\nx = 1\n``", [.code(CodeBlock(number: 1, language: "py", lines: ["x = 1"], indent: 0))]),
        ("```py\nx = 1\n```", [.code(CodeBlock(number: 1, language: "py", lines: ["x = 1"], indent: 0))]),
        ("```py\nx = 1\n``x", [.code(CodeBlock(number: 1, language: "py", lines: ["x = 1", "``x"], indent: 0))]),
        ("> ```\n> a\n> `", [.quote([.code(CodeBlock(number: 1, language: "", lines: ["a"], indent: 0))])]),
    ])
    func anUnfinishedLineWaitsUntilItIsDecided(text: String, blocks: [MarkdownBlock]) {
        #expect(Markdown.parse(text, open: true).blocks == blocks)
    }

    @Test func finishedTextKeepsWhatAnOpenOneHoldsBack() {
        #expect(Markdown.parse("a\n``").blocks == [.paragraph("a\n``")])
        #expect(Markdown.parse("```py\nx = 1\n``").codeBlocks.first?.lines == ["x = 1", "``"])
    }
}
