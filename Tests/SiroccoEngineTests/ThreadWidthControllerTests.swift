// ThreadWidthController fed synthetic token times: which width it settles on, how often it tries
// the others, and how fast it follows a machine that becomes busy or quiet again. No clock.

import Testing
@testable import SiroccoEngine

/// One token's measurements at a given width: wall seconds and the caller's waiting seconds.
typealias TokenCost = (seconds: Double, waited: Double)

/// Runs `tokens` tokens through `controller`, each costing `cost(width, token)`; returns the widths used.
func simulate(_ controller: inout ThreadWidthController, tokens: Int, from first: Int = 0,
              _ cost: (Int, Int) -> TokenCost) -> [Int] {
    var widths: [Int] = []
    for token in first..<first + tokens {
        let w = controller.width
        widths.append(w)
        let c = cost(w, token)
        controller.record(seconds: c.seconds, waited: c.waited)
    }
    return widths
}

/// Token costs on the 2-core machine (Qwen2.5-0.5B): quiet, 2 threads 11 ms with a little
/// waiting, 1 thread 16 ms; with one busy process, 2 threads 70 ms spent mostly waiting, 1 thread 16 ms.
func quiet(_ w: Int, _: Int) -> TokenCost { w == 2 ? (0.011, 0.001) : (0.016, 0) }
func busy(_ w: Int, _: Int) -> TokenCost { w == 2 ? (0.070, 0.055) : (0.016, 0) }

struct ThreadWidthControllerTests {
    @Test func quietMachineNeverLeavesTheFullWidth() {
        var c = ThreadWidthController(maxWidth: 2)
        let widths = simulate(&c, tokens: 5000, quiet)
        #expect(widths.allSatisfy { $0 == 2 })
    }

    @Test func busyMachineSettlesOnOneThreadAfterATrial() {
        var c = ThreadWidthController(maxWidth: 2)
        let widths = simulate(&c, tokens: 5000, busy)
        // the first token shows the waiting; the trial of a single thread that follows wins
        let firstNarrow = widths.firstIndex(of: 1)!
        #expect(firstNarrow == 1)
        #expect(c.settled == 1)
        // afterwards two threads are tried again less and less often: one trial (two tokens) per
        // gap, the gaps doubling from 16 up to 512 tokens
        let laterWide = widths[(firstNarrow + c.tuning.trialTokens)...].filter { $0 == 2 }.count
        #expect(laterWide <= 2 * 16)
        let lastThousandWide = widths.suffix(1000).filter { $0 == 2 }.count
        #expect(lastThousandWide <= 2 * 2)
    }

    @Test func returnsToTheFullWidthWhenTheMachineQuietsDown() {
        var c = ThreadWidthController(maxWidth: 2)
        _ = simulate(&c, tokens: 5000, busy)
        #expect(c.settled == 1)
        // the longest gap between trials bounds how long it stays narrow
        let widths = simulate(&c, tokens: 2000, from: 5000, quiet)
        let back = widths.firstIndex(of: 2)!
        #expect(back <= c.tuning.longestGap + 1)
        #expect(c.settled == 2)
        #expect(widths[(back + c.tuning.trialTokens)...].allSatisfy { $0 == 2 })
    }

    @Test func aPauseStartsTheWiderTrialsAgain() {
        var c = ThreadWidthController(maxWidth: 2)
        _ = simulate(&c, tokens: 5000, busy)  // the gap between trials of two threads is 512 tokens by now
        c.resume()
        let widths = simulate(&c, tokens: 100, from: 5000, quiet)
        #expect(widths.firstIndex(of: 2)! <= c.tuning.widerGap)
        #expect(c.settled == 2)
    }

    @Test func narrowsSoonAfterTheMachineBecomesBusy() {
        var c = ThreadWidthController(maxWidth: 2)
        _ = simulate(&c, tokens: 3000, quiet)
        let widths = simulate(&c, tokens: 8, from: 3000, busy)
        // the smoothed waiting share crosses the threshold after two tokens; the first trial loses
        // against the median of tokens mostly from the quiet minute, the next one wins
        #expect(widths.firstIndex(of: 1)! <= 3)
        #expect(c.settled == 1)
    }

    @Test func waitingAloneDoesNotNarrowWhenOneThreadIsSlower() {
        // much waiting at two threads (say, an unbalanced split), but one thread is slower still:
        // trials of one thread lose and become rarer, and the width stays 2
        var c = ThreadWidthController(maxWidth: 2)
        let widths = simulate(&c, tokens: 5000) { w, _ in w == 2 ? (0.011, 0.006) : (0.016, 0) }
        #expect(c.settled == 2)
        let narrow = widths.filter { $0 == 1 }.count
        #expect(narrow > 0)
        #expect(narrow <= 2 * 20)  // one two-token trial per gap, gaps 1, 2, 4, … 512
    }

    @Test func aTrialMustWinByTheMargin() {
        // one thread 15% faster than two: not enough to move from the full width
        var c = ThreadWidthController(maxWidth: 2)
        _ = simulate(&c, tokens: 2000) { w, _ in w == 2 ? (0.0100, 0.004) : (0.0085, 0) }
        #expect(c.settled == 2)
    }

    /// SmolLM2 on a quiet minute (3.4 ms per token on two threads, 5.2 on one) with a burst of
    /// preemptions: two tokens spent waiting for a worker, then one where the caller itself lost
    /// its core. The median of the recent tokens ignores them; the trials they start lose.
    @Test func aFewSlowTokensDoNotMakeOneThreadLookFaster() {
        var c = ThreadWidthController(maxWidth: 2)
        let slow: [Int: TokenCost] = [300: (0.0196, 0.0156), 301: (0.0387, 0.0352), 310: (0.0144, 0.0011)]
        let widths = simulate(&c, tokens: 1000) { w, token in
            w == 2 ? slow[token] ?? (0.0034, 0.0001) : (0.0052, 0)
        }
        #expect(c.settled == 2)
        #expect(widths.filter { $0 == 1 }.count <= 4)
    }

    @Test func aWaitingPromptBatchMakesTheNextTokenTryFewerThreads() {
        var c = ThreadWidthController(maxWidth: 2)
        _ = simulate(&c, tokens: 3, quiet)
        c.recordBatch(seconds: 1.0, waited: 0.2)  // below the waiting share: nothing changes
        #expect(simulate(&c, tokens: 2, from: 3, quiet) == [2, 2])
        c.recordBatch(seconds: 1.0, waited: 0.9)
        // one token still runs wide (the trial needs its time), then one thread is tried
        #expect(simulate(&c, tokens: 2, from: 5, quiet) == [2, 1])
    }

    /// Four cores, one taken by another program: three threads are best.
    @Test(arguments: [4, 3, 1])
    func climbsToTheBestWidthFromAnywhere(start: Int) {
        var c = ThreadWidthController(maxWidth: 4)
        let times = [0, 0.020, 0.012, 0.009, 0.040]
        let waits = [0, 0, 0.002, 0.001, 0.030]
        // reach the starting width: a machine where it is the fastest and wider ones wait
        _ = simulate(&c, tokens: 3000) { w, _ in
            let t = 0.005 * Double(1 + abs(w - start))
            return (t, w > start ? 0.8 * t : 0)
        }
        #expect(c.settled == start)
        _ = simulate(&c, tokens: 3000, from: 3000) { w, _ in (times[w], waits[w]) }
        #expect(c.settled == 3)
    }

    @Test func oneThreadHasNothingToChoose() {
        var c = ThreadWidthController(maxWidth: 1)
        #expect(simulate(&c, tokens: 100, busy).allSatisfy { $0 == 1 })
    }
}
