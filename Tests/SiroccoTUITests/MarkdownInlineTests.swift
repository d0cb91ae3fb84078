// Inline markdown: emphasis by CommonMark's rules, code spans, links, escapes; unclosed markers
// literal in finished text and styling what follows them while the text is being written.

@testable import SiroccoTUI
import Testing

struct MarkdownInlineTests {
    /// Runs as `<b i c l u:text>` (the letters of the styles present), plain text bare.
    static func notation(_ runs: [InlineRun]) -> String {
        let letters: [(InlineStyle, String)] = [(.bold, "b"), (.italic, "i"), (.code, "c"), (.link, "l"), (.url, "u")]
        return runs.map { run in
            let tag = letters.filter { run.style.contains($0.0) }.map(\.1).joined(separator: " ")
            return tag.isEmpty ? run.text : "<\(tag):\(run.text)>"
        }.joined()
    }

    @Test(arguments: [
        ("plain text", "plain text"),
        ("some **bold** text", "some <b:bold> text"),
        ("some __bold__ text", "some <b:bold> text"),
        ("an *italic* and _italic_", "an <i:italic> and <i:italic>"),
        ("***both***", "<b i:both>"),
        // nested
        ("*a **b** c*", "<i:a ><b i:b><i: c>"),
        ("**a *b* c**", "<b:a ><b i:b><b: c>"),
        // not emphasis: spaces around, inside words for _, a lone marker
        ("2 * 3 * 4", "2 * 3 * 4"),
        ("snake_case_name", "snake_case_name"),
        ("a * b", "a * b"),
        ("x**2**y", "x<b:2>y"),
        // unterminated: left as written
        ("a **b", "a **b"),
        ("a *b", "a *b"),
        // (CommonMark pairs the closer with the nearer opener: *<em>a <em>b</em></em>)
        ("**a *b**", "*<i:a b>"),
        ("a `b", "a `b"),
        ("[text](no end", "[text](no end"),
        // code spans: content as is, no emphasis inside, one space trimmed from each side
        ("use `ls -l` now", "use <c:ls -l> now"),
        ("`*not*`", "<c:*not*>"),
        ("``a ` b``", "<c:a ` b>"),
        ("` a `", "<c:a>"),
        // links and autolinks
        ("see [Swift](https://swift.org).", "see <l:Swift><u: (https://swift.org)>."),
        ("[**bold** link](u)", "<b l:bold><l: link><u: (u)>"),
        ("[https://a.b](https://a.b)", "<u:https://a.b>"),
        ("[t](u \"title\")", "<l:t><u: (u)>"),
        ("<https://x.org/a>", "<u:https://x.org/a>"),
        ("a <b> c", "a <b> c"),
        // escapes
        ("\\*not\\* \\_x\\_", "*not* _x_"),
        ("a\\b", "a\\b"),
    ])
    func finishedText(markdown: String, expected: String) {
        #expect(MarkdownInlineTests.notation(MarkdownInline.parse(markdown)) == expected)
    }

    @Test(arguments: [
        // an unclosed opener styles what follows it, as the closer will
        ("a **b", "a <b:b>"),
        ("a *b c", "a <i:b c>"),
        ("a `b c", "a <c:b c>"),
        ("a **b *c", "a <b:b ><b i:c>"),
        // markers at the very end wait for the next character
        ("a **", "a "),
        ("a `", "a "),
        ("a \\", "a "),
        ("**done**", "<b:done>"),
        // inside a word a marker may be a product: no guess
        ("2*3", "2*3"),
        // a link whose address is being written
        ("[docs](https://exa", "<l:docs><u: (https://exa>"),
        ("[docs](a b", "[docs](a b"),
    ])
    func openText(markdown: String, expected: String) {
        #expect(MarkdownInlineTests.notation(MarkdownInline.parse(markdown, open: true)) == expected)
    }

    @Test func everyPrefixOfAnEmphasisKeepsTheTextShownSoFar() {
        // while "**bold** end" streams in, the characters shown only grow (no marker appears and vanishes)
        let text = "see **bold** and `code` end"
        var previous = ""
        for end in text.indices.dropFirst() + [text.endIndex] {
            let shown = MarkdownInline.parse(String(text[..<end]), open: true).map(\.text).joined()
            #expect(shown.hasPrefix(previous), "'\(previous)' then '\(shown)'")
            previous = shown
        }
        #expect(previous == "see bold and code end")
    }
}
