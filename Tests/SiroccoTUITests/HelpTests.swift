// The help box: summaries wrapped to the box's width, and a box too short for all of it says how
// much is hidden instead of cutting it off silently.

import Testing
@testable import SiroccoTUI

@Suite struct HelpTests {
    @Test(arguments: [76, 98, 40])
    func summariesAreWrappedToTheColumn(width: Int) {
        let rows = Screen.helpRows(width: width, height: .max)
        for (_, summary) in rows { #expect(TextWidth.of(summary) <= max(10, width - 27 - 2), "\(summary)") }
        // nothing is lost (a word wider than a narrow column is split, so compare without spaces)
        let all = Screen.helpLines().map(\.1).joined().filter { !$0.isWhitespace }
        #expect(rows.map(\.1).joined().filter { !$0.isWhitespace } == all)
    }

    @Test func aShortBoxSaysHowMuchIsHidden() {
        let total = Screen.helpRows(width: 76, height: .max).count
        let rows = Screen.helpRows(width: 76, height: 10)
        #expect(rows.count == 10)
        #expect(rows.last?.1 == "… \(total - 9) more lines: a taller terminal shows them")
    }
}
