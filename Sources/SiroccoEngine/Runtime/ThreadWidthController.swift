// ThreadWidthController: how many of the pool's threads a generated token should run on.
// On a machine shared with other busy programs, threads that wait for each other at every step of
// the forward pass fall far behind fewer threads that actually run (Qwen2.5-0.5B on 2 cores with one
// `yes` running: 2 threads ~14 tok/s, 1 thread ~60). The controller measures instead of guessing:
// it keeps a smoothed token time per width, tries a narrower width when the caller spent much of a
// token waiting for workers (a worker that is not running), tries a wider one now and then (less
// often after each try that lost), and moves to whichever was faster. It is fed numbers and reads
// no clock, so its decisions can be tested with synthetic measurements; it never touches threads.

/// Chooses the width of the next generated token from the measured times of the previous ones.
struct ThreadWidthController {
    struct Tuning {
        /// Tokens one trial of another width runs (their mean is compared).
        var trialTokens = 2
        /// Share of a token the caller spent waiting for workers that suggests a narrower width;
        /// a trial of a wider width is abandoned once its waiting reaches this share of the
        /// settled width's token time.
        var waitShare = 0.3
        /// A tried width is adopted when its tokens take at most (1 − margin) of the current width's.
        var margin = 0.1
        /// Weight of the newest token in the smoothed token time and waiting share.
        var smoothing = 0.25
        /// Tokens between trials: a narrower width is tried as soon as the waiting suggests it, a
        /// wider one after `widerGap` tokens; each lost trial doubles the gap in its direction up
        /// to `longestGap`, a won one starts both again.
        var narrowerGap = 1
        var widerGap = 16
        var longestGap = 512
    }

    let maxWidth: Int
    let tuning: Tuning
    /// The width the next token runs on: the settled one, or the one on trial.
    private(set) var width: Int
    /// The width that won the last comparison (what prompt batches use).
    private(set) var settled: Int
    /// Smoothed seconds per token at each width, index = width; nil until measured.
    private var tokenTime: [Double?]
    /// Smoothed share of a token the caller spent waiting, at the settled width.
    private var waiting: Double?
    private var trial: (width: Int, left: Int, total: Double)?
    private var sinceTrial = 0
    private var upGap: Int, downGap: Int

    init(maxWidth: Int, tuning: Tuning = Tuning()) {
        self.maxWidth = max(1, maxWidth)
        self.tuning = tuning
        width = self.maxWidth
        settled = self.maxWidth
        tokenTime = Array(repeating: nil, count: self.maxWidth + 1)
        upGap = tuning.widerGap
        downGap = tuning.narrowerGap
    }

    /// While a wider width is on trial: the seconds of waiting for workers after which the token
    /// should go back to `settled` threads and the trial counts as lost.
    var waitBudget: Double? {
        guard let t = trial, t.width > settled, let current = tokenTime[settled] else { return nil }
        return tuning.waitShare * current
    }

    /// Takes the measurements of one token run at `width`: its wall time and the time the caller
    /// waited for workers in it (`abandoned`: the wait budget ran out and the token finished on
    /// `settled` threads); sets `width` for the next one.
    mutating func record(seconds: Double, waited: Double, abandoned: Bool = false) {
        guard seconds > 0 else { return }
        if let t = trial {
            if abandoned {
                lose(wider: true)
            } else if t.left > 1 {
                trial = (t.width, t.left - 1, t.total + seconds)
            } else {
                decide(t.width, mean: (t.total + seconds) / Double(tuning.trialTokens))
            }
            return
        }
        let s = tuning.smoothing
        let share = min(1, waited / seconds)
        tokenTime[settled] = tokenTime[settled].map { $0 + s * (seconds - $0) } ?? seconds
        waiting = waiting.map { $0 + s * (share - $0) } ?? share
        sinceTrial += 1
        if settled > 1 && sinceTrial >= downGap && (waiting! >= tuning.waitShare || fasterKnown(settled - 1)) {
            startTrial(settled - 1)
        } else if settled < maxWidth && sinceTrial >= upGap {
            startTrial(settled + 1)
        }
    }

    /// After a pause between calls (a chat waiting for its user) the machine may have changed:
    /// trials start again from the shortest gaps.
    mutating func resume() {
        upGap = tuning.widerGap
        downGap = tuning.narrowerGap
    }

    /// Takes the waiting of a prompt batch (run at `settled`): much waiting there counts as
    /// waiting of the generated tokens, so the first of them measured at this width starts a
    /// trial of a narrower one.
    mutating func recordBatch(seconds: Double, waited: Double) {
        guard seconds > 0, trial == nil, settled > 1 else { return }
        let share = min(1, waited / seconds)
        if share >= tuning.waitShare { waiting = max(waiting ?? 0, share) }
    }

    /// Whether a width measured earlier was faster than the current one is now.
    private func fasterKnown(_ w: Int) -> Bool {
        guard let other = tokenTime[w], let current = tokenTime[settled] else { return false }
        return other < current
    }

    private mutating func startTrial(_ w: Int) {
        trial = (w, tuning.trialTokens, 0)
        width = w
    }

    private mutating func decide(_ w: Int, mean: Double) {
        tokenTime[w] = mean
        if let current = tokenTime[settled], mean <= (1 - tuning.margin) * current {
            settled = w
            upGap = tuning.widerGap
            downGap = tuning.narrowerGap
            waiting = nil
            end()
        } else {
            lose(wider: w > settled)
        }
    }

    private mutating func lose(wider: Bool) {
        if wider {
            upGap = min(2 * upGap, tuning.longestGap)
        } else {
            downGap = min(2 * downGap, tuning.longestGap)
        }
        end()
    }

    private mutating func end() {
        trial = nil
        sinceTrial = 0
        width = settled
    }
}
