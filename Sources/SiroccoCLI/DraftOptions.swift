// DraftOptions: --draft-model and its limits, shared by run, chat and bench (speculative decoding).

import ArgumentParser
import SiroccoEngine

struct DraftOptions: ParsableArguments {
    @Option(help: "A smaller model with the same vocabulary that drafts tokens for the model to check several at a time (speculative decoding): a catalog name or a GGUF path.")
    var draftModel: String?
    @Option(parsing: .unconditional, help: "The most tokens a draft proposes at once (1...64; fewer when its tokens are often rejected).")
    var draftMax = 16
    @Option(parsing: .unconditional, help: "Drafting stops at a token the draft gives less than this probability (0...1).")
    var draftPMin: Float = 0.5

    func validate() throws {
        guard (1...64).contains(draftMax) else { throw ValidationError("--draft-max must be between 1 and 64") }
        guard draftPMin.isFinite && (0...1).contains(draftPMin) else { throw ValidationError("--draft-p-min must be between 0 and 1") }
    }

    /// Loads the draft model for `target` (nil without --draft-model), or fails with one line.
    func load(for target: Model, contextLength: Int, threads: Int, cacheType: KVCacheType) throws -> SpeculativeDraft? {
        guard let name = draftModel else { return nil }
        if BackendLocation.isRemote(name) { throw CLIError("--draft-model needs a local model, not a server's URL") }
        let path = try ModelReference.path(for: name, pull: true)
        do {
            let model = try Model(path: path)
            let context = try InferenceContext(model: model, contextLength: contextLength, threads: threads, cacheType: cacheType)
            let draft = try SpeculativeDraft(context: context, target: target)
            draft.maxTokens = draftMax
            draft.minProbability = draftPMin
            return draft
        } catch let error as DraftVocabularyMismatch {
            throw CLIError("--draft-model \(name): \(error)")
        } catch {
            throw CLIError("--draft-model \(name): \(error)")
        }
    }
}
