// ThreadWidthController: how many of the pool's threads a generated token should run on.
// On a machine shared with other busy programs, threads that wait for each other at every step of
// the forward pass fall far behind fewer threads that actually run (Qwen2.5-0.5B on 2 cores with one
// `yes` running: 2 threads ~14 tok/s, 1 thread ~60). The controller measures instead of guessing:
// it keeps the recent token times of the width in use, tries a narrower width when the caller spent
// much of a token waiting for workers (a worker that is not running), tries a wider one now and then
// (less often after each try that lost), and moves to whichever was clearly faster. It is fed
// numbers and reads no clock, so its decisions can be tested with synthetic measurements; it never
// touches threads.

/// Chooses the width of the next generated token from the measured times of the previous ones.
struct ThreadWidthController {
    struct Tuning {
        /// Tokens one trial of another width runs (their mean is compared).
        var trialTokens = 2
        /// Recent tokens of the width in use whose median a trial is compared with: one token
        /// slowed by a preemption must not make a slower width look faster.
        var window = 5
        /// Share of a token the caller spent waiting for workers that suggests a narrower width;
        /// a trial of a wider width is abandoned once its waiting reaches this share of the width
        /// in use's token time.
        var waitShare = 0.3
        /// How much faster a tried width must be to be adopted: a narrower one (on a quiet
        /// machine a wrong move costs a third of the speed until the next wider trial) by 20%, a
        /// wider one (a wrong move is undone within a few tokens by the waiting) by 10%.
        var narrowerMargin = 0.2
        var widerMargin = 0.1
        /// Weight of the newest token in the smoothed waiting share.
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
    /// The settled width's latest token times (at most `window`, oldest first).
    private var recent: [Double] = []
    /// Seconds per token each other width took when last measured, index = width.
    private var known: [Double?]
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
        known = Array(repeating: nil, count: self.maxWidth + 1)
        upGap = tuning.widerGap
        downGap = tuning.narrowerGap
    }

    /// The settled width's typical token time: the median of the recent ones.
    private var typical: Double? {
        if recent.isEmpty { return nil }
        let s = recent.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// While a wider width is on trial: the seconds of waiting for workers after which the token
    /// should go back to `settled` threads and the trial counts as lost.
    var waitBudget: Double? {
        guard let t = trial, t.width > settled, let current = typical else { return nil }
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
        if recent.count == tuning.window { recent.removeFirst() }
        recent.append(seconds)
        let share = min(1, waited / seconds)
        waiting = waiting.map { $0 + tuning.smoothing * (share - $0) } ?? share
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
        guard let other = known[w], let current = typical else { return false }
        return other < current
    }

    private mutating func startTrial(_ w: Int) {
        trial = (w, tuning.trialTokens, 0)
        width = w
    }

    private mutating func decide(_ w: Int, mean: Double) {
        known[w] = mean
        let wider = w > settled
        let margin = wider ? tuning.widerMargin : tuning.narrowerMargin
        if let current = typical, mean <= (1 - margin) * current {
            known[settled] = current
            settled = w
            recent = [mean]
            waiting = nil
            upGap = tuning.widerGap
            downGap = tuning.narrowerGap
            end()
        } else {
            lose(wider: wider)
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
