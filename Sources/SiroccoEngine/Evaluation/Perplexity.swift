// Perplexity: llama-perplexity's procedure over the engine's public InferenceContext. The text's
// tokens (with BOS if the vocabulary adds one) are cut into chunks of the context length; each chunk
// is evaluated from an empty cache with BOS in place of its first token (when the vocabulary adds
// BOS), and only the second half is scored — position i predicting token i + 1, for i from ctx/2 to
// ctx − 2 — so every scored token has at least half a context before it. It computes; it never prints.

/// Why a perplexity run cannot start; `description` is a one-line message.
public enum PerplexityError: Error, CustomStringConvertible, Equatable {
    case contextTooSmall(Int)
    case textTooShort(tokens: Int, contextLength: Int)
    case baseMismatch(path: String, reason: String)

    public var description: String {
        switch self {
        case let .contextTooSmall(n): return "the context length must be at least 4 tokens (got \(n))"
        case let .textTooShort(tokens, ctx):
            return "the text tokenizes to only \(tokens) tokens; a context of \(ctx) needs at least \(2 * ctx) (use a longer text or a smaller --ctx-size)"
        case let .baseMismatch(path, reason): return "\(path) does not fit this run: \(reason)"
        }
    }
}

/// The chunks a text is scored in.
public struct PerplexityChunks: Sendable {
    /// The text's tokens, as the tokenizer gives them (add_special, no special-token parsing).
    public let tokens: [TokenID]
    public let contextLength: Int
    public let chunkCount: Int
    /// Put in place of each chunk's first token, when the vocabulary adds BOS.
    public let bos: TokenID?

    /// Chunks of `tokens`; at most `maxChunks` of them. Needs at least two contexts of tokens, as llama.cpp.
    public init(tokens: [TokenID], contextLength: Int, maxChunks: Int? = nil, bos: TokenID?) throws(PerplexityError) {
        guard contextLength >= 4 else { throw .contextTooSmall(contextLength) }
        guard tokens.count >= 2 * contextLength else { throw .textTooShort(tokens: tokens.count, contextLength: contextLength) }
        self.tokens = tokens
        self.contextLength = contextLength
        chunkCount = min(tokens.count / contextLength, max(1, maxChunks ?? .max))
        self.bos = bos
    }

    /// The chunks of `tokenizer.encode(text)`, BOS as the tokenizer adds it.
    public init(text: String, tokenizer: Tokenizer, contextLength: Int, maxChunks: Int? = nil) throws(PerplexityError) {
        try self.init(tokens: tokenizer.encode(text, addSpecial: true, parseSpecial: false), contextLength: contextLength,
                      maxChunks: maxChunks, bos: tokenizer.addsBOS ? tokenizer.bos : nil)
    }

    /// The first scored position of a chunk.
    public var firstScored: Int { contextLength / 2 }
    /// Positions scored per chunk.
    public var scoredPerChunk: Int { contextLength - 1 - contextLength / 2 }
    /// The tokens the chunks cover, as a base file records them.
    public var chunkedTokens: [TokenID] { Array(tokens[0..<chunkCount * contextLength]) }

    /// The tokens evaluated for chunk `index` (BOS first when the vocabulary adds it).
    public func chunk(_ index: Int) -> [TokenID] {
        var chunk = Array(tokens[index * contextLength..<(index + 1) * contextLength])
        if let bos { chunk[0] = bos }
        return chunk
    }

    /// The header of a base file for these chunks.
    public func baseHeader(vocabularySize: Int) -> LogProbabilityFileHeader {
        LogProbabilityFileHeader(contextLength: contextLength, vocabularySize: vocabularySize, chunkCount: chunkCount,
                                 tokens: chunkedTokens)
    }

    /// Throws unless `base` was made from these tokens with this context and vocabulary size; its
    /// chunk count may be larger (the extra chunks are not read).
    public func check(base: LogProbabilityFileHeader, path: String, vocabularySize: Int) throws(PerplexityError) {
        guard base.vocabularySize == vocabularySize else {
            throw .baseMismatch(path: path, reason: "it was made with a vocabulary of \(base.vocabularySize) tokens, this model has \(vocabularySize)")
        }
        guard base.contextLength == contextLength else {
            throw .baseMismatch(path: path, reason: "it was made with a context of \(base.contextLength) tokens, this run uses \(contextLength) (--ctx-size)")
        }
        guard base.chunkCount >= chunkCount else {
            throw .baseMismatch(path: path, reason: "it holds \(base.chunkCount) chunks, this run needs \(chunkCount) (--chunks)")
        }
        guard Array(base.tokens.prefix(chunkCount * contextLength)) == chunkedTokens else {
            throw .baseMismatch(path: path, reason: "it was made from other tokens (another text or tokenizer)")
        }
    }
}

/// Runs the chunks through a context.
public enum PerplexityEvaluator {
    /// Scores every chunk with `context` (which must hold `chunks.contextLength` tokens); against
    /// `base` when given, writing this run's log-probabilities to `writer` when given.
    /// `onChunk(index, totals)` is called after each chunk.
    public static func run(_ chunks: PerplexityChunks, context: InferenceContext,
                           base: LogProbabilityReader? = nil, writer: LogProbabilityWriter? = nil,
                           onChunk: (Int, PerplexityAccumulator) -> Void = { _, _ in }) throws -> PerplexityAccumulator {
        var totals = PerplexityAccumulator()
        let first = chunks.firstScored
        for index in 0..<chunks.chunkCount {
            let input = chunks.chunk(index)
            context.reset()
            try context.evaluate(Array(input[..<first]))
            let rows = try context.evaluateAll(Array(input[first..<chunks.contextLength - 1]))
            for (k, logits) in rows.enumerated() {
                let next = input[first + k + 1]
                try logits.withUnsafeBufferPointer { logits in
                    if let base {
                        totals.add(logits: logits, next: next, base: try base.nextRow())
                    } else {
                        totals.add(logits: logits, next: next)
                    }
                    if let writer { try writer.append(QuantizedLogProbabilities(logits: logits)) }
                }
            }
            onChunk(index, totals)
        }
        return totals
    }
}
