// ServedModel: one model the server answers for — its id in requests, its chat format, and the
// InferenceContext its scheduler generates with — and how a request's messages or raw prompt
// become prompt tokens that fit its context.

import Foundation
import SiroccoEngine

/// A model served under an id (a catalog name or a file name), with its own contexts.
public final class ServedModel: Sendable {
    /// The `model` requests name, listed by `GET /v1/models`.
    public let id: String
    public let model: Model
    /// Each context's length in tokens: prompt and answer together.
    public let contextLength: Int
    /// The contexts requests run on, one each at a time: several answer concurrent requests
    /// together, one pass over the weights a step.
    let slots: [InferenceContext]
    let format: ChatFormat
    /// When the model file was last changed (the list's `created`), seconds since 1970.
    let created: Int

    /// Prepares `model` to be served as `id`: `parallel` contexts of `contextLength` tokens each,
    /// decoded together on `threads` threads; throws when the cache type does not fit the model.
    /// A cache takes memory only as its cells fill.
    public init(id: String, model: Model, contextLength: Int, threads: Int, cacheType: KVCacheType = .f16,
                parallel: Int = 1) throws {
        precondition(parallel >= 1)
        self.id = id
        self.model = model
        self.contextLength = contextLength
        let batcher = parallel > 1 ? SequenceBatcher(model: model, threads: threads) : nil
        slots = try (0..<parallel).map { _ in
            let context = try InferenceContext(model: model, contextLength: contextLength, threads: batcher == nil ? threads : 1,
                                               cacheType: cacheType)
            context.batcher = batcher
            return context
        }
        format = ChatFormat.forModel(model)
        let modified = (try? FileManager.default.attributesOfItem(atPath: model.file.path)[.modificationDate]) as? Date
        created = Int((modified ?? Date()).timeIntervalSince1970)
    }

    /// The prompt tokens of a conversation in the model's chat format.
    func chatPrompt(_ messages: [ChatMessage]) throws(APIError) -> [TokenID] {
        let tokens: [TokenID]
        do { tokens = try format.promptTokens(messages, tokenizer: model.tokenizer) } catch {
            throw .badRequest("The messages cannot be rendered with \(id)'s chat format: \(error)", code: "invalid_messages")
        }
        return try fitting(tokens)
    }

    /// The tokens of a raw prompt (BOS as the vocabulary asks; special tokens in the text parsed).
    func textPrompt(_ text: String) throws(APIError) -> [TokenID] {
        try fitting(model.tokenizer.encode(text, addSpecial: true, parseSpecial: true))
    }

    /// `tokens` if they leave room for at least one generated token.
    private func fitting(_ tokens: [TokenID]) throws(APIError) -> [TokenID] {
        guard !tokens.isEmpty else { throw .badRequest("The prompt is empty", code: "empty_prompt") }
        guard tokens.count < contextLength else {
            throw .badRequest("The prompt is \(tokens.count) tokens, but \(id)'s context holds \(contextLength) tokens (prompt and answer together); shorten the prompt or serve with a larger --ctx-size",
                              code: "context_length_exceeded")
        }
        return tokens
    }
}
