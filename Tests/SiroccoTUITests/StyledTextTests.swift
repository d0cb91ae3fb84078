// Styled text: wrapping keeps each character's style, lines split at newlines, code cut by columns.

@testable import SiroccoTUI
import Testing

struct StyledTextTests {
    init() { utf8Locale }

    @Test func wrappingKeepsEachPiecesStyle() {
        let spans = [StyledSpan(text: "plain ", role: .assistant), StyledSpan(text: "bold words", role: .user, attributes: .bold),
                     StyledSpan(text: " end", role: .assistant)]
        let lines = StyledText.wrap(spans, width: 11)
        #expect(lines.map { $0.map(\.text).joined() } == WordWrap.wrap("plain bold words end", width: 11))
        #expect(lines == [
            [StyledSpan(text: "plain ", role: .assistant), StyledSpan(text: "bold", role: .user, attributes: .bold)],
            [StyledSpan(text: "words", role: .user, attributes: .bold), StyledSpan(text: " end", role: .assistant)],
        ])
    }

    @Test func newlinesSplitSpans() {
        let lines = StyledText.lines([StyledSpan(text: "a\nb", role: .notice), StyledSpan(text: "c\n", role: .error)])
        #expect(lines == [[StyledSpan(text: "a", role: .notice)],
                          [StyledSpan(text: "b", role: .notice), StyledSpan(text: "c", role: .error)], []])
    }

    @Test func codeIsCutByColumnsNotWords() {
        #expect(StyledText.cut("let x = 1", width: 4) == ["let ", "x = ", "1"])
        #expect(StyledText.cut("日本語", width: 3) == ["日", "本", "語"])
        #expect(StyledText.cut("", width: 4) == [""])
    }

    @Test func glyphsHaveASCIIStandIns() {
        #expect(StyledSpan(text: "• a │ b ─┼─ ↪▍", role: .text).ascii.text == "* a | b -+- >_")
    }
}
