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

    @Test(arguments: [(80, 24, 4), (70, 24, 3), (60, 30, 4), (48, 23, 3)])
    func threeOrFourPanesTooNarrowForColumnsMakeAGrid(width: Int, height: Int, panes: Int) {
        let layout = ScreenLayout(width: width, height: height, paneCount: panes)
        #expect(!layout.tooSmall && layout.panes.count == panes)
        let top = layout.panes.prefix(2), bottom = layout.panes.dropFirst(2)
        #expect(top.map(\.frame.y) == [1, 1] && top[0].frame.x == 0 && top[1].frame.x == top[0].frame.maxX)
        #expect(top[1].frame.maxX == width)
        #expect(bottom.allSatisfy { $0.frame.y == top[0].frame.maxY && $0.frame.maxY == height - 2 })
        // a lone pane in the last row takes the whole width
        #expect(bottom.last!.frame.maxX == width && (panes == 4 || bottom.first!.frame.width == width))
        for pane in layout.panes {
            #expect(pane.frame.width >= ScreenLayout.minimumPaneWidth && pane.conversation.height >= 2)
            #expect(pane.stats.maxY <= pane.frame.maxY - 1)
        }
    }

    @Test func fourPanesSideBySideWhenWideEnough() {
        let layout = ScreenLayout(width: 200, height: 50, paneCount: 4)
        #expect(layout.panes.map(\.frame.width) == [50, 50, 50, 50] && layout.panes.allSatisfy { $0.frame.y == 1 })
        let grid = ScreenLayout.arrangement(paneCount: 4, width: 95, height: 30)
        #expect(grid?.columns == 2 && grid?.rows == 2)
        let row = ScreenLayout.arrangement(paneCount: 4, width: 96, height: 12)
        #expect(row?.columns == 4 && row?.rows == 1)
        #expect(ScreenLayout.arrangement(paneCount: 4, width: 95, height: 22) == nil)
        #expect(ScreenLayout.arrangement(paneCount: 2, width: 47, height: 40) == nil)
    }

    @Test func theComparisonLineTakesARowAboveTheStatusLine() {
        let plain = ScreenLayout(width: 120, height: 30, paneCount: 2)
        let compared = ScreenLayout(width: 120, height: 30, paneCount: 2, comparisonRow: true)
        #expect(plain.comparison == nil)
        #expect(compared.comparison == Rect(x: 0, y: compared.status.y - 1, width: 120, height: 1))
        #expect(compared.panes.allSatisfy { $0.frame.maxY == compared.status.y - 1 })
        #expect(compared.panes[0].frame.height == plain.panes[0].frame.height - 1)
    }
}
