// Layout: terminal sizes turned into rectangles that tile the screen without overlap.

@testable import SiroccoTUI
import Testing

struct LayoutTests {
    @Test func singlePaneOnAWideTerminalHasAStatsSidebar() {
        let layout = ScreenLayout(width: 140, height: 40, paneCount: 1)
        #expect(!layout.tooSmall)
        #expect(layout.title == Rect(x: 0, y: 0, width: 140, height: 1))
        #expect(layout.status == Rect(x: 0, y: 38, width: 140, height: 1))
        #expect(layout.input == Rect(x: 0, y: 39, width: 140, height: 1))
        let pane = try! #require(layout.panes.first)
        let stats = try! #require(pane.statsFrame)
        #expect(pane.frame == Rect(x: 0, y: 1, width: 140 - ScreenLayout.sidebarWidth, height: 37))
        #expect(stats == Rect(x: 140 - ScreenLayout.sidebarWidth, y: 1, width: ScreenLayout.sidebarWidth, height: 37))
        #expect(pane.conversation == pane.frame.inset)
        #expect(pane.stats == stats.inset)
        #expect(pane.separatorY == nil)
    }

    @Test func singlePaneOnANarrowTerminalStacksTheStats() {
        let layout = ScreenLayout(width: 80, height: 24, paneCount: 1)
        let pane = try! #require(layout.panes.first)
        #expect(pane.statsFrame == nil)
        #expect(pane.frame == Rect(x: 0, y: 1, width: 80, height: 21))
        let separator = try! #require(pane.separatorY)
        #expect(pane.conversation.maxY == separator)
        #expect(pane.stats.y == separator + 1)
        #expect(pane.stats.maxY == pane.frame.maxY - 1)
        #expect(pane.statsColumns == 2)
        #expect(pane.stats.height == ScreenLayout.statsRows(columns: 2))
    }

    @Test(arguments: [(140, 40, 2), (140, 40, 3), (101, 30, 2), (97, 25, 4), (80, 24, 3), (40, 12, 1)])
    func panesTileTheWidthWithoutOverlap(width: Int, height: Int, panes: Int) {
        let layout = ScreenLayout(width: width, height: height, paneCount: panes)
        #expect(!layout.tooSmall)
        #expect(layout.panes.count == panes)
        var x = 0
        for pane in layout.panes {
            #expect(pane.frame.x == x)
            #expect(pane.frame.y == 1 && pane.frame.maxY == height - 2)
            #expect(pane.conversation.height >= 1)
            #expect(pane.stats.maxY <= pane.frame.maxY - 1)
            #expect(pane.conversation.x > pane.frame.x && pane.conversation.maxX < pane.frame.maxX)
            x = pane.frame.maxX
        }
        #expect(x == width)
        let widths = layout.panes.map(\.frame.width)
        #expect(widths.max()! - widths.min()! <= 1)
    }

    @Test(arguments: [(39, 40, 1), (140, 11, 1), (60, 20, 3), (10, 5, 1)])
    func tooSmallTerminals(width: Int, height: Int, panes: Int) {
        let layout = ScreenLayout(width: width, height: height, paneCount: panes)
        #expect(layout.tooSmall)
        #expect(layout.panes.isEmpty)
    }

    @Test func smallTerminalShrinksStatsButKeepsConversation() {
        let layout = ScreenLayout(width: 40, height: 12, paneCount: 1)
        let pane = try! #require(layout.panes.first)
        #expect(pane.conversation.height >= 2)
        #expect(pane.stats.height >= 1)
        #expect(pane.conversation.height + 1 + pane.stats.height == pane.frame.inset.height)
    }

    @Test func aMultiLineMessageTakesRowsFromThePanes() {
        let one = ScreenLayout(width: 80, height: 24, paneCount: 1)
        let four = ScreenLayout(width: 80, height: 24, paneCount: 1, inputRows: 4)
        #expect(four.input == Rect(x: 0, y: 20, width: 80, height: 4))
        #expect(four.status == Rect(x: 0, y: 19, width: 80, height: 1))
        #expect(four.panes[0].frame.maxY == four.status.y)
        #expect(four.panes[0].frame.height == one.panes[0].frame.height - 3)
        // capped: the panes keep room on a short terminal
        let many = ScreenLayout(width: 80, height: 24, paneCount: 1, inputRows: 50)
        #expect(many.input.height == ScreenLayout.maximumInputRows(height: 24) && many.input.height == 7)
        #expect(ScreenLayout(width: 40, height: 12, paneCount: 1, inputRows: 5).input.height == 1)
        #expect(!many.tooSmall && many.panes[0].conversation.height >= 3)
    }
}
