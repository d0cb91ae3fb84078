// StatsPanel: a pane's live numbers — model, template, prompt and generation speed, tokens in
// the answer, time to first token, KV cache occupancy with a gauge, the sampling settings and the
// seed (the last answer's, random or fixed, so an answer can be reproduced with /set seed N).
// A server's pane shows what the server reports (tokens, speeds, first token); its KV cache is
// the server's, one row saying so. The items are computed purely from the pane state; drawing
// lays them out in columns.

import SiroccoEngine

enum StatsPanel {
    /// One labelled value, or the cache gauge.
    struct Item: Equatable {
        var label: String
        var value: String
        /// The KV gauge's filled fraction, for the gauge item.
        var gauge: Double? = nil
    }

    static let labelWidth = 12
    static var itemCount: Int { items(for: PaneState(index: 0, modelName: "", modelPath: "", templateName: "", threads: 1)).count }

    static func items(for pane: PaneState) -> [Item] {
        let s = pane.stats
        let settings = pane.settings
        let state: String
        if pane.streaming {
            state = pane.waitingForFirstToken ? (pane.isRemote ? "waiting for the server…" : "reading prompt…") : "answering…"
        } else if let stop = pane.lastStop {
            switch stop {
            case .endOfGeneration: state = "idle (answer complete)"
            case .stopString: state = "idle (stop string)"
            case .maxTokens: state = "idle (token limit)"
            case .contextFull: state = "idle (context full)"
            case .cancelled: state = "idle (stopped)"
            }
        } else {
            state = "idle"
        }
        // a server may not say how long it read the prompt (then its size alone), or not even its
        // size (llama_cpp.server sends no usage): then nothing
        let promptSpeed = pane.isRemote && s.promptSeconds == 0 ? "" : "\(Format.oneDecimal(s.promptTokensPerSecond)) tok/s · "
        let prompt = pane.isRemote && s.promptTokens == 0 ? "–" : "\(promptSpeed)\(s.promptTokens) tok"
        return [
            Item(label: "model", value: pane.title),
            Item(label: "template", value: pane.templateName),
            Item(label: "state", value: state),
            Item(label: "prompt", value: prompt),
            Item(label: "generation", value: "\(Format.oneDecimal(s.generationTokensPerSecond)) tok/s"),
            Item(label: "answer", value: "\(s.generatedTokens) tokens" + (s.reasoningTokens > 0 ? " (\(s.reasoningTokens) thinking)" : "")),
            Item(label: "first token", value: s.timeToFirstToken > 0 ? "\(Int((s.timeToFirstToken * 1000).rounded())) ms" : "–"),
        ] + draftItems(s) + batchItems(s) + (pane.isRemote ? [Item(label: "KV cache", value: "remote")] : cacheItems(s)) + [
            Item(label: "temp", value: "\(Format.decimal(settings.temperature))   top-p \(Format.decimal(settings.topP))"),
            Item(label: "top-k", value: "\(settings.topK)   min-p \(Format.decimal(settings.minP))"),
            Item(label: "repeat", value: Format.decimal(settings.repeatPenalty)),
            Item(label: "seed", value: seedText(answerSeed: s.seed, answerSeedFixed: pane.answerSeedFixed, setting: settings.seed)),
        ]
    }

    /// Speculative decoding: the share of drafted tokens kept, and whether drafting switched off
    /// (the generation row's tok/s is then the effective speed).
    private static func draftItems(_ s: GenerationStats) -> [Item] {
        guard let d = s.draft else { return [] }
        let kept = d.drafted > 0 ? "\(Int((d.acceptanceRate * 100).rounded()))% of \(d.drafted) kept" : "–"
        return [Item(label: "draft", value: d.switchedOff ? "off · \(kept)" : kept)]
    }

    /// Panes of one model decoded together: the sequences a forward call of the answer served
    /// (shown once there was more than one).
    private static func batchItems(_ s: GenerationStats) -> [Item] {
        guard let perStep = s.sequencesPerStep, perStep > 1 else { return [] }
        return [Item(label: "batch", value: "\(Format.oneDecimal(perStep)) per step")]
    }

    /// The local KV cache's cells, memory and gauge.
    private static func cacheItems(_ s: GenerationStats) -> [Item] {
        let fraction = s.cacheCapacity > 0 ? Double(s.cacheCellsUsed) / Double(s.cacheCapacity) : 0
        return [
            Item(label: "KV cells", value: "\(s.cacheCellsUsed) / \(s.cacheCapacity)"),
            Item(label: "KV memory", value: "\(Format.mebibytes(s.cacheBytesUsed)) / \(Format.mebibytes(s.cacheBytesCapacity)) MiB"),
            Item(label: "KV use", value: "\(Int((fraction * 100).rounded()))%", gauge: fraction),
        ]
    }

    /// The seed of the last (or current) answer and whether it was random — "1234567 (random)",
    /// "42" — and, when the setting has changed since, what the next answer uses: "42, last
    /// 1234567" after /set seed 42, "random, last 42" after /set seed random (short enough for
    /// the sidebar with a 10-digit seed).
    static func seedText(answerSeed: UInt64?, answerSeedFixed: Bool, setting: UInt64?) -> String {
        guard let answerSeed else { return setting.map { "\($0)" } ?? "random" }
        switch (setting, answerSeedFixed) {
        case (nil, false): return "\(answerSeed) (random)"
        case (nil, true): return "random, last \(answerSeed)"
        case let (fixed?, _): return fixed == answerSeed ? "\(fixed)" : "\(fixed), last \(answerSeed)"
        }
    }

    /// Which items stay when not all fit, most wanted first (the model is also in the pane title).
    static let priority = ["state", "generation", "prompt", "KV cells", "KV cache", "KV use", "temp", "top-k", "answer",
                           "draft", "batch", "seed", "first token", "KV memory", "repeat", "template", "model"]

    /// The items that fit in `capacity` slots, in their usual order.
    static func fitting(_ items: [Item], capacity: Int) -> [Item] {
        guard items.count > capacity else { return items }
        let labels = Set(items.map(\.label))
        let kept = Set(priority.filter(labels.contains).prefix(max(0, capacity)))
        return items.filter { kept.contains($0.label) }
    }

    /// Paints the items in `columns` columns (filled top to bottom); when they do not all fit,
    /// the most useful ones.
    static func draw(_ pane: PaneState, in rect: Rect, columns: Int, canvas: Canvas) {
        guard rect.width > 2, rect.height > 0 else { return }
        let columns = max(1, columns)
        let all = fitting(items(for: pane), capacity: rect.height * columns)
        let rowsNeeded = (all.count + columns - 1) / columns
        let rows = min(rect.height, rowsNeeded)
        let columnWidth = (rect.width - 1) / columns
        for (i, item) in all.enumerated() {
            let column = i / rowsNeeded
            let row = i % rowsNeeded
            guard row < rows else { continue }
            let x = rect.x + 1 + column * columnWidth
            let y = rect.y + row
            let width = columnWidth - (column == columns - 1 ? 0 : 2)
            let labelWidth = min(labelWidth, max(0, width / 2))
            canvas.text(item.label, x: x, y: y, width: labelWidth - 1, role: .statsLabel)
            let valueX = x + labelWidth
            let valueWidth = width - labelWidth
            if let fraction = item.gauge {
                drawGauge(fraction: fraction, label: item.value, x: valueX, y: y, width: valueWidth, canvas: canvas)
            } else {
                canvas.text(TextWidth.truncate(item.value, width: valueWidth), x: valueX, y: y, width: valueWidth, role: .statsValue)
            }
        }
    }

    /// "[█████░░░░░] 42%"
    static func drawGauge(fraction: Double, label: String, x: Int, y: Int, width: Int, canvas: Canvas) {
        let barWidth = max(0, width - TextWidth.of(label) - 1)
        guard barWidth >= 3 else {
            canvas.text(label, x: x, y: y, width: width, role: .statsValue)
            return
        }
        let clamped = min(1, max(0, fraction))
        // a cache that is used at all shows at least one cell
        var filled = Int((clamped * Double(barWidth)).rounded())
        if clamped > 0 && filled == 0 { filled = 1 }
        let (full, empty) = canvas.unicode ? ("█", "░") : ("#", ".")
        canvas.text(String(repeating: full, count: filled), x: x, y: y, width: filled, role: .gaugeFill)
        canvas.text(String(repeating: empty, count: barWidth - filled), x: x + filled, y: y, width: barWidth - filled, role: .gaugeEmpty)
        canvas.text(label, x: x + barWidth + 1, y: y, width: width - barWidth - 1, role: .statsValue)
    }
}
