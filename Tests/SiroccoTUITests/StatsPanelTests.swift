// The stats panel: which items stay when space is short, the KV gauge, and the seed (the last
// answer's, random or fixed, and what the next answer uses).

@testable import SiroccoTUI
import SiroccoEngine
import Testing

struct StatsPanelTests {
    @Test func everyItemShowsWhenThereIsRoom() {
        let pane = PaneState(index: 0, modelName: "m", modelPath: "/m.gguf", templateName: "chatml", threads: 1)
        let items = StatsPanel.items(for: pane)
        #expect(items.count == StatsPanel.itemCount)
        #expect(StatsPanel.fitting(items, capacity: 20) == items)
        // every item, a local pane's (drafting, decoded together) or a server's, has a place in the priority list
        var remote = pane
        remote.host = "10.0.0.5:8080"
        var busy = pane
        busy.stats.draft = DraftStatistics()
        busy.stats.sequencesPerStep = 2
        let labels = Set(StatsPanel.items(for: busy).map(\.label)).union(StatsPanel.items(for: remote).map(\.label))
        #expect(labels == Set(StatsPanel.priority) && labels.count == StatsPanel.priority.count)
    }

    /// The batch row shows only for an answer decoded together with another pane's.
    @Test(arguments: [(nil, nil), (1.0, nil), (1.94, "1.9 per step"), (4.0, "4.0 per step")] as [(Double?, String?)])
    func theBatchRowShowsSequencesAStep(perStep: Double?, shown: String?) {
        var pane = PaneState(index: 0, modelName: "m", modelPath: "/m.gguf", templateName: "chatml", threads: 1)
        pane.stats.sequencesPerStep = perStep
        #expect(StatsPanel.items(for: pane).first { $0.label == "batch" }?.value == shown)
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

    @Test(arguments: [
        // (last answer's seed, was it fixed, the setting now, shown)
        (nil, false, nil, "random"),
        (nil, false, 42, "42"),
        (1234567, false, nil, "1234567 (random)"),
        (42, true, 42, "42"),
        (1234567, false, 1234567, "1234567"),  // the random seed fixed: the next answer reproduces it
        (1234567, false, 42, "42, last 1234567"),
        (42, true, nil, "random, last 42"),
    ] as [(UInt64?, Bool, UInt64?, String)])
    func seedSaysWhichAndHow(answerSeed: UInt64?, fixed: Bool, setting: UInt64?, shown: String) {
        #expect(StatsPanel.seedText(answerSeed: answerSeed, answerSeedFixed: fixed, setting: setting) == shown)
    }

    @Test func theLongestSeedTextFitsTheSidebar() {
        let longest = StatsPanel.seedText(answerSeed: UInt64(UInt32.max - 1), answerSeedFixed: true, setting: nil)
        #expect(TextWidth.of(longest) <= ScreenLayout.sidebarWidth - 3 - StatsPanel.labelWidth, "\(longest)")
    }

    @Test func thePanelShowsTheAnswersSeed() {
        var pane = PaneState(index: 0, modelName: "m", modelPath: "/m", templateName: "model", threads: 1)
        pane.stats.seed = 3_000_000_000
        let items = StatsPanel.items(for: pane)
        #expect(items.first { $0.label == "seed" }?.value == "3000000000 (random)")
        #expect(items.first { $0.label == "repeat" }?.value == "1.00")
        #expect(Set(items.map(\.label)).isSubset(of: StatsPanel.priority))
    }
}
