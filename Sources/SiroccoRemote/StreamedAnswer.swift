// StreamedAnswer: a remote answer as its chunks arrive — the text (reasoning the server sends apart
// wrapped in `<think>` tags, as a local model writes it) and the statistics that can be known from
// here: time to first token, pieces per second, and the server's own counts when it sends them.

import SiroccoEngine

struct StreamedAnswer {
    private(set) var text = ""
    private let clock = ContinuousClock()
    private let start: ContinuousClock.Instant
    private var firstPiece: ContinuousClock.Instant?
    private var inReasoning = false
    private var pieces = 0
    private var reasoningPieces = 0
    private var usage: CompletionUsage?
    private var timings: ServerTimings?
    private var seed: UInt64?

    init(seed: UInt64?) {
        start = clock.now
        self.seed = seed
    }

    /// The text `chunk` adds, in pieces to show.
    mutating func take(_ chunk: ChatCompletionChunk) -> [String] {
        var out: [String] = []
        let delta = chunk.choices.first?.delta
        if let reasoning = delta?.reasoningContent, !reasoning.isEmpty {
            if !inReasoning { out.append(Reasoning.openTag + "\n") }
            inReasoning = true
            out.append(reasoning)
            reasoningPieces += 1
        }
        if let content = delta?.content, !content.isEmpty {
            if inReasoning { out.append("\n" + Reasoning.closeTag + "\n\n") }
            inReasoning = false
            out.append(content)
        }
        if !out.isEmpty {
            pieces += 1
            if firstPiece == nil { firstPiece = clock.now }
        }
        if let usage = chunk.usage { self.usage = usage }
        if let timings = chunk.timings { self.timings = timings }
        text += out.joined()
        return out
    }

    /// The statistics so far: pieces counted from the stream (one token each on llama-server and
    /// vLLM), over the time since the first; the server's prompt numbers when it sent them.
    var stats: GenerationStats {
        var s = GenerationStats()
        let now = clock.now
        s.seed = seed
        s.generatedTokens = pieces
        s.reasoningTokens = reasoningPieces
        if let firstPiece {
            s.timeToFirstToken = (firstPiece - start).seconds
            s.generationSeconds = (now - firstPiece).seconds
        }
        s.promptTokens = usage?.promptTokens ?? timings?.promptTokens ?? 0
        s.reusedTokens = timings?.cachedTokens ?? 0
        s.promptSeconds = timings?.promptMilliseconds.map { $0 / 1000 } ?? s.timeToFirstToken
        return s
    }

    /// The final statistics: the server's token count, when it sent one, over the streamed time.
    func finish() -> GenerationStats {
        var s = stats
        if let completion = usage?.completionTokens ?? timings?.predictedTokens, completion > 0 {
            s.generatedTokens = completion
        }
        return s
    }
}

extension Duration {
    var seconds: Double {
        let (whole, atto) = components
        return Double(whole) + Double(atto) / 1e18
    }
}
