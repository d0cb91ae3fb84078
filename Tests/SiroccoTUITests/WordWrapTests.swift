// Word wrap and display widths: lines never wider than the pane, CJK and emoji counted as two
// columns, combining marks as none.

import Foundation
@testable import SiroccoTUI
import Testing

/// wcwidth needs a UTF-8 locale (the app sets it from the environment at start).
let utf8Locale: Void = { _ = setlocale(LC_ALL, "C.UTF-8") }()

struct WordWrapTests {
    init() { utf8Locale }

    @Test(arguments: [
        ("a", 1), ("hello", 5), ("日本語", 6), ("한국어", 6), ("👍", 2), ("🎉", 2),
        // as curses counts them: every scalar with a width takes its own cells
        ("👍🏽", 4), ("👨‍👩‍👧", 6),
        ("e\u{301}", 1), ("café", 4), ("", 0), ("ｗｉｄｅ", 8),
    ])
    func displayWidths(text: String, width: Int) {
        #expect(TextWidth.of(text) == width)
    }

    @Test func wrapsAtSpaces() {
        #expect(WordWrap.wrap("the quick brown fox jumps", width: 10) == ["the quick", "brown fox", "jumps"])
        #expect(WordWrap.wrap("the quick brown", width: 15) == ["the quick brown"])
    }

    @Test func keepsNewlinesAndEmptyLines() {
        #expect(WordWrap.wrap("one\n\ntwo", width: 10) == ["one", "", "two"])
        #expect(WordWrap.wrap("", width: 10) == [""])
        #expect(WordWrap.wrap("end\n", width: 10) == ["end", ""])
    }

    @Test func cutsWordsLongerThanALine() {
        #expect(WordWrap.wrap("abcdefghij", width: 4) == ["abcd", "efgh", "ij"])
        #expect(WordWrap.wrap("hi abcdefghij", width: 4) == ["hi", "abcd", "efgh", "ij"])
    }

    @Test func leadingIndentationStaysOnTheFirstLineOnly() {
        #expect(WordWrap.wrap("  a b c d", width: 5) == ["  a b", "c d"])
    }

    @Test func breaksBetweenWideCharacters() {
        // 5 CJK characters = 10 columns; 7 columns fit 3 of them
        #expect(WordWrap.wrap("日本語の文", width: 7) == ["日本語", "の文"])
        #expect(WordWrap.wrap("日本語の文", width: 6) == ["日本語", "の文"])
        // mixed: a wide character never straddles the edge
        #expect(WordWrap.wrap("ab日本", width: 5) == ["ab日", "本"])
    }

    @Test func emojiCountAsTwoColumns() {
        #expect(WordWrap.wrap("👍👍👍", width: 5) == ["👍👍", "👍"])
        #expect(WordWrap.wrap("ok 👍 fine", width: 5) == ["ok 👍", "fine"])
    }

    @Test(arguments: [3, 5, 8, 13, 21, 40])
    func noLineIsWiderThanTheWidth(width: Int) {
        let text = TextWidth.sanitize("Sirocco streams 日本語のテキスト and emoji 🎉🎉👩‍💻 with words like internationalization, e\u{301}te\u{301}.")
        for line in WordWrap.wrap(text, width: width) {
            #expect(TextWidth.of(line) <= width, "\(line)")
        }
        // nothing but the spaces at the breaks is lost
        let joined = WordWrap.wrap(text, width: width).joined().filter { $0 != " " }
        #expect(joined == text.filter { $0 != " " })
    }

    @Test func sanitizeDropsControlCharactersAndExpandsTabs() {
        #expect(TextWidth.sanitize("a\tb\r\nc\u{7}") == "a    b\nc")
        #expect(TextWidth.sanitize("plain") == "plain")
        #expect(TextWidth.sanitize("x\u{9B}y") == "xy")
    }

    @Test func sanitizeSplitsEmojiSequencesIntoStandaloneEmoji() {
        // terminals disagree on the width of joined sequences; standalone emoji are 2 columns everywhere
        #expect(TextWidth.sanitize("👨‍👩‍👧") == "👨👩👧")
        #expect(TextWidth.sanitize("👍🏽 ok") == "👍 ok")
        #expect(TextWidth.sanitize("❤️") == "❤")
        #expect(TextWidth.of(TextWidth.sanitize("👨‍👩‍👧 👍🏽")) == 9)
        #expect(TextWidth.sanitize("e\u{301}") == "e\u{301}")  // combining marks stay
        #expect(TextWidth.sanitize("日本語") == "日本語")
    }

    @Test func truncateAndPadUseDisplayWidth() {
        #expect(TextWidth.truncate("日本語テキスト", width: 7) == "日本語…")
        #expect(TextWidth.truncate("short", width: 7) == "short")
        #expect(TextWidth.pad("日本", width: 6) == "日本  ")
        #expect(TextWidth.prefix("日本語", width: 5) == "日本")
    }

    @Test func inputLineScrollsToKeepTheCursorVisible() {
        let short = InputLine.visibleSlice(text: "hello", cursorByte: 5, width: 20)
        #expect(short.text == "hello" && short.cursorColumn == 5)
        let long = String(repeating: "x", count: 100)
        let slice = InputLine.visibleSlice(text: long, cursorByte: 100, width: 20)
        #expect(slice.cursorColumn < 20 && slice.cursorColumn > 0)
        #expect(TextWidth.of(slice.text) <= 20)
        let wide = InputLine.visibleSlice(text: "日本語", cursorByte: 6, width: 20)  // after 2 characters
        #expect(wide.cursorColumn == 4)
    }

    @Test func pastedLineBreaksShowAsOneColumnMarks() {
        let pasted = InputLine.visibleSlice(text: "one\ntwo\nthree", cursorByte: 8, width: 40)  // after "two\n"
        #expect(pasted.text == "one↵two↵three" && pasted.cursorColumn == 8)
        let ascii = InputLine.visibleSlice(text: "one\ntwo", cursorByte: 7, width: 40, newline: "|")
        #expect(ascii.text == "one|two" && ascii.cursorColumn == 7)
    }
}
