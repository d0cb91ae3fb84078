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
}

struct StatsPanelTests {
    @Test func everyItemShowsWhenThereIsRoom() {
        let pane = PaneState(index: 0, modelName: "m", modelPath: "/m.gguf", templateName: "chatml", threads: 1)
        let items = StatsPanel.items(for: pane)
        #expect(items.count == StatsPanel.itemCount)
        #expect(StatsPanel.fitting(items, capacity: 20) == items)
        // every item has a place in the priority list
        #expect(Set(items.map(\.label)) == Set(StatsPanel.priority))
    }

    @Test func shortPanelsKeepTheLiveNumbers() {
        var pane = PaneState(index: 0, modelName: "m", modelPath: "/m.gguf", templateName: "chatml", threads: 1)
        pane.streaming = true
        pane.stats.cacheCellsUsed = 10
        pane.stats.cacheCapacity = 100
        let kept = StatsPanel.fitting(StatsPanel.items(for: pane), capacity: 5).map(\.label)
        #expect(kept == ["state", "prompt", "generation", "KV cells", "KV use"])
        let gauge = StatsPanel.items(for: pane).first { $0.label == "KV use" }
        #expect(gauge?.gauge == 0.1 && gauge?.value == "10%")
    }
}
